"""Tests for scene/: exact answers on tiny synthetic images first, then every real asset."""

import subprocess
import sys
from itertools import product
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from scene import (
    BACKGROUNDS,
    CANVAS_SIZES,
    IMAGENET_MEAN_RGB,
    MIN_OBJECT_SIZE,
    OBJECTS,
    clamp_position,
    compose,
    load_object,
    make_background,
    to_tensor,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
WHITE = (255, 255, 255, 255)
RED = (255, 0, 0, 255)


def black_canvas(canvas: int = 100) -> Image.Image:
    return Image.new("RGB", (canvas, canvas))


def solid_sprite(size: int, rgba: tuple[int, int, int, int]) -> Image.Image:
    return Image.new("RGBA", (size, size), rgba)


def test_white_sprite_covers_exactly_its_box_and_nothing_else():
    scene = np.asarray(compose(black_canvas(), solid_sprite(10, WHITE), 50, 60))
    expected = np.zeros((100, 100, 3), np.uint8)
    expected[55:65, 45:55] = 255  # rows are y 55..64, columns are x 45..54
    np.testing.assert_array_equal(scene, expected)


def test_sprite_on_corner_is_clipped_to_its_visible_quarter():
    sprite = solid_sprite(10, RED)
    sprite.paste(WHITE, (5, 5, 10, 10))  # only the bottom-right quarter is white
    scene = np.asarray(compose(black_canvas(), sprite, 0, 0))
    expected = np.zeros((100, 100, 3), np.uint8)
    expected[0:5, 0:5] = 255
    np.testing.assert_array_equal(scene, expected)


def test_clamp_keeps_the_centre_on_the_canvas():
    assert clamp_position(-5, 999, 224) == (0, 223)
    assert clamp_position(10, 20, 224) == (10, 20)


def test_compose_clamps_positions_outside_the_canvas():
    sprite = solid_sprite(10, WHITE)
    assert compose(black_canvas(), sprite, -40, 500).tobytes() == compose(black_canvas(), sprite, 0, 99).tobytes()


def test_compose_does_not_mutate_its_inputs():
    background, sprite = make_background("brick", 224), load_object("star", 64)
    before = background.tobytes(), sprite.tobytes()
    scene = compose(background, sprite, 100, 100)
    assert (background.tobytes(), sprite.tobytes()) == before
    assert scene is not background


def test_half_transparent_sprite_blends_with_the_background():
    background = Image.new("RGB", (20, 20), (100, 100, 100))
    sprite = solid_sprite(4, (200, 0, 50, 128))
    pixel = np.asarray(compose(background, sprite, 10, 10))[10, 10].astype(float)
    alpha = 128 / 255
    expected = alpha * np.array([200, 0, 50]) + (1 - alpha) * 100
    np.testing.assert_allclose(pixel, expected, atol=1)


@pytest.mark.parametrize(("obj", "background", "canvas"), list(product(OBJECTS, BACKGROUNDS, CANVAS_SIZES)))
def test_every_object_on_every_background_has_the_right_size_and_mode(obj, background, canvas):
    bg = make_background(background, canvas)
    sprite = load_object(obj, canvas // 3)
    scene = compose(bg, sprite, canvas // 2, canvas // 2)
    assert (bg.mode, bg.size) == ("RGB", (canvas, canvas))
    assert (sprite.mode, sprite.size) == ("RGBA", (canvas // 3, canvas // 3))
    assert (scene.mode, scene.size) == ("RGB", (canvas, canvas))


@pytest.mark.parametrize("obj", ["cat", "coffee"])
def test_photos_are_opaque(obj):
    assert load_object(obj, 64).getchannel("A").getextrema() == (255, 255)


def test_star_is_opaque_in_the_middle_and_transparent_in_the_corners():
    alpha = np.asarray(load_object("star", 64).getchannel("A"))
    assert alpha[32, 32] == 255
    assert alpha[0, 0] == alpha[0, -1] == alpha[-1, 0] == alpha[-1, -1] == 0


def test_star_is_centred_in_its_square():
    left, top, right, bottom = load_object("star", 448).getchannel("A").getbbox()
    assert abs(left - (448 - right)) <= 1
    assert abs(top - (448 - bottom)) <= 1


def test_imagenet_grey_is_the_imagenet_mean():
    assert tuple(round(m * 255) for m in (0.485, 0.456, 0.406)) == IMAGENET_MEAN_RGB
    assert make_background("imagenet grey", 224).getpixel((0, 0)) == IMAGENET_MEAN_RGB


def test_to_tensor_is_channels_first_float_in_unit_range():
    image = Image.new("RGB", (30, 20))
    image.paste((255, 255, 255), (0, 0, 15, 20))
    tensor = to_tensor(image)
    assert tensor.shape == (3, 20, 30)
    assert tensor.dtype == torch.float32
    assert (tensor.min().item(), tensor.max().item()) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("call", "valid"),
    [
        (lambda: load_object("dog", 64), ", ".join(OBJECTS)),
        (lambda: make_background("sky", 224), ", ".join(BACKGROUNDS)),
    ],
)
def test_unknown_names_raise_and_list_the_valid_names(call, valid):
    with pytest.raises(ValueError, match=valid):
        call()


@pytest.mark.parametrize("size", [MIN_OBJECT_SIZE - 1, max(CANVAS_SIZES) + 1])
def test_object_sizes_out_of_range_raise(size):
    with pytest.raises(ValueError, match="object size"):
        load_object("cat", size)


def test_licenses_mention_every_asset_file():
    licenses = (ASSETS / "LICENSES.md").read_text()
    files = [p.relative_to(ASSETS).as_posix() for p in ASSETS.rglob("*") if p.is_file()]
    missing = [f for f in files if f != "LICENSES.md" and f"`{f}`" not in licenses]
    assert files and not missing, f"add these to assets/LICENSES.md: {missing}"


def test_scene_does_not_import_streamlit():
    code = "import sys, scene; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ASSETS.parent)


def test_grass_is_green_and_brick_is_brick_red():
    grass, brick = (np.asarray(make_background(name, 224)).reshape(-1, 3).mean(0) for name in ("grass", "brick"))
    assert grass[1] > 1.4 * grass[0] and grass[1] > 2 * grass[2]  # green above red and blue
    assert brick[0] > 2 * brick[1] and brick[0] > 2.5 * brick[2]  # red above green and blue
    texture = np.asarray(make_background("brick", 224)).std(axis=(0, 1))
    assert (texture > 15).all()  # still a texture, not a flat colour
