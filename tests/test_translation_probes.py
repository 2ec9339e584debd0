"""Translation probes (shift, equivariance, invariance, stride) on cases whose right answer is known."""

from __future__ import annotations

import functools
import itertools
import math
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from models import Network, load_network
from models.geometry import imagenet_fields
from probes import (
    Invariance,
    LayerReport,
    ReceptiveField,
    aligned,
    cosine_similarity,
    counted_cells,
    equivariance_error,
    estimate_shift,
    fractional_shifts,
    invariance,
    layer_report,
    measure_receptive_field,
    measure_stride,
    pooled_cosine_similarity,
    shift_fractional,
    shift_image,
)
from probes.layer_profile import layer_profile
from scene import compose, load_object, make_background, to_tensor

from .conftest import SHARED_WEIGHTS

SHIFTS = [(0, 0), (3, -5), (-7, 11), (16, 1), (-15, -2)]  # on a 32 x 32 map; circular range is (-16, 16]


def relu_convs(channels: tuple[int, ...], padding_mode: str, stride: int = 1) -> nn.Sequential:
    """3 x 3 conv + ReLU blocks with padding 1 and fixed random weights (seed 0), one block per channel step."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        blocks = [
            nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, padding=1, padding_mode=padding_mode), nn.ReLU())
            for c_in, c_out in itertools.pairwise(channels)
        ]
    return nn.Sequential(*blocks).requires_grad_(False)


def block_outputs(net: nn.Sequential, image: torch.Tensor) -> list[torch.Tensor]:
    """Every block's output for one image (3, H, W): a list of (C, h, w)."""
    outputs, x = [], image[None]  # (1, 3, H, W)
    for block in net:
        x = block(x)  # (1, C, h, w)
        outputs.append(x[0])
    return outputs


def noise(h: int, w: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(3, h, w, generator=torch.Generator().manual_seed(seed))  # (3, H, W)


@functools.cache
def scratch(name: str) -> Network:
    return load_network(name, "scratch")


@functools.cache
def layer_heights(name: str, n: int) -> dict[str, int]:
    """Each probe layer's feature-map height for an n x n input, one forward shared by every layer."""
    network = scratch(name)
    activations = network(torch.zeros(1, 3, n, n))  # {layer: (1, C, h, w)}
    return {layer: activations[layer].shape[-2] for layer in network.layers}


def test_shift_image_moves_content_down_right_and_zero_fills_or_wraps():
    x = torch.arange(1.0, 10.0).reshape(3, 3)
    assert shift_image(x, 1, 0).tolist() == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]
    assert shift_image(x, 0, -1).tolist() == [[2, 3, 0], [5, 6, 0], [8, 9, 0]]
    assert shift_image(x, 1, 0, circular=True).tolist() == [[7, 8, 9], [1, 2, 3], [4, 5, 6]]
    assert not shift_image(x, 3, 0).any()  # shifted right out of the frame
    assert shift_image(torch.ones(2, 4, 3, 3, dtype=torch.bool), 1, 1).sum() == 2 * 4 * 4


@pytest.mark.parametrize("shift", SHIFTS)
def test_circular_convs_are_exactly_equivariant_and_the_shift_is_recovered(shift: tuple[int, int]):
    net = relu_convs((3, 8, 8, 8), "circular")
    image = noise(32, 32)
    for f_reference, f_moved in zip(
        block_outputs(net, image), block_outputs(net, shift_image(image, *shift, circular=True)), strict=True
    ):
        assert equivariance_error(f_reference, f_moved, shift) < 1e-5
        assert estimate_shift(f_reference, f_moved, circular=True) == shift


@pytest.mark.parametrize("shift", SHIFTS)
def test_global_average_pool_head_on_circular_convs_is_invariant(shift: tuple[int, int]):
    net = relu_convs((3, 8, 8, 8), "circular")
    image = noise(32, 32)
    f_reference = net(image[None])[0]  # (C, H, W)
    f_moved = net(shift_image(image, *shift, circular=True)[None])[0]  # (C, H, W)
    assert pooled_cosine_similarity(f_reference, f_moved) == pytest.approx(1.0, abs=1e-6)
    assert (f_reference.mean(dim=(1, 2)) - f_moved.mean(dim=(1, 2))).abs().max() < 1e-5


@pytest.mark.parametrize("shift", [(2, 4), (-6, 2), (0, -8)])
def test_stride_2_conv_is_equivariant_for_even_shifts_in_cells_of_half_the_shift(shift: tuple[int, int]):
    conv = relu_convs((3, 8), "circular", stride=2)
    image = noise(32, 32)
    f_reference, f_moved = conv(image[None])[0], conv(shift_image(image, *shift, circular=True)[None])[0]  # (8, 16, 16)
    cells = (shift[0] // 2, shift[1] // 2)
    assert aligned(shift[0], 2) and aligned(shift[1], 2)
    assert equivariance_error(f_reference, f_moved, cells) < 1e-5
    assert estimate_shift(f_reference, f_moved, circular=True) == cells


@pytest.mark.parametrize("shift", [(1, 0), (0, 1), (3, 5), (-1, -3)])
def test_stride_2_conv_aliases_odd_shifts_whatever_the_cell_shift_guessed(shift: tuple[int, int]):
    conv = relu_convs((3, 8), "circular", stride=2)
    image = noise(32, 32)
    f_reference, f_moved = conv(image[None])[0], conv(shift_image(image, *shift, circular=True)[None])[0]  # (8, 16, 16)
    assert not (aligned(shift[0], 2) and aligned(shift[1], 2))
    guesses = [(gy, gx) for gy in range(-8, 9) for gx in range(-8, 9)]
    assert min(equivariance_error(f_reference, f_moved, guess) for guess in guesses) > 1e-2


def test_flatten_fc_head_depends_on_position_while_global_average_pool_head_does_not():
    net = relu_convs((3, 8, 8), "circular")
    image = noise(16, 16)
    f_reference, f_moved = net(image[None]), net(shift_image(image, 3, -2, circular=True)[None])  # (1, 8, 16, 16)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        fc_head = nn.Sequential(nn.Flatten(), nn.Linear(8 * 16 * 16, 10)).requires_grad_(False)
        gap_head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)).requires_grad_(False)

    def relative_change(head: nn.Module) -> float:
        return float((head(f_moved) - head(f_reference)).norm() / head(f_reference).norm())

    assert relative_change(fc_head) > 0.1
    assert relative_change(gap_head) < 1e-5


def all_inside(field: ReceptiveField, size: int) -> torch.Tensor:
    """(size, size) bool: the cells of a square map on a `size`-pixel input that see no padding."""
    inside = field.inside(size, size)  # (size,)
    return inside[:, None] & inside[None, :]


@pytest.mark.parametrize("shift", [(2, 3), (-3, 1), (4, -4)])
def test_zero_padded_convs_are_equivariant_exactly_on_the_cells_whose_receptive_field_is_inside(shift):
    # block k of 3 x 3 convs sees k input cells each way: the cells whose field stays inside the image (in
    # both frames) never see zero padding or vacated input; with a field one pixel too small, some do
    net = relu_convs((3, 8, 8, 8), "zeros")
    image = noise(24, 24)
    outputs = zip(block_outputs(net, image), block_outputs(net, shift_image(image, *shift)), strict=True)
    for depth, (f_reference, f_moved) in enumerate(outputs, start=1):
        field = measure_receptive_field(net[:depth], stride=1)
        assert (field.first, field.last, field.size) == (-depth, depth, 2 * depth + 1)
        assert equivariance_error(f_reference, f_moved, shift, all_inside(field, 24)) < 1e-5
        too_small = ReceptiveField(1, 1 - depth, depth - 1)
        assert equivariance_error(f_reference, f_moved, shift, all_inside(too_small, 24)) > 1e-2


def test_equivariance_error_is_nan_when_no_cell_is_left_to_compare():
    f = torch.rand(2, 6, 6)
    assert math.isnan(equivariance_error(f, f, (0, 0), torch.zeros(6, 6, dtype=torch.bool)))  # all see the border
    assert math.isnan(equivariance_error(f, f, (6, 0)))  # everything shifted out of the frame


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.floats(-3, 3).map(lambda v: round(v * 4) / 4),
    st.floats(-3, 3).map(lambda v: round(v * 4) / 4),
)
def test_equivariance_error_is_its_formula_with_the_interpolated_shift_on_the_counted_cells(seed, dy, dx):
    """The error gathers only the counted cells' sources; the same number comes from moving the whole maps
    with shift_fractional and comparing them on the counted cells."""
    generator = torch.Generator().manual_seed(seed)
    f_reference, f_moved = torch.randn(2, 3, 9, 11, generator=generator)
    inside = torch.rand(9, 11, generator=generator) > 0.2
    counted = counted_cells(inside, (dy, dx))
    expected = shift_fractional(f_reference, dy, dx)[..., counted]
    by_formula = float((f_moved[..., counted] - expected).double().norm() / expected.double().norm())
    measured = equivariance_error(f_reference, f_moved, (dy, dx), inside)
    assert measured == pytest.approx(by_formula, rel=1e-5, nan_ok=True)


def test_a_fractional_shift_interpolates_linearly_between_the_whole_cell_shifts_either_side():
    ramp = torch.tensor([[0.0, 1.0, 2.0, 3.0]])  # (1, 4)
    assert shift_fractional(ramp, 0, 0.5).tolist() == [[0.0, 0.5, 1.5, 2.5]]
    assert shift_fractional(ramp, 0, -1.25).flatten().tolist() == pytest.approx([1.25, 2.25, 2.25, 0.0])  # vacated: 0
    assert torch.equal(shift_fractional(ramp, 0, 2), shift_image(ramp, 0, 2))
    assert fractional_shifts(0.25, 2.0) == [(0.75, 0, 2), (0.25, 1, 2)]
    # a cell counts only if every cell it is interpolated from is inside: half a cell right needs two
    inside = torch.tensor([[True, True, True, False]])
    assert counted_cells(inside, (0, 0.5)).tolist() == [[False, True, True, False]]


def test_a_smooth_map_moved_by_a_fraction_of_a_cell_is_measured_to_a_twentieth_of_a_cell():
    rows, columns = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")  # (32, 32) each

    def blob(y: float, x: float) -> torch.Tensor:
        return torch.exp(-((rows - y) ** 2 + (columns - x) ** 2) / 8)  # (32, 32)

    for dy, dx in [(0.5, 0.0), (0.25, -1.75), (-3.6, 2.35), (0.0, 0.0)]:
        measured = estimate_shift(blob(15, 14), blob(15 + dy, 14 + dx))
        assert measured == pytest.approx((dy, dx), abs=0.05)


def test_the_receptive_field_says_which_cells_see_only_the_canvas():
    field = imagenet_fields("mobilenet_v2")["features.13.add"]
    assert field == ReceptiveField(stride=16, first=-133, last=133)  # measured on the model
    assert field.size == 267 and not field.fits(224) and field.fits(448)
    assert field.inside(28, 448).nonzero().flatten().tolist() == list(range(9, 20))  # 9·16 − 133 ≥ 0, 19·16 + 133 < 448
    assert ReceptiveField(2, -1, 1).fits(4) and not ReceptiveField(2, -1, 1).fits(3)
    assert ReceptiveField(2, 0, 2).inside(3, 5).tolist() == [True, True, False]  # cell 2 would need pixels 4..6


@pytest.mark.parametrize(
    ("model", "layer", "stride"),
    [
        ("resnet18", "relu", 2),  # conv1 7x7 stride 2
        ("resnet18", "maxpool", 4),  # conv1 stride 2, max-pool stride 2
        ("resnet18", "layer4.1.relu_1", 32),  # then layer2, layer3, layer4 each halve
        ("mobilenet_v2", "features.18", 32),  # five stride-2 stages
        ("squeezenet1_1", "features.1", 2),  # 3x3 stride 2, no padding: h(224) = 111, h(480) = 239
        ("squeezenet1_1", "features.12.cat", 16),  # conv stride 2, max-pools features.2, .5, .8: h 13 -> 29
    ],
)
def test_measured_stride_of_real_models_matches_their_architecture(model: str, layer: str, stride: int):
    assert measure_stride(lambda n: layer_heights(model, n)[layer]) == stride


def test_measured_stride_of_a_formula_and_refusals_when_no_stride_fits():
    assert measure_stride(lambda n: (n + 2 - 3) // 8 + 1) == 8  # 3x3 conv, padding 1, stride 8
    assert measure_stride(lambda n: n // 3, step=255) == 3
    with pytest.raises(ValueError):
        measure_stride(lambda n: n // 3)  # 256 is no multiple of 3: grows by 86 cells
    with pytest.raises(ValueError):
        measure_stride(lambda n: 1)  # after a global pool nothing grows


def test_aligned_means_a_whole_number_of_cells():
    assert aligned(64, 32) and aligned(-32, 32) and aligned(0, 4)
    assert not aligned(16, 32) and not aligned(-1, 2)


def test_estimate_shift_says_nothing_for_maps_without_structure():
    assert estimate_shift(torch.full((3, 8, 8), 0.7), torch.full((3, 8, 8), 0.7)) is None
    assert estimate_shift(torch.full((8, 8), 0.1), torch.zeros(8, 8), circular=True) is None


@settings(max_examples=30, deadline=None)
@given(
    channels=st.integers(1, 4),
    h=st.integers(4, 24),
    w=st.integers(4, 24),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_estimate_shift_recovers_any_circular_shift_of_random_maps(channels, h, w, seed, data):
    reference = torch.randn(channels, h, w, generator=torch.Generator().manual_seed(seed))  # (C, H, W)
    shift = (data.draw(st.integers(-((h - 1) // 2), h // 2)), data.draw(st.integers(-((w - 1) // 2), w // 2)))
    assert estimate_shift(reference, shift_image(reference, *shift, circular=True), circular=True) == shift


@settings(max_examples=30, deadline=None)
@given(
    channels=st.integers(1, 4),
    size=st.tuples(st.integers(8, 32), st.integers(8, 32)),
    blob_size=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    background=st.just(0.0) | st.floats(0.0, 3.0),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_estimate_shift_recovers_a_blob_moved_in_frame_on_a_constant_background(
    channels, size, blob_size, background, seed, data
):
    # the blob moves by a zero-filled shift, the background stays (a ReLU map's floor). Without subtracting
    # each map's mean, a positive background's overlap ramp peaks at (0, 0) and wins.
    (h, w), (bh, bw) = size, blob_size
    top, left = data.draw(st.integers(0, h - bh)), data.draw(st.integers(0, w - bw))
    shift = (data.draw(st.integers(-top, h - bh - top)), data.draw(st.integers(-left, w - bw - left)))
    blob = torch.zeros(channels, h, w)  # (C, H, W)
    blob[:, top : top + bh, left : left + bw] = 0.5 + torch.rand(
        channels, bh, bw, generator=torch.Generator().manual_seed(seed)
    )
    reference = background + blob  # (C, H, W)
    moved = background + shift_image(blob, *shift)  # (C, H, W)
    # to a tenth of a cell: the sub-cell peak of a hard-edged blob a few cells wide may sit 0.05 off the whole shift
    assert estimate_shift(reference, moved) == pytest.approx(shift, abs=0.1)
    assert estimate_shift(reference[0], moved[0]) == pytest.approx(shift, abs=0.1)  # one (H, W) map


def test_cosine_similarities_flat_and_pooled():
    a = torch.randn(4, 5, 5, generator=torch.Generator().manual_seed(0))  # (4, 5, 5)
    assert cosine_similarity(a, 2 * a) == pytest.approx(1.0)
    assert cosine_similarity(a, -a) == pytest.approx(-1.0)
    flipped = a.flip(-1)  # same channel means, different layout
    assert pooled_cosine_similarity(a, flipped) == pytest.approx(1.0)
    assert cosine_similarity(a, flipped) < 0.9


def test_normalised_invariance_is_1_for_the_unmoved_object_0_for_another_object_nan_without_baseline():
    generator = torch.Generator().manual_seed(0)
    reference, other = torch.randn(8, 6, 6, generator=generator), torch.randn(8, 6, 6, generator=generator)
    for pooled in (True, False):
        assert invariance(reference, reference, other, pooled).normalised == pytest.approx(1.0)
        assert invariance(reference, other, other, pooled).normalised == pytest.approx(0.0)
        assert math.isnan(invariance(reference, other, reference, pooled).normalised)
    assert Invariance(same=0.9, baseline=0.8).normalised == pytest.approx(0.5)


def test_a_baseline_near_1_leaves_no_room_for_a_normalised_similarity():
    # the cases: 0.996 vs 0.998 gave −1.60, a difference in the third decimal blown up
    assert not Invariance(same=0.996, baseline=0.998).has_room
    assert math.isnan(Invariance(same=0.996, baseline=0.998).normalised)
    assert Invariance(same=0.97, baseline=0.95).has_room  # 1 − baseline = 0.05: just enough
    assert Invariance(same=0.97, baseline=0.95).normalised == pytest.approx(0.4)


def test_scratch_mobilenet_finds_different_objects_as_similar_as_a_moved_one_so_show_normalised_not_same():
    # facts §5: a randomly initialised net maps every input to nearly the same pooled vector
    yy, xx = torch.meshgrid(torch.arange(224), torch.arange(224), indexing="ij")  # (224, 224) each

    def on_black(shape: torch.Tensor, colour: tuple[float, float, float]) -> torch.Tensor:
        return shape * torch.tensor(colour)[:, None, None]  # (3, 224, 224)

    square = on_black((abs(yy - 112) < 32) & (abs(xx - 112) < 32), (1.0, 1.0, 1.0))
    disc = on_black((yy - 112) ** 2 + (xx - 112) ** 2 < 30**2, (0.9, 0.3, 0.1))  # another object, same place
    images = torch.stack([square, shift_image(square, 32, 32), disc])  # (3, 3, 224, 224)
    f_square, f_moved, f_disc = scratch("mobilenet_v2")(images)["features.18"]  # (1280, 7, 7) each
    result = invariance(f_square, f_moved, f_disc, pooled=True)
    assert result.baseline > 0.99  # a square and a disc: "the same" to this net
    assert result.same > 0.99  # so a high `same` says nothing
    assert not result.has_room and math.isnan(result.normalised)  # shown as "alike", never as a normalised value


@functools.cache
def star_outputs(variant: str, weights: str | None, dx: int, dy: int) -> dict[str, torch.Tensor]:
    """MobileNetV2's outputs for lesson 1's star (64 px, black 224-px canvas) at (112 + dx, 112 + dy);
    dx = dy = None-like (−999, −999) for the empty canvas."""
    network = scratch("mobilenet_v2") if variant == "scratch" else pretrained_mobilenet(weights)
    canvas = make_background("black", 224)
    image = canvas if dx == -999 else compose(canvas, load_object("star", 64), 112 + dx, 112 + dy)
    return {layer: maps[0] for layer, maps in network(to_tensor(image)[None]).items()}


@functools.cache
def pretrained_mobilenet(weights: str) -> Network:
    return load_network("mobilenet_v2", "pretrained", weights_folder=Path(weights), allow_download=False)


def star_report(variant: str, weights: str | None, layer: str, dx: int, dy: int) -> LayerReport:
    maps = [star_outputs(variant, weights, *move) for move in ((0, 0), (dx, dy), (0, 0), (-999, -999))]
    field = imagenet_fields("mobilenet_v2")[layer]
    return layer_report(*(m[layer] for m in maps), dx, dy, field, 224)


def model_variants(request) -> list[tuple[str, str | None]]:
    """The scratch twin always; the pretrained model too when real weights are here (said in the test's output)."""
    if (SHARED_WEIGHTS / "mobilenet_v2.pth").is_file():
        return [("scratch", None), ("pretrained", str(SHARED_WEIGHTS))]
    print(f"{request.node.name}: the scratch twin only, no real weights in {SHARED_WEIGHTS}")
    return [("scratch", None)]


def test_the_scratch_twins_maps_are_measured_moving_with_the_object_not_with_the_canvas_edge(request):
    # issue 12: features.6.add, star moved (+40, +20) px read "moved by (+0, +0)" for the scratch twin: the
    # correlation locked onto the response to the canvas edge, which never moves
    raw = estimate_shift(
        star_outputs("scratch", None, 0, 0)["features.6.add"], star_outputs("scratch", None, 40, 20)["features.6.add"]
    )
    assert raw == pytest.approx((0.0, 0.0), abs=0.1)  # the raw maps' frame wins
    for variant, weights in model_variants(request):
        report = star_report(variant, weights, "features.6.add", 40, 20)
        assert report.expected_cells == (5.0, 2.5)
        assert report.measured_cells == pytest.approx((5.0, 2.5), abs=0.1), variant


def test_an_equivariant_layer_plots_on_y_equals_x_without_a_staircase(request):
    for variant, weights in model_variants(request):
        for dx in range(17):  # half cells included: the stride is 2
            report = star_report(variant, weights, "features.0", dx, 0)
            assert report.measured_cells == pytest.approx((dx / 2, 0.0), abs=0.05), (variant, dx)
            if dx % 2 == 0:  # whole cells, away from the border: exact
                assert report.equivariance_error < 1e-4 and report.cells_compared > 9000, (variant, dx)


def test_a_layer_profile_of_circular_convs_is_flat_exactly_and_its_baseline_is_another_objects():
    # objects are noise images moved circularly: with circular padding a stride-1 conv stack is exactly
    # equivariant, and its pooled output exactly invariant, at every distance
    net = relu_convs((3, 8, 8), "circular")
    images = {seed: noise(24, 24, seed) for seed in (1, 2)}

    def outputs_of(batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return dict(zip(("block1", "block2"), block_outputs_batch(net, batch), strict=True))

    def scene_at(obj, x: int, y: int) -> torch.Tensor:
        return torch.zeros(3, 24, 24) if obj is None else shift_image(images[obj], y - 12, x - 12, circular=True)

    fields = {layer: ReceptiveField(1, -depth, depth) for depth, layer in enumerate(("block1", "block2"), start=1)}
    profile = layer_profile(outputs_of, scene_at, [1, 2], [2, 1], [0, 3, 5], (12, 12), fields, canvas=24, batch_size=4)
    for layer in fields:
        assert profile.values[layer]["pooled"].shape == (2 * 4, 3)  # objects × directions, distances
        assert torch.allclose(profile.mean(layer, "pooled"), torch.ones(3, dtype=torch.float64), atol=1e-6)
        assert profile.mean(layer, "equivariance_error").max() < 1e-5
        assert (
            profile.mean(layer, "whole_maps")[0] == pytest.approx(1.0) and profile.mean(layer, "whole_maps")[2] < 0.99
        )
        expected = [pooled_cosine_similarity(*(outputs_of(torch.stack([images[1], images[2]]))[layer])), math.nan]
        assert profile.baselines[layer]["pooled"][0] == pytest.approx(expected[0])


def block_outputs_batch(net: nn.Sequential, images: torch.Tensor) -> list[torch.Tensor]:
    """Every block's output for a batch (B, 3, H, W): a list of (B, C, h, w)."""
    outputs, x = [], images
    for block in net:
        x = block(x)
        outputs.append(x)
    return outputs
