"""A synthetic data set for the CNN lab: line drawings of 20 classes (10 shapes, 10 letters) on black,
and as many random "doodle" classes as wanted, for pretraining.

Every object is drawn with Pillow from strokes given as data, with a random size, a small random
rotation, a bright random colour and a random stroke width, then placed with its centre at (x, y)
(`scene.compose`). Where the centres may fall is a *region* of the canvas (Biscione & Bowers 2021):
one location, the left half, or the whole canvas. All randomness comes from a private
`torch.Generator`, so the same seed always gives the same images.
"""

from __future__ import annotations

import colorsys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import cos, pi, sin
from types import MappingProxyType
from typing import NamedTuple

import torch
from PIL import Image, ImageDraw

from locales import N_
from scene.compose import compose, to_tensor

Point = tuple[float, float]
Stroke = tuple[Point, ...]


def _polygon(corners: int, radius: float = 0.95, turn: float = 0.0) -> Stroke:
    """A closed regular polygon with its first corner straight up (before `turn`, in fractions of a turn).

    The line goes once round plus one edge, so that the first corner is drawn as a rounded joint too.
    """
    angles = [2 * pi * (k / corners + turn) for k in range(corners + 2)]
    return tuple((radius * sin(a), -radius * cos(a)) for a in angles)


def _star(points: int = 5, outer: float = 0.95, inner: float = 0.4) -> Stroke:
    radii = [outer, inner] * (points + 1)  # once round plus one edge, as in `_polygon`
    return tuple((r * sin(pi * k / points), -r * cos(pi * k / points)) for k, r in enumerate(radii))


# Each class is a few strokes (polylines) in unit coordinates: x right, y down, all inside the unit
# circle so that a rotated drawing still fits its square. Letters are drawn as strokes too (no fonts).
_STROKES: Mapping[str, tuple[Stroke, ...]] = MappingProxyType(
    {
        "circle": (_polygon(32, 0.9),),
        "square": (_polygon(4, turn=1 / 8),),
        "triangle": (_polygon(3),),
        "diamond": (((0, -0.95), (0.6, 0), (0, 0.95), (-0.6, 0), (0, -0.95), (0.6, 0)),),
        "hexagon": (_polygon(6, 0.9, turn=1 / 12),),
        "star": (_star(),),
        "plus": (((-0.9, 0), (0.9, 0)), ((0, -0.9), (0, 0.9))),
        "cross": (((-0.65, -0.65), (0.65, 0.65)), ((-0.65, 0.65), (0.65, -0.65))),
        "arrow": (((-0.9, 0), (0.9, 0)), ((0.35, -0.55), (0.9, 0), (0.35, 0.55))),
        "target": (_polygon(32, 0.9), _polygon(16, 0.35)),
        "A": (((-0.6, 0.8), (0, -0.8), (0.6, 0.8)), ((-0.33, 0.1), (0.33, 0.1))),
        "E": (((0.6, -0.8), (-0.6, -0.8), (-0.6, 0.8), (0.6, 0.8)), ((-0.6, 0), (0.4, 0))),
        "F": (((0.6, -0.8), (-0.6, -0.8), (-0.6, 0.8)), ((-0.6, 0), (0.4, 0))),
        "H": (((-0.6, -0.8), (-0.6, 0.8)), ((0.6, -0.8), (0.6, 0.8)), ((-0.6, 0), (0.6, 0))),
        "K": (((-0.6, -0.8), (-0.6, 0.8)), ((0.6, -0.8), (-0.6, 0.15)), ((-0.2, -0.1), (0.6, 0.8))),
        "L": (((-0.6, -0.8), (-0.6, 0.8), (0.6, 0.8)),),
        "N": (((-0.6, 0.8), (-0.6, -0.8), (0.6, 0.8), (0.6, -0.8)),),
        "T": (((-0.6, -0.8), (0.6, -0.8)), ((0, -0.8), (0, 0.8))),
        "Y": (((-0.6, -0.8), (0, 0)), ((0.6, -0.8), (0, 0)), ((0, 0), (0, 0.8))),
        "Z": (((-0.6, -0.8), (0.6, -0.8), (-0.6, 0.8), (0.6, 0.8)),),
    }
)

CLASS_NAMES: tuple[str, ...] = tuple(_STROKES)

# Doodles: any number of further classes, each a few random strokes fixed by its number ("doodle 7").
# Pretraining on many of them teaches features that are not tailored to a few classes (as ImageNet's
# thousand classes do for real networks).
DOODLE_PREFIX = "doodle "
DOODLE_STROKES = (1, 3)  # strokes per doodle, fewest and most
DOODLE_POINTS = (2, 4)  # points per stroke, fewest and most
DOODLE_SEED = 7_919  # doodle k is drawn from seed DOODLE_SEED + k


def doodle_classes(count: int) -> tuple[str, ...]:
    """Names of the first `count` doodle classes: "doodle 0", "doodle 1", …"""
    return tuple(f"{DOODLE_PREFIX}{k}" for k in range(count))


@lru_cache(maxsize=4096)
def _doodle_strokes(number: int) -> tuple[Stroke, ...]:
    """Doodle `number`'s strokes: polylines through random points, centred and scaled to reach radius 0.9
    (as far out as the named classes go), so that no doodle is a speck."""
    generator = torch.Generator().manual_seed(DOODLE_SEED + number)
    strokes = torch.randint(DOODLE_STROKES[0], DOODLE_STROKES[1] + 1, (1,), generator=generator).item()
    lengths = torch.randint(DOODLE_POINTS[0], DOODLE_POINTS[1] + 1, (strokes,), generator=generator).tolist()
    points = torch.rand(sum(lengths), 2, generator=generator, dtype=torch.float64) * 2 - 1  # (P, 2) as (x, y)
    points -= (points.amax(dim=0) + points.amin(dim=0)) / 2  # centre the bounding box
    points *= 0.9 / points.norm(dim=1).max()
    return tuple(tuple(map(tuple, stroke.tolist())) for stroke in points.split(lengths))


def strokes_of(name: str) -> tuple[Stroke, ...]:
    """The strokes of a named class (`CLASS_NAMES`) or of a doodle ("doodle 7")."""
    if name in _STROKES:
        return _STROKES[name]
    number = name.removeprefix(DOODLE_PREFIX)
    if name.startswith(DOODLE_PREFIX) and number.isdecimal():
        return _doodle_strokes(int(number))
    raise ValueError(f"unknown shape {name!r}; choose one of {', '.join(CLASS_NAMES)} or a doodle ('doodle 7')")


# Sizes and strokes relative to the canvas and the object, so that every canvas size looks alike.
SIZE_RANGE = (0.25, 0.375)  # object side, as a fraction of the canvas side
STROKE_RANGE = (0.07, 0.14)  # line width, as a fraction of the object side
MAX_ROTATION = 15.0  # degrees either way: enough variety, yet "plus" never turns into "cross"
_SUPERSAMPLE = 4  # draw this many times larger, then shrink: cheap antialiasing


@dataclass(frozen=True)
class Style:
    """How one object looks: side in pixels, rotation in degrees (counter-clockwise), RGB colour, stroke width in px."""

    size: int
    rotation: float
    colour: tuple[int, int, int]
    stroke: float


def default_style(canvas: int) -> Style:
    """A middle-sized, upright, yellow object: the one the app's drag canvas shows."""
    size = round(canvas * sum(SIZE_RANGE) / 2)
    return Style(size, 0.0, (255, 200, 40), size * sum(STROKE_RANGE) / 2)


def random_styles(count: int, canvas: int, generator: torch.Generator) -> list[Style]:
    """count styles drawn uniformly: size, rotation, hue (saturated and bright, to stand out on black), stroke."""
    u = torch.rand(count, 6, generator=generator, dtype=torch.float64).tolist()  # (count, 6) in [0, 1)
    low, high = round(SIZE_RANGE[0] * canvas), round(SIZE_RANGE[1] * canvas)
    styles = []
    for size_u, rotation_u, hue, saturation_u, value_u, stroke_u in u:
        size = low + int(size_u * (high - low + 1))
        rgb = colorsys.hsv_to_rgb(hue, 0.6 + 0.4 * saturation_u, 0.75 + 0.25 * value_u)
        stroke = size * (STROKE_RANGE[0] + stroke_u * (STROKE_RANGE[1] - STROKE_RANGE[0]))
        styles.append(Style(size, MAX_ROTATION * (2 * rotation_u - 1), tuple(round(255 * c) for c in rgb), stroke))
    return styles


def draw_shape(name: str, style: Style) -> Image.Image:
    """RGBA sprite, style.size × style.size: the class's strokes (see `strokes_of`) on a transparent square."""
    strokes = strokes_of(name)
    big = style.size * _SUPERSAMPLE
    half = big / 2
    scale = half - style.stroke * _SUPERSAMPLE / 2  # keep the outer half of the line inside the square
    sprite = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(sprite)
    for stroke in strokes:
        points = [(half + scale * x, half + scale * y) for x, y in stroke]
        draw.line(points, fill=(*style.colour, 255), width=round(style.stroke * _SUPERSAMPLE), joint="curve")
    sprite = sprite.rotate(style.rotation, resample=Image.Resampling.BICUBIC)
    return sprite.resize((style.size, style.size), Image.Resampling.LANCZOS)


def render(name: str, x: int, y: int, canvas: int, style: Style) -> torch.Tensor:
    """(3, canvas, canvas) float in [0, 1]: the object centred at (x, y) on a black canvas."""
    background = Image.new("RGB", (canvas, canvas))
    return to_tensor(compose(background, draw_shape(name, style), x, y))


@dataclass(frozen=True)
class Region:
    """Where object centres may fall: a box (left, top, right, bottom) in fractions of the placeable range.

    The placeable range keeps the largest object whole on the canvas (see `placeable_range`); a box of
    zero width and height is a single location.
    """

    left: float
    top: float
    right: float
    bottom: float


# The names are stable values (a session and a saved model keep them): marked with N_, translated where shown.
REGIONS: Mapping[str, Region] = MappingProxyType(
    {
        # TRANSLATORS: where the training objects of the CNN lab appear on the canvas: at one location, anywhere in
        # its left half, anywhere on the whole canvas
        N_("one location"): Region(0.25, 0.5, 0.25, 0.5),  # the middle of the left half
        N_("left half"): Region(0.0, 0.0, 0.5, 1.0),
        N_("whole canvas"): Region(0.0, 0.0, 1.0, 1.0),
    }
)


def placeable_range(canvas: int) -> tuple[int, int]:
    """(lowest, highest) centre coordinate at which the largest object stays entirely on the canvas."""
    margin = (round(SIZE_RANGE[1] * canvas) + 1) // 2
    return margin, canvas - 1 - margin


def region_box(region: Region, canvas: int) -> tuple[int, int, int, int]:
    """The region in pixels: (x_min, y_min, x_max, y_max) of the centres, bounds included."""
    low, high = placeable_range(canvas)
    return tuple(round(low + f * (high - low)) for f in (region.left, region.top, region.right, region.bottom))


def sample_positions(region: Region, count: int, canvas: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 2) integer centres (x, y) drawn uniformly from the region's box."""
    x_min, y_min, x_max, y_max = region_box(region, canvas)
    x = torch.randint(x_min, x_max + 1, (count,), generator=generator)  # (count,)
    y = torch.randint(y_min, y_max + 1, (count,), generator=generator)  # (count,)
    return torch.stack([x, y], dim=1)  # (count, 2)


class ShapeSet(NamedTuple):
    """A labelled set of scenes: images (N, 3, H, W) in [0, 1], labels (N,) int64, centres (N, 2) as (x, y)."""

    images: torch.Tensor
    labels: torch.Tensor
    positions: torch.Tensor


def _render_all(
    classes: Sequence[str], labels: torch.Tensor, positions: torch.Tensor, styles: list[Style], canvas: int
) -> ShapeSet:
    scenes = [
        render(classes[label], x, y, canvas, style)
        for label, (x, y), style in zip(labels.tolist(), positions.tolist(), styles, strict=True)
    ]
    return ShapeSet(torch.stack(scenes), labels, positions)  # images (N, 3, H, W)


def make_dataset(classes: Sequence[str], per_class: int, region: Region, canvas: int, seed: int) -> ShapeSet:
    """per_class random objects of each class (labels = index in `classes`), centres drawn from the region.

    Deterministic: the same arguments always give the same tensors. Labels cycle through the classes,
    so every class has exactly per_class examples.
    """
    generator = torch.Generator().manual_seed(seed)
    count = per_class * len(classes)
    labels = torch.arange(count) % len(classes)  # (N,)
    styles = random_styles(count, canvas, generator)
    return _render_all(classes, labels, sample_positions(region, count, canvas, generator), styles, canvas)


def samples_at(classes: Sequence[str], per_class: int, x: int, y: int, canvas: int, seed: int) -> ShapeSet:
    """per_class objects of each class, all centred at (x, y).

    The styles depend on the seed only, not on (x, y): the same objects are shown at every position,
    so an accuracy map compares positions and nothing else.
    """
    count = per_class * len(classes)
    labels = torch.arange(count) % len(classes)  # (N,)
    styles = random_styles(count, canvas, torch.Generator().manual_seed(seed))
    return _render_all(classes, labels, torch.tensor([[x, y]]).expand(count, 2), styles, canvas)


def move_objects(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The same scenes with each object moved by a random whole-pixel offset that keeps it entirely on the canvas.

    An exact translation (the background is black, so rolling the canvas only moves the object): the
    augmentation that lets a network see every object at every position during training.
    images: (B, 3, H, W) -> (B, 3, H, W).
    """
    occupied = images.amax(dim=1) > 0  # (B, H, W)
    moved = []
    # each image (3, H, W) with its occupied rows (H,) and columns (W,)
    for image, rows, cols in zip(images, occupied.any(dim=2), occupied.any(dim=1), strict=True):
        shifts = []
        for filled in (rows, cols):
            where = filled.nonzero()  # (K, 1): occupied rows (or columns)
            low, high = (-int(where.min()), len(filled) - 1 - int(where.max())) if len(where) else (0, 0)
            shifts.append(int(torch.randint(low, high + 1, (1,), generator=generator)))
        moved.append(torch.roll(image, shifts=shifts, dims=(1, 2)))
    return torch.stack(moved)  # (B, 3, H, W)
