"""The position read-out (probes.position_readout): known answers first, then MobileNetV2 in the drag view's scene.

The claims on real models are what the README states about *Where is it?*: the cat (96 px) on the black 224-px
canvas at 300 seeded placements (seed 0), the read-out fitted on 200 and tested on the other 100.
"""

from __future__ import annotations

import functools

import pytest
import torch

from models import load_network, run_side_by_side
from probes.position_readout import (
    fit_ridge,
    layer_readout,
    leave_one_out_error,
    pooled_activations,
    position_readout,
    standardise,
    whole_placements,
)
from scene import compose, load_object, make_background, to_tensor

from .conftest import SHARED_WEIGHTS

PLACEMENTS, TRAIN = 300, 200
CANVAS, OBJECT_SIZE = 224, 96


def positions_and_generator(seed: int = 0) -> tuple[torch.Tensor, torch.Generator]:
    return whole_placements(CANVAS, OBJECT_SIZE, PLACEMENTS, seed), torch.Generator().manual_seed(seed + 1)


def test_features_that_are_a_linear_function_of_position_give_the_position_back():
    positions, generator = positions_and_generator()
    mixing = torch.randn(2, 8, generator=generator, dtype=torch.float64)
    features = positions.double() @ mixing + 3.0  # (P, 8)
    readout = layer_readout(features, positions, TRAIN)
    assert readout.error_px < 0.5 < 40 < readout.baseline_px
    assert min(readout.r2) > 0.999


def test_features_independent_of_position_read_out_as_r2_zero():
    positions, generator = positions_and_generator()
    features = torch.randn(PLACEMENTS, 50, generator=generator, dtype=torch.float64)
    readout = layer_readout(features, positions, TRAIN)
    assert max(abs(r2) for r2 in readout.r2) < 0.02
    assert readout.error_px == pytest.approx(readout.baseline_px, rel=0.01)


def test_constant_features_give_exactly_the_baseline():
    positions, _ = positions_and_generator()
    readout = layer_readout(torch.full((PLACEMENTS, 5), 0.3), positions, TRAIN)
    assert readout.r2 == (0.0, 0.0) and readout.error_px == readout.baseline_px


def test_a_noisy_linear_code_is_read_out_in_between():
    positions, generator = positions_and_generator()
    features = positions.double() @ torch.randn(2, 8, generator=generator, dtype=torch.float64)
    features += 20 * torch.randn(PLACEMENTS, 8, generator=generator, dtype=torch.float64)
    readout = layer_readout(features, positions, TRAIN)
    assert 0.5 < min(readout.r2) <= max(readout.r2) < 0.99


def test_closed_form_leave_one_out_equals_refitting_without_each_sample():
    generator = torch.Generator().manual_seed(3)
    features, targets = torch.randn(30, 6, generator=generator), torch.randn(30, 2, generator=generator)
    z, _, _ = standardise(features)
    ridge = 4.0
    refitted = 0.0
    for i in range(len(z)):
        keep = torch.arange(len(z)) != i
        zi, yi = z[keep], targets[keep].double()
        zc, mean_z = zi - zi.mean(dim=0), zi.mean(dim=0)  # the bias is refitted too: centre on the others
        beta = torch.linalg.solve(zc.T @ zc + ridge * torch.eye(6, dtype=z.dtype), zc.T @ (yi - yi.mean(dim=0)))
        predicted = yi.mean(dim=0) + (z[i] - mean_z) @ beta
        refitted += float(((targets[i].double() - predicted) ** 2).sum())
    assert leave_one_out_error(z, targets, [ridge])[0] == pytest.approx(refitted, rel=1e-9)


def test_leave_one_out_chooses_a_small_penalty_for_a_clean_code_and_a_large_one_for_noise():
    positions, generator = positions_and_generator()
    clean = fit_ridge(positions.double() @ torch.randn(2, 4, generator=generator, dtype=torch.float64), positions)
    noise = fit_ridge(torch.randn(PLACEMENTS, 20, generator=generator, dtype=torch.float64), positions)
    assert clean.ridge < 1 and noise.ridge >= PLACEMENTS  # λ = N·α: α ≤ 1/N against α ≥ 1


def test_a_feature_is_not_read_beyond_the_range_it_took_in_training():
    # a channel that fired on one training placement only, and far more strongly on a held-out one
    positions, generator = positions_and_generator()
    features = torch.cat([positions.double(), torch.zeros(PLACEMENTS, 1)], dim=1)  # (P, 3)
    features[0, 2], features[TRAIN, 2] = 1e-3, 1e3
    readout = layer_readout(features, positions, TRAIN)
    assert readout.error_px < 1.0


def test_placements_keep_the_whole_object_on_the_canvas_and_are_distinct_and_seeded():
    positions = whole_placements(CANVAS, OBJECT_SIZE, PLACEMENTS, seed=0)
    corners = positions - OBJECT_SIZE // 2  # top-left corners, as scene.compose places the sprite
    assert positions.shape == (PLACEMENTS, 2) and corners.min() >= 0 and (corners + OBJECT_SIZE).max() <= CANVAS
    assert len({tuple(p) for p in positions.tolist()}) == PLACEMENTS
    assert torch.equal(positions, whole_placements(CANVAS, OBJECT_SIZE, PLACEMENTS, seed=0))
    assert not torch.equal(positions, whole_placements(CANVAS, OBJECT_SIZE, PLACEMENTS, seed=1))
    assert whole_placements(20, 20, 1).tolist() == [[10, 10]]
    with pytest.raises(ValueError, match="whole placements"):
        whole_placements(20, 20, 2)


def test_pooled_activations_average_every_map_batch_by_batch_and_leave_out_the_logits():
    positions = torch.tensor([[1, 2], [3, 4], [5, 6]])
    done = []

    def outputs_of(images: torch.Tensor) -> dict[str, dict[str, torch.Tensor]]:  # (B, 3, 4, 4)
        return {"a": {"maps": images, "logits": images.flatten(1)}, "b": {"maps": 2 * images[:, :1]}}

    pooled = pooled_activations(outputs_of, lambda x, y: torch.full((3, 4, 4), float(x + y)), positions, 2, done.append)
    assert set(pooled) == {"a", "b"} and set(pooled["a"]) == {"maps"}
    assert pooled["a"]["maps"].tolist() == [[3.0] * 3, [7.0] * 3, [11.0] * 3]
    assert pooled["b"]["maps"].tolist() == [[6.0], [14.0], [22.0]]
    assert done == [2 / 3, 1.0]


def test_a_readout_needs_placements_to_fit_and_to_test_on():
    positions = whole_placements(CANVAS, OBJECT_SIZE, 10)
    with pytest.raises(ValueError, match="held out"):
        position_readout({"layer": torch.randn(10, 3)}, positions, 10)


# MobileNetV2 in the drag view's default scene.


@functools.cache
def drag_view_readouts() -> dict[str, dict[str, tuple[float, tuple[float, float]]]]:
    """{variant: {layer: (error in px, (R² x, R² y))}} of MobileNetV2 for the cat on black at the README's
    placements: the scratch twin, and the pretrained model when this machine has its weights, side by side
    (one torch thread each) as the app runs them."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        nets = {"scratch": load_network("mobilenet_v2", "scratch")}
        if (SHARED_WEIGHTS / "mobilenet_v2.pth").is_file():
            nets["pretrained"] = load_network("mobilenet_v2", "pretrained", weights_folder=SHARED_WEIGHTS)
        background, sprite = make_background("black", CANVAS), load_object("cat", OBJECT_SIZE)
        positions = whole_placements(CANVAS, OBJECT_SIZE, PLACEMENTS, seed=0)
        features = pooled_activations(
            lambda images: run_side_by_side(nets, images),
            lambda x, y: to_tensor(compose(background, sprite, x, y)),
            positions,
        )
    finally:
        torch.set_num_threads(threads)
    return {
        variant: {layer: (r.error_px, r.r2) for layer, r in position_readout(pooled, positions, TRAIN).layers.items()}
        for variant, pooled in features.items()
    }


def test_the_scratch_mobilenets_first_layer_cannot_tell_where_but_its_deep_pooled_layers_can():
    layers = drag_view_readouts()["scratch"]
    assert max(layers["features.0"][1]) < 0.1  # 3-px fields: only at the very border does the object meet it
    assert min(layers["features.13.add"][1]) > 0.75  # 267-px fields: every cell sees the border
    error, r2 = layers["features.18"]
    assert min(r2) > 0.95 and error < 8  # its pooled vector hardly tells objects apart, yet it knows where


def test_the_pretrained_mobilenet_knows_where_the_object_is_from_its_deep_pooled_layers(shared_weights):
    layers = drag_view_readouts()["pretrained"]
    assert max(layers["features.0"][1]) < 0.1
    error, r2 = layers["features.13.add"]
    assert min(r2) > 0.98 and error < 5
    assert min(layers["features.18"][1]) > 0.8  # after the last layer, globally pooled as its classifier sees it


# The drag view's panel (ui.position_view), on the teaching CNNs: small and quick, the same code as for MobileNetV2.

PANEL = """
import streamlit as st
from models.families import teaching_family
from ui import resources
from ui.position_view import ReadoutRequest, readout_jobs, readout_panel
from ui.results import compute_all
from ui.settings import Settings
from ui.state import init_state

init_state()
family = teaching_family()
scene = family.scene
view = Settings(family.name, "", scene.objects[0], scene.object_sizes[0], scene.backgrounds[0], scene.canvases[0])
loaded = resources.load_columns(family).loaded
request = ReadoutRequest(view)
assert readout_panel(request, loaded).exports == {}  # nothing is shown before it is computed
compute_all(list(readout_jobs(request, loaded).values()), st.empty(), [])
readout_panel(request, loaded).draw()
"""


def test_the_drag_views_readout_is_shown_per_layer_for_both_models_once_computed():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(PANEL, default_timeout=120).run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**Where is it?**" in text and "learnt on 200 places of the object and tested on 100 others" in text
    html = " ".join(h.proto.body for h in at.get("html"))
    assert html.count("<tr><td><code>features.") == 5 and "Pretrained elsewhere, taught at one spot" in html


def test_the_readouts_download_holds_every_layer_every_prediction_and_a_figure():
    import csv
    import io

    from models.families import teaching_family
    from ui.position_view import compute_readouts, position_panel
    from ui.settings import Settings

    family = teaching_family()
    scene = family.scene
    view = Settings(family.name, "", scene.objects[0], scene.object_sizes[0], scene.backgrounds[0], scene.canvases[0])
    loaded = {column.key: column.load() for column in family.columns}
    done = []
    readouts = compute_readouts(view, loaded, done.append)
    assert done[-1] == 1.0 and set(readouts) == set(loaded)
    files = position_panel(view, {loaded[v].title: r for v, r in readouts.items()}).exports
    rows = list(csv.DictReader(io.StringIO(files["position_readout.csv"]().decode())))
    assert len(rows) == 2 * len(family.layers) and {r["train"] for r in rows} == {"200"}
    predictions = files["position_readout_predictions.csv"]().decode().splitlines()
    assert len(predictions) == 1 + 2 * len(family.layers) * 100
    assert files["position_readout.png"]().startswith(b"\x89PNG\r\n\x1a\n")
