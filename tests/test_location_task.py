"""Kayhan & van Gemert's location task in the lab (models.location_task), and the position read-out of a lab net
with each padding mode: the claims the README and the lab page make, each on its own seeded run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import pytest
import torch

from models.location_task import (
    LOCATION_TASK,
    PADDINGS,
    QUADRANTS,
    LocationResult,
    lab_readouts,
    location_data,
    location_results,
    the_patch,
)
from probes.position_readout import PositionReadout
from ui.lessons import LESSONS

T = TypeVar("T")


def on_one_thread(work: Callable[[], T]) -> T:
    """work() with one torch thread, as the app runs it; the test process's thread count is restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return work()
    finally:
        torch.set_num_threads(threads)


@functools.cache
def trained() -> dict[str, LocationResult]:
    """The location task's network trained with each padding mode, seed 0."""
    return on_one_thread(location_results)


@functools.cache
def readouts() -> dict[str, PositionReadout]:
    """The untrained lab net's read-out with each padding mode."""
    return on_one_thread(lab_readouts)


def test_every_image_holds_the_same_patch_and_its_class_is_the_quadrant_it_is_in():
    train_set, test_set = location_data()
    patch, size, half = the_patch(LOCATION_TASK), LOCATION_TASK.patch, LOCATION_TASK.canvas // 2
    for scenes in (train_set, test_set):
        corners = scenes.positions - size // 2  # (N, 2): the patch's top-left corners
        for image, label, (x, y) in zip(scenes.images, scenes.labels, corners.tolist(), strict=True):
            assert torch.equal(image[:, y : y + size, x : x + size], patch)
            assert float(image.sum()) == pytest.approx(float(patch.sum()))  # nothing else on the canvas
            assert int(label) == 2 * (y // half) + x // half and (y + size - 1) // half == y // half
    assert (train_set.labels.bincount() == len(train_set.labels) // len(QUADRANTS)).all()


def test_no_held_out_placement_is_a_training_placement():
    train_set, test_set = location_data()
    assert (len(train_set.labels), len(test_set.labels)) == (384, 192)
    assert not {tuple(p) for p in train_set.positions.tolist()} & {tuple(p) for p in test_set.positions.tolist()}


def test_zero_padding_learns_where_identical_patches_are_and_circular_padding_cannot():
    results = trained()
    # the ordering the issue states: zero padding learns the quadrant, circular padding stays at chance
    assert results["zeros"].test_accuracy > 0.95 > 0.25 == results["circular"].test_accuracy
    # valid convolutions learn it too (Kayhan & van Gemert: 100% on their similar test set), and so does reflect
    assert results["valid"].test_accuracy > 0.95 and results["reflect"].test_accuracy > 0.95
    # circular is at chance on the placements it was trained on as well: it cannot even fit them
    assert results["circular"].train_accuracy == 0.25
    assert not any(result.stopped for result in results.values())
    # what the lesson *Where is it?* says of this section
    assert "with zero padding a network learns it, with circular padding (no border) it cannot" in " ".join(
        LESSONS["where"].notice.split()
    )


def test_a_circular_network_answers_the_same_for_the_same_patch_in_every_quadrant():
    # why circular is at chance exactly: a shift by half the canvas moves its maps by whole cells
    model = trained()["circular"].model
    images = location_data()[1].images  # (T, 3, H, W)
    half = LOCATION_TASK.canvas // 2
    with torch.no_grad():
        logits = model(images)
        for shift in ((0, half), (half, 0), (half, half)):
            torch.testing.assert_close(model(torch.roll(images, shift, dims=(2, 3))), logits, atol=1e-6, rtol=0)


def test_a_random_lab_net_with_circular_padding_cannot_tell_where_a_shape_is_and_the_others_can():
    results = readouts()
    assert all(max(abs(r2) for r2 in layer.r2) < 0.005 for layer in results["circular"].layers.values())  # "0.00"
    deepest = {padding: min(readout.layers["features.2"].r2) for padding, readout in results.items()}
    # at random initialisation the border cuts off a shape's response most with valid convolutions, which
    # shrink the maps, then reflect (which mirrors the shape), then zeros (the same black as the canvas)
    assert deepest["valid"] > 0.75 and deepest["valid"] > deepest["reflect"] > deepest["zeros"] > 0.2
    # the first block's 3 × 3 convolutions hardly reach the border from a whole shape
    assert all(max(readout.layers["features.0"].r2) < 0.25 for readout in results.values())


# The CNN lab's section (ui.location_lab).

SECTION = """
from ui.location_lab import location_section
from ui.state import init_state

init_state()
location_section()
"""


def test_the_labs_section_shows_each_padding_modes_accuracy_and_readout_and_exports_them():
    import csv
    import io

    from streamlit.testing.v1 import AppTest

    from ui.location_lab import location_exports, shipped_location

    at = AppTest.from_string(SECTION, default_timeout=300).run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "| circular (wraps round) | **25%** | 25% |" in text and "| zeros (the usual) | **100%** | 100% |" in text
    assert text.count("| valid (no padding) |") == 2  # in both tables
    files = location_exports(*shipped_location())
    rows = list(csv.DictReader(io.StringIO(files["location_task.csv"]().decode())))
    assert [r["padding"] for r in rows] == list(PADDINGS) and rows[2]["held_out_accuracy"] == "0.2500"
    assert len(files["location_readout.csv"]().decode().splitlines()) == 1 + 3 * len(PADDINGS)
    assert files["location_task.png"]().startswith(b"\x89PNG\r\n\x1a\n")
