"""Probes and live-view pictures, on inputs whose right answer is known exactly."""

from __future__ import annotations

import base64
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from models import load_network, run_side_by_side
from probes import (
    ReceptiveField,
    class_probability,
    colour_range,
    flip_rate,
    flips,
    grid_positions,
    layer_report,
    most_active_channels,
    random_shift_pairs,
    score_map,
    shift_consistency,
    shift_image,
    top_k,
)
from ui.figures import NOW_COLOUR, TILE_PX, feature_mosaic, line_svg, top5_html
from ui.live_view import path_lengths
from ui.measurements import cells, tenths


def test_top_k_gives_softmax_probabilities_most_probable_first():
    logits = torch.log(torch.tensor([0.1, 0.6, 0.3]))
    assert [i for i, _ in top_k(logits, 3)] == [1, 2, 0]
    assert [p for _, p in top_k(logits, 3)] == pytest.approx([0.6, 0.3, 0.1])
    assert class_probability(logits, 2) == pytest.approx(0.3)


def test_most_active_channels_rank_by_mean_activation():
    fmap = torch.zeros(5, 4, 4)
    fmap[3] = 2.0
    fmap[1, 0, 0] = 16.0  # mean 1.0
    fmap[4] = 0.5
    assert most_active_channels(fmap, 3) == [3, 1, 4]
    assert sorted(most_active_channels(fmap, 99)) == [0, 1, 2, 3, 4]  # k larger than C: all of them


def test_colour_range_spans_the_chosen_channels_and_never_collapses():
    fmap = torch.stack([torch.full((2, 2), -1.0), torch.full((2, 2), 3.0), torch.full((2, 2), 100.0)])
    assert colour_range(fmap, [0, 1]) == (-1.0, 3.0)
    assert colour_range(fmap, [2]) == (100.0, 101.0)


def test_feature_mosaic_draws_each_cell_as_one_solid_block():
    fmap = torch.zeros(1, 4, 4)
    fmap[0, 1, 2] = 1.0  # one hot cell at row 1, column 2
    mosaic = np.asarray(feature_mosaic(fmap, [0], (0.0, 1.0)).convert("RGB"))
    block = round(TILE_PX / 4)
    hot = mosaic[:, : 4 * block].any(axis=2) & (mosaic[:, : 4 * block] != mosaic[0, 0]).any(axis=2)
    rows, cols = np.nonzero(hot)
    assert (rows.min(), rows.max() + 1) == (block, 2 * block)
    assert (cols.min(), cols.max() + 1) == (2 * block, 3 * block)


def test_feature_mosaic_clips_values_outside_the_shared_scale():
    fmap = torch.tensor([[[-5.0, 0.0], [1.0, 9.0]]])
    mosaic = np.asarray(feature_mosaic(fmap, [0], (0.0, 1.0)).convert("RGB"))
    block = round(TILE_PX / 2)
    assert (mosaic[0, 0] == mosaic[0, block]).all()  # -5 drawn as 0
    assert (mosaic[block, 0] == mosaic[block, block]).all()  # 9 drawn as 1


def test_class_names_are_escaped_in_html():
    html = top5_html([("<script>", 0.5)]) + line_svg({"<b>": [0.1, None, 0.3]}, [0, 1, 2], "<i>")
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html


def test_models_side_by_side_give_the_same_outputs_as_one_after_another():
    nets = {seed: load_network("squeezenet1_1", "scratch", seed=seed) for seed in (0, 1)}
    images = torch.rand(1, 3, 96, 96)
    together = run_side_by_side(nets, images)
    for seed, net in nets.items():
        alone = net(images)
        assert all(torch.equal(together[seed][key], alone[key]) for key in alone)


def test_probes_and_models_do_not_import_streamlit():
    code = "import sys, models, probes, scene; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_top_k_probabilities_are_a_distribution():
    probabilities = [p for _, p in top_k(torch.randn(1000), 1000)]
    assert math.isclose(sum(probabilities), 1.0, rel_tol=1e-9)


def test_grid_positions_are_evenly_spaced_and_centred_on_the_canvas():
    assert grid_positions(224, 32) == (15, 47, 79, 111, 143, 175, 207)
    assert grid_positions(9, 4) == (0, 4, 8)


def test_score_map_reads_each_position_from_its_own_scene():
    """A fake model whose logit for class 1 is the image's mean: the map is the scene's mean at each point."""
    positions = (0, 5, 10)
    scene = lambda x, y: torch.full((3, 4, 4), float(x + 10 * y))  # noqa: E731
    logits = lambda images: torch.stack([torch.zeros(len(images)), images.mean(dim=(1, 2, 3)) / 100], dim=1)  # noqa: E731
    seen = []
    scores = score_map(logits, scene, positions, class_index=1, batch_size=4, progress=seen.append)
    expected = torch.sigmoid(
        torch.tensor([[x + 10 * y for x in positions] for y in positions], dtype=torch.double) / 100
    )
    assert torch.allclose(scores.probability, expected)
    assert scores.top1_kept.tolist() == (expected > 0.5).tolist()
    assert seen[-1] == 1.0 and len(seen) == 3  # 9 positions in batches of 4


def test_flip_rate_counts_changes_between_neighbours():
    assert flip_rate(torch.tensor([3, 3, 5, 5, 3])) == 0.5  # 2 changes in 4 moves
    assert flip_rate(torch.tensor([7, 7, 7])) == 0.0


def test_random_shift_pairs_stay_in_the_window_and_repeat_with_the_seed():
    pairs = random_shift_pairs((100, 50), count=200, window=32, seed=3)
    offsets = [(x - 100, y - 50) for pair in pairs for x, y in pair]
    assert all(-16 <= dx < 16 and -16 <= dy < 16 for dx, dy in offsets)
    assert pairs == random_shift_pairs((100, 50), count=200, window=32, seed=3)
    assert len(set(offsets)) > 100  # spread over the window, not a few points


def test_shift_consistency_is_the_fraction_of_agreeing_pairs():
    assert shift_consistency(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 0])) == 0.5


def test_layer_report_of_a_map_moved_by_whole_cells_is_exact():
    generator = torch.Generator().manual_seed(0)
    empty = torch.full((4, 12, 12), 0.25)  # the empty canvas's response: taken out before comparing
    reference = empty.clone()
    reference[:, 3:6, 3:6] += torch.rand(4, 3, 3, generator=generator) + 0.5
    moved = empty + shift_image(reference - empty, 2, 1)  # the object's response 1 cell right, 2 down
    other = torch.rand(4, 12, 12, generator=generator)
    field = ReceptiveField(stride=4, first=-4, last=4)  # cells 1..10 of 12 see only the 48-px canvas
    report = layer_report(reference, moved, other, empty, dx=4, dy=8, field=field, canvas=48)
    assert report.expected_cells == (1.0, 2.0) and report.whole_cells
    assert report.measured_cells == pytest.approx((1.0, 2.0))
    assert report.equivariance_error < 1e-12
    assert report.cells_compared == 9 * 8  # inside in both frames: columns 2..10, rows 3..10
    half = layer_report(reference, moved, other, empty, dx=6, dy=8, field=field, canvas=48)
    assert not half.whole_cells and half.expected_cells == (1.5, 2.0) and half.equivariance_error > 0.1


def test_shifts_are_shown_with_one_decimal_halves_rounded_away_from_zero():
    # the issue: Δ/s was rounded half-to-even (0.5 → 0, 2.5 → 2); 0.95 is stored as 0.9499… and printed 0.9
    assert [tenths(v) for v in (0.95, 0.05, 0.25, 2.5, -0.05, -0.0, 20.0)] == [
        "+1.0",
        "+0.1",
        "+0.3",
        "+2.5",
        "-0.1",
        "+0.0",
        "+20.0",
    ]
    assert cells((6.5, -0.25)) == "(+6.5, -0.3)" and cells(None) == "—"


def svg_of(html: str) -> str:
    """The SVG inside a chart's <img> data URL."""
    return base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html)[1]).decode()


def test_line_chart_has_an_axis_in_its_own_units_a_line_at_the_object_and_a_ring_at_each_change():
    traces = {"Pretrained: cat": [0.5] * 224, "Scratch: chair": [0.1] * 224}
    svg = svg_of(line_svg(traces, range(224), "object centre x (px)", now=112, dots=[[30, 90], [5]]))
    ticks = re.findall(r'text-anchor="middle"[^>]*>([^<]+)</text>', svg)
    assert ticks == ["0", "50", "100", "150", "200"] and "object centre x (px)" in svg
    assert svg.count(NOW_COLOUR) == 1 and svg.count("<circle") == 3


def test_the_path_is_measured_in_pixels_travelled():
    path = [{"x": 0, "y": 0}, {"x": 3, "y": 4}, {"x": 3, "y": 0}, {"x": 3, "y": 0}]
    assert path_lengths(path) == [0.0, 5.0, 9.0, 9.0]


def test_flips_are_where_the_first_class_changes():
    assert flips(torch.tensor([1, 1, 2, 2, 1, 1])) == [2, 4] and flips(torch.tensor([3, 3])) == []
