"""One move of the object as one layer sees it: the numbers of a row of the measurements table."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from probes.equivariance import equivariance_error
from probes.invariance import Invariance, invariance
from probes.stride import aligned


@dataclass(frozen=True)
class LayerReport:
    """How a layer's output changed when the object moved by (dx, dy) pixels."""

    stride: int  # the layer's cumulative stride s
    expected_cells: tuple[float, float]  # (dx / s, dy / s): where perfect equivariance moves the maps
    equivariance_error: float  # relative error against the maps moved by the rounded expected shift
    whole_cells: bool  # dx and dy are multiples of s; if not, part of the error is aliasing
    flat: Invariance  # cosine similarity of the whole maps, with its different-object baseline
    pooled: Invariance  # the same for globally pooled maps (Biscione & Bowers' measure)


def layer_report(
    reference: torch.Tensor, moved: torch.Tensor, other: torch.Tensor, dx: int, dy: int, stride: int, border_px: int
) -> LayerReport:
    """reference, moved, other: the layer's output (C, H, W) for the object at the reference
    position, for the object moved by (dx, dy) pixels, and for another object at the reference
    position. border_px: the band along the canvas edges, in pixels, left out of the equivariance
    error (zero padding changes the maps there)."""
    cells = (round(dy / stride), round(dx / stride))
    return LayerReport(
        stride=stride,
        expected_cells=(dx / stride, dy / stride),
        equivariance_error=equivariance_error(reference, moved, cells, margin=math.ceil(border_px / stride)),
        whole_cells=aligned(dx, stride) and aligned(dy, stride),
        flat=invariance(reference, moved, other, pooled=False),
        pooled=invariance(reference, moved, other, pooled=True),
    )
