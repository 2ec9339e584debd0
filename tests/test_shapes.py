"""Tests for the lab's synthetic data set: exact answers on single drawings first, then whole data sets."""

from itertools import combinations

import numpy as np
import pytest
import torch

from scene.shapes import (
    CLASS_NAMES,
    REGIONS,
    SIZE_RANGE,
    Style,
    default_style,
    doodle_classes,
    draw_shape,
    make_dataset,
    placeable_range,
    region_box,
    render,
    samples_at,
)

CANVAS = 64


def test_there_are_at_least_ten_distinct_classes_and_each_draws_something_different():
    assert len(CLASS_NAMES) >= 10
    style = default_style(CANVAS)
    alphas = {name: np.asarray(draw_shape(name, style))[:, :, 3] for name in CLASS_NAMES}  # (size, size) each
    assert all(alpha.max() == 255 for alpha in alphas.values())
    for a, b in combinations(CLASS_NAMES, 2):
        assert np.abs(alphas[a].astype(int) - alphas[b]).sum() > 0, (a, b)


def test_unknown_shape_is_refused_in_plain_words():
    for name in ("blob", "doodle", "doodle x", "doodle -1"):
        with pytest.raises(ValueError, match=f"unknown shape '{name}'"):
            draw_shape(name, default_style(CANVAS))


def test_doodles_are_drawn_alike_every_time_unlike_each_other_and_as_large_as_the_named_classes():
    style = default_style(CANVAS)
    names = doodle_classes(30)
    assert names[:2] == ("doodle 0", "doodle 1") and not set(names) & set(CLASS_NAMES)
    alphas = {name: np.asarray(draw_shape(name, style))[:, :, 3] for name in names}  # (size, size) each
    assert all(np.array_equal(alphas[name], np.asarray(draw_shape(name, style))[:, :, 3]) for name in names)
    for a, b in combinations(names, 2):
        assert np.abs(alphas[a].astype(int) - alphas[b]).sum() > 0, (a, b)
    for alpha in alphas.values():  # scaled to reach the edge of the drawing, as the named classes do
        rows, cols = np.nonzero(alpha > 127)
        assert max(np.ptp(rows), np.ptp(cols)) >= style.size / 2


def test_a_symmetric_shape_is_drawn_centred_on_the_asked_position():
    style = Style(size=21, rotation=0.0, colour=(255, 255, 255), stroke=2.0)  # odd size: a true centre pixel
    image = render("circle", 40, 25, CANVAS, style)  # (3, H, W)
    weight = image.sum(dim=0)  # (H, W)
    rows, cols = torch.meshgrid(torch.arange(float(CANVAS)), torch.arange(float(CANVAS)), indexing="ij")
    assert float((weight * cols).sum() / weight.sum()) == pytest.approx(40, abs=0.25)
    assert float((weight * rows).sum() / weight.sum()) == pytest.approx(25, abs=0.25)


def test_moving_the_objects_shifts_the_image_exactly():
    here = samples_at(CLASS_NAMES, 1, 30, 30, CANVAS, seed=4).images  # (N, 3, H, W)
    there = samples_at(CLASS_NAMES, 1, 37, 26, CANVAS, seed=4).images  # same objects, 7 right and 4 up
    assert torch.equal(torch.roll(here, shifts=(-4, 7), dims=(2, 3)), there)


def test_the_largest_object_stays_whole_anywhere_in_the_placeable_range():
    low, high = placeable_range(CANVAS)
    style = Style(size=round(SIZE_RANGE[1] * CANVAS), rotation=0.0, colour=(255, 255, 255), stroke=3.0)
    centre = render("square", CANVAS // 2, CANVAS // 2, CANVAS, style).sum()
    for x, y in [(low, low), (high, high), (low, high)]:
        assert render("square", x, y, CANVAS, style).sum() == pytest.approx(float(centre), rel=1e-6)


def test_same_seed_gives_the_same_data_set_and_another_seed_another():
    region = REGIONS["whole canvas"]
    first, again = make_dataset(CLASS_NAMES, 2, region, CANVAS, seed=5), make_dataset(CLASS_NAMES, 2, region, CANVAS, 5)
    other = make_dataset(CLASS_NAMES, 2, region, CANVAS, seed=6)
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(first.images, other.images)
    assert not torch.equal(first.positions, other.positions)


def test_data_set_has_balanced_labels_images_in_the_unit_range_and_leaves_the_global_rng_alone():
    before = torch.get_rng_state()
    images, labels, positions = make_dataset(CLASS_NAMES[:10], 3, REGIONS["left half"], CANVAS, seed=0)
    assert torch.equal(torch.get_rng_state(), before)
    assert images.shape == (30, 3, CANVAS, CANVAS) and images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    assert torch.equal(torch.bincount(labels), torch.full((10,), 3))
    assert positions.shape == (30, 2)


@pytest.mark.parametrize("region_name", list(REGIONS))
def test_centres_fall_inside_the_chosen_region(region_name):
    x_min, y_min, x_max, y_max = region_box(REGIONS[region_name], CANVAS)
    positions = make_dataset(CLASS_NAMES, 5, REGIONS[region_name], CANVAS, seed=1).positions  # (N, 2)
    assert (positions[:, 0] >= x_min).all() and (positions[:, 0] <= x_max).all()
    assert (positions[:, 1] >= y_min).all() and (positions[:, 1] <= y_max).all()


def test_regions_are_one_point_the_left_half_and_the_whole_placeable_range():
    low, high = placeable_range(CANVAS)
    x, y, x_max, y_max = region_box(REGIONS["one location"], CANVAS)
    assert (x, y) == (x_max, y_max) and low < x < (low + high) / 2
    assert region_box(REGIONS["left half"], CANVAS) == (low, low, round((low + high) / 2), high)
    assert region_box(REGIONS["whole canvas"], CANVAS) == (low, low, high, high)
