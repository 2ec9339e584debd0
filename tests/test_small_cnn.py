"""Tests for the lab's small CNN: known answers by hand first, then the built model against its config."""

from dataclasses import replace
from itertools import product

import pytest
import torch
from torchvision.models.feature_extraction import create_feature_extractor

from models.blur_pool import BlurPool2d, binomial_filter
from models.geometry import small_cnn_fields
from models.polyphase import (
    AdaptivePolyphaseSampling2d,
    PaddedMaxPool2d,
    adaptive_polyphase_sampling,
    polyphase_components,
)
from models.small_cnn import (
    DOWNSAMPLES,
    HEADS,
    PADDINGS,
    SmallCNNConfig,
    build_small_cnn,
    cumulative_stride,
    feature_size,
    probe_layers,
    receptive_field,
)
from probes import measure_stride


def valid_configs() -> list[SmallCNNConfig]:
    """Every downsampling × padding × head, two blocks deep, small enough to run fast."""
    return [
        SmallCNNConfig(depth=2, width=4, hidden=8, downsample=d, padding=p, head=h, canvas=32)
        for d, p, h in product(DOWNSAMPLES, PADDINGS, HEADS)
    ]


@pytest.mark.parametrize("size, row", [(1, [1]), (2, [1, 1]), (3, [1, 2, 1]), (4, [1, 3, 3, 1]), (5, [1, 4, 6, 4, 1])])
def test_blur_filter_is_the_binomial_row_squared_and_sums_to_one(size, row):
    row = torch.tensor(row, dtype=torch.float32) / sum(row)
    assert torch.equal(binomial_filter(size), torch.outer(row, row))
    assert binomial_filter(size).sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("size", [0, 6])
def test_blur_filter_rejects_sizes_outside_1_to_5(size):
    with pytest.raises(ValueError, match="blur size must be 1..5"):
        binomial_filter(size)


def test_blur_pool_keeps_a_flat_map_flat_and_halves_its_side():
    flat = torch.full((1, 2, 8, 8), 0.7)  # (B, C, H, W)
    out = BlurPool2d(channels=2, size=4, stride=2, padding="reflect")(flat)  # (1, 2, 4, 4)
    assert out.shape == (1, 2, 4, 4)
    assert torch.allclose(out, torch.full_like(out, 0.7))


def test_blur_pool_of_size_one_is_plain_subsampling():
    x = torch.rand(1, 3, 8, 8)  # (B, C, H, W)
    assert torch.equal(BlurPool2d(channels=3, size=1)(x), x[:, :, ::2, ::2])


@pytest.mark.parametrize(
    "config, field, stride",
    [
        # conv 3 (r 3) → max 2/2 (r 4, j 2) → conv (r 8) → max (r 10, j 4) → conv (r 18) → max (r 22, j 8)
        (SmallCNNConfig(depth=3, downsample="max"), 22, 8),
        (SmallCNNConfig(depth=3, downsample="avg"), 22, 8),
        # stride-2 conv 3: r 3, j 2 → r 3 + 2·2 = 7, j 4 → r 7 + 2·4 = 15, j 8
        (SmallCNNConfig(depth=3, downsample="stride"), 15, 8),
        # conv (r 3) → max 2/1 (r 4) → blur 3/2 (r 6, j 2) → conv (r 10) → max (r 12) → blur (r 16, j 4)
        (SmallCNNConfig(depth=2, downsample="blur", blur_size=3), 16, 4),
        # blur of size 1 adds nothing but its stride: conv (3) → max 2/1 (4) → 1/2 (4, j 2) → conv (8) → max (10)
        (SmallCNNConfig(depth=2, downsample="blur", blur_size=1), 10, 4),
        # APS keeps one cell of each 2 × 2 (a 1-wide window): conv (3) → max 2/1 (4) → APS 1/2 (4, j 2) → conv (8)
        # → max (10) → APS (10, j 4), as blur of size 1
        (SmallCNNConfig(depth=2, downsample="aps"), 10, 4),
        # three 3×3 convs, no downsampling: 1 + 3·2 = 7
        (SmallCNNConfig(depth=3, downsample="none", head="gap"), 7, 1),
    ],
)
def test_receptive_field_and_cumulative_stride_match_hand_computed_values(config, field, stride):
    assert receptive_field(config) == field
    assert cumulative_stride(config) == stride


@pytest.mark.parametrize("downsample", ["avg", "stride", "none"])
def test_receptive_field_is_the_patch_that_reaches_a_central_cell(downsample):
    """With all-positive weights, every input pixel inside the receptive field changes the central cell
    of the last block, and no pixel outside it does: the gradient's support is a field × field square.
    (Max pooling, also inside blur pooling, passes the gradient to one pixel of each window only: left out.)"""
    config = SmallCNNConfig(depth=2, width=2, downsample=downsample, head="gap", padding="zeros", canvas=64)
    model = build_small_cnn(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(0.1)
    images = torch.ones(1, 3, 64, 64, requires_grad=True)  # (1, 3, H, W)
    maps = model.features(images)  # (1, C, h, w)
    maps[0, 0, maps.shape[2] // 2, maps.shape[3] // 2].backward()
    touched = images.grad[0].abs().sum(dim=0) > 0  # (H, W)
    rows, cols = touched.any(dim=1).nonzero(), touched.any(dim=0).nonzero()
    assert rows.max() - rows.min() + 1 == receptive_field(config)
    assert cols.max() - cols.min() + 1 == receptive_field(config)


@pytest.mark.parametrize("downsample", DOWNSAMPLES)
@pytest.mark.parametrize("depth", [1, 3, 5])
def test_the_receptive_field_measured_on_the_blocks_is_the_one_computed_from_the_config(downsample, depth):
    config = SmallCNNConfig(depth=depth, downsample=downsample, head="gap", canvas=64)
    fields = small_cnn_fields(config)
    assert [field.size for field in fields.values()] == [
        receptive_field(replace(config, depth=d)) for d in range(1, depth + 1)
    ]
    assert fields[f"features.{depth - 1}"].stride == cumulative_stride(config)


@pytest.mark.parametrize("config", valid_configs(), ids=str)
def test_model_maps_images_to_logits_and_probe_layers_have_the_computed_sizes(config):
    model = build_small_cnn(config).eval()
    images = torch.rand(2, 3, config.canvas, config.canvas)  # (B, 3, H, W)
    assert model(images).shape == (2, config.classes)
    extractor = create_feature_extractor(model, return_nodes=list(probe_layers(config)))
    maps = extractor(images)
    assert list(maps) == list(probe_layers(config))
    sides = [m.shape[-1] for m in maps.values()]
    assert sides == sorted(sides, reverse=True)  # shallow → deep: never larger
    assert sides[-1] == feature_size(config)


@pytest.mark.parametrize("downsample", DOWNSAMPLES)
@pytest.mark.parametrize("padding", ["zeros", "valid"])
def test_cumulative_stride_from_the_config_matches_the_stride_measured_on_the_model(downsample, padding):
    config = SmallCNNConfig(depth=3, width=2, downsample=downsample, padding=padding, head="gap", canvas=64)
    features = build_small_cnn(config).features
    with torch.no_grad():
        stride = measure_stride(lambda n: features(torch.zeros(1, 3, n, n)).shape[-1], base=64, step=64)
    assert stride == cumulative_stride(config)


def test_circular_padding_without_downsampling_and_a_gap_head_is_exactly_shift_invariant():
    config = SmallCNNConfig(depth=3, width=8, downsample="none", padding="circular", head="gap", canvas=32)
    model = build_small_cnn(config, seed=3).eval()
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))  # (B, 3, H, W)
    with torch.no_grad():
        logits = model(images)  # (B, classes)
        for shift in [(1, 0), (0, 1), (5, -11), (31, 17)]:
            shifted = torch.roll(images, shifts=shift, dims=(2, 3))  # circular shift of every image
            assert (model(shifted) - logits).abs().max() < 1e-5


# --- adaptive polyphase sampling (Chaman & Dokmanic 2021) ---


def test_the_polyphase_components_are_the_four_grids_of_every_second_cell():
    maps = torch.arange(2 * 3 * 6 * 4, dtype=torch.float32).reshape(2, 3, 6, 4)  # (B, C, H, W)
    components = polyphase_components(maps)  # (B, 4, C, 3, 2)
    assert components.shape == (2, 4, 3, 3, 2)
    for a, b in product(range(2), range(2)):
        assert torch.equal(components[:, 2 * a + b], maps[:, :, a::2, b::2])


def test_aps_keeps_for_each_image_the_component_of_largest_norm_over_all_channels():
    """Image 0 has its largest values on the odd rows and even columns, image 1 on the even rows and odd columns,
    in a different channel each time: each keeps exactly that component, in every channel."""
    maps = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))  # (B, C, H, W) in [0, 1)
    maps[0, 2, 1::2, 0::2] += 5
    maps[1, 0, 0::2, 1::2] += 5
    kept = adaptive_polyphase_sampling(maps)  # (B, C, 4, 4)
    assert torch.equal(kept[0], maps[0, :, 1::2, 0::2]) and torch.equal(kept[1], maps[1, :, 0::2, 1::2])


@pytest.mark.parametrize("shift", [(0, 1), (1, 0), (1, 1), (3, 6), (7, 5)])
def test_aps_of_a_circularly_shifted_map_is_the_same_component_moved_by_whole_cells(shift):
    """Shifting the map by (dy, dx) moves the component it keeps by ⌊(phase + d) / 2⌋ cells, whatever the phase:
    the result is the first result rolled, to the bit. Plain subsampling ([::2, ::2]) instead changes for odd shifts."""
    maps = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))  # (B, C, H, W)
    kept, moved = adaptive_polyphase_sampling(maps), adaptive_polyphase_sampling(torch.roll(maps, shift, dims=(2, 3)))
    rolled_back = [
        any(torch.equal(torch.roll(kept[i], cells, dims=(1, 2)), moved[i]) for cells in product(range(4), range(4)))
        for i in range(4)
    ]
    assert all(rolled_back)
    subsampled = maps[:, :, ::2, ::2]
    plain = torch.roll(maps, shift, dims=(2, 3))[:, :, ::2, ::2]
    if shift[0] % 2 or shift[1] % 2:
        assert not any(torch.equal(torch.roll(subsampled, c, dims=(2, 3)), plain) for c in product(range(4), range(4)))


def test_the_stride_1_max_pool_before_aps_keeps_the_size_and_wraps_round_with_circular_padding():
    maps = torch.rand(1, 2, 6, 6)  # (B, C, H, W)
    wrapped = PaddedMaxPool2d("circular")(maps)
    assert wrapped.shape == maps.shape
    assert torch.equal(
        wrapped[..., -1, -1],
        torch.stack([maps[..., -1, -1], maps[..., -1, 0], maps[..., 0, -1], maps[..., 0, 0]]).amax(dim=0),
    )
    assert PaddedMaxPool2d("valid")(maps).shape == (1, 2, 5, 5)


def test_aps_gives_an_odd_side_one_more_cell_and_halves_it_rounding_up():
    assert AdaptivePolyphaseSampling2d("zeros")(torch.rand(1, 2, 7, 5)).shape == (1, 2, 4, 3)
    assert AdaptivePolyphaseSampling2d("valid")(torch.rand(1, 2, 7, 8)).shape == (1, 2, 4, 4)


CIRCULAR_SHIFTS = [(1, 0), (0, 1), (1, 1), (3, -5), (5, -11), (31, 17)]  # odd ones too: any offset, not multiples of 8


def shift_spread(config: SmallCNNConfig) -> float:
    """The largest change of a random network's logits, relative to their size, when its (random) input images
    are circularly shifted by each of CIRCULAR_SHIFTS."""
    model = build_small_cnn(config, seed=3).eval()
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))  # (B, 3, H, W)
    with torch.no_grad():
        logits = model(images)  # (B, classes)
        changes = [(model(torch.roll(images, s, dims=(2, 3))) - logits).abs().max() for s in CIRCULAR_SHIFTS]
    return float(max(changes) / logits.abs().max())


APS_NETWORK = SmallCNNConfig(depth=3, width=8, downsample="aps", padding="circular", head="gap", canvas=32)


def test_circular_padding_aps_and_a_gap_head_make_a_network_exactly_invariant_to_every_circular_shift():
    """Chaman & Dokmanic's claim: downsampled 8 times over, yet the logits are the same to float rounding for any
    circular shift of the input (every map has even sides: 32, 16, 8, 4 cells)."""
    assert shift_spread(APS_NETWORK) < 1e-5


@pytest.mark.parametrize(
    "changed",
    [
        {"downsample": "max"},  # pooling on a fixed grid aliases
        {"downsample": "blur"},  # blurring first aliases less, but still
        {"padding": "zeros"},  # the zero border does not move with a circular shift
        {"head": "flatten"},  # a weight for every cell: the whole-cell moves APS leaves still matter
    ],
)
def test_without_any_one_of_circular_padding_aps_and_a_gap_head_the_network_is_not_invariant(changed):
    assert shift_spread(replace(APS_NETWORK, **changed)) > 1e-2


def test_zero_padding_with_a_flatten_head_is_not_shift_invariant():
    config = SmallCNNConfig(depth=3, width=8, downsample="none", padding="zeros", head="flatten", hidden=8, canvas=32)
    model = build_small_cnn(config, seed=3).eval()
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))  # (B, 3, H, W)
    with torch.no_grad():
        assert (model(torch.roll(images, shifts=(5, -11), dims=(2, 3))) - model(images)).abs().max() > 1e-2


def test_same_seed_gives_the_same_weights_and_another_seed_other_weights():
    config = SmallCNNConfig(depth=2, width=4, hidden=8)
    first, again, other = build_small_cnn(config, 7), build_small_cnn(config, 7), build_small_cnn(config, 8)
    for (name, a), b, c in zip(
        first.state_dict().items(), again.state_dict().values(), other.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
        if name.endswith("weight"):
            assert not torch.equal(a, c), name


def test_building_a_model_does_not_touch_the_global_random_state():
    before = torch.get_rng_state()
    build_small_cnn(SmallCNNConfig(downsample="blur"), seed=1)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"padding": "valid", "depth": 6, "canvas": 32}, "shrink a 32-pixel canvas to nothing"),
        ({"downsample": "max", "depth": 6, "canvas": 16}, "shrink a 16-pixel canvas to nothing"),
        ({"padding": "reflect", "downsample": "blur", "blur_size": 5, "depth": 5, "canvas": 16}, "reflect padding"),
        ({"downsample": "none", "canvas": 256, "width": 128}, "flatten head would need"),
        ({"depth": 0}, "depth must be a whole number from 1 to 6"),
        ({"width": 2.5}, "width must be a whole number"),
        ({"blur_size": 6}, "blur_size must be a whole number from 1 to 5"),
        ({"padding": "mirror"}, "unknown padding 'mirror'"),
        ({"head": "dense"}, "unknown head 'dense'; choose one of flatten, gap, conv"),
    ],
)
def test_config_rejects_impossible_architectures_in_plain_words(fields, message):
    with pytest.raises(ValueError, match=message):
        SmallCNNConfig(**fields)
