"""Scenes for Shift Lab: an object placed at (x, y) on a square canvas."""

from scene.compose import CANVAS_SIZES, clamp_position, compose, composed_batch, to_tensor
from scene.library import (
    BACKGROUNDS,
    IMAGENET_MEAN_RGB,
    MIN_OBJECT_SIZE,
    OBJECT_SIZES,
    OBJECTS,
    load_object,
    make_background,
)

__all__ = [
    "BACKGROUNDS",
    "CANVAS_SIZES",
    "IMAGENET_MEAN_RGB",
    "MIN_OBJECT_SIZE",
    "OBJECT_SIZES",
    "OBJECTS",
    "clamp_position",
    "compose",
    "composed_batch",
    "load_object",
    "make_background",
    "to_tensor",
]
