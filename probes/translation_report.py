"""One move of the object as one layer sees it: the numbers of a row of the measurements table."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from probes.equivariance import counted_cells, equivariance_error
from probes.invariance import Invariance, invariance
from probes.receptive_field import ReceptiveField
from probes.shift import ShiftReference, estimate_shift
from probes.stride import aligned


@dataclass(frozen=True)
class LayerReport:
    """How a layer's output changed when the object moved by (dx, dy) pixels."""

    stride: int  # the layer's cumulative stride s
    expected_cells: tuple[float, float]  # (dx / s, dy / s): where perfect equivariance moves the maps
    measured_cells: tuple[float, float] | None  # (dx, dy) the object's response moved, in cells; None: no response
    equivariance_error: float  # relative error against the maps moved by Δ/s; nan: no cell away from the border
    cells_compared: int  # the cells the error was measured on: both positions' fields clear of the border
    whole_cells: bool  # dx and dy are multiples of s; if not, the maps are compared with an interpolated shift
    flat: Invariance  # cosine similarity of the whole maps, with its different-object baseline
    pooled: Invariance  # the same for globally pooled maps (Biscione & Bowers' measure)


def object_response(maps: torch.Tensor, empty: torch.Tensor) -> torch.Tensor:
    """What the object adds to a layer's maps: maps − the maps of the empty canvas. The response to the
    canvas itself (its border against the padding, a textured background) never moves with the object, so
    it is taken out before a shift is measured or maps are compared. (C, H, W) each."""
    return maps - empty


def layer_report(
    reference: torch.Tensor,
    moved: torch.Tensor,
    other: torch.Tensor,
    empty: torch.Tensor,
    dx: int,
    dy: int,
    field: ReceptiveField,
    canvas: int,
    shift_from: ShiftReference | None = None,
) -> LayerReport:
    """reference, moved, other, empty: the layer's output (C, H, W) for the object at the reference
    position, for the object moved by (dx, dy) pixels, for another object at the reference position, and
    for the empty canvas. field: the layer's receptive field (with its stride); canvas: the input's side in
    pixels. shift_from: shift_reference(object_response(reference, empty)), when it was prepared once for
    many moves (it is the costliest part)."""
    stride = field.stride
    h, w = reference.shape[-2:]
    inside = field.inside(h, canvas)[:, None] & field.inside(w, canvas)[None, :]  # (H, W)
    cells = (dy / stride, dx / stride)
    before, after = object_response(reference, empty), object_response(moved, empty)  # (C, H, W) each
    measured = estimate_shift(before if shift_from is None else shift_from, after)
    return LayerReport(
        stride=stride,
        expected_cells=(dx / stride, dy / stride),
        measured_cells=None if measured is None else (measured[1], measured[0]),
        equivariance_error=equivariance_error(before, after, cells, inside),
        cells_compared=int(counted_cells(inside, cells).sum()),
        whole_cells=aligned(dx, stride) and aligned(dy, stride),
        flat=invariance(reference, moved, other, pooled=False),
        pooled=invariance(reference, moved, other, pooled=True),
    )
