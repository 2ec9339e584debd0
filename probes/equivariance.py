"""Equivariance error: how far a feature map of a moved input is from the moved feature map."""

from __future__ import annotations

import torch

from probes.shift import fractional_shifts, shift_image


def counted_cells(inside: torch.Tensor, shift_cells: tuple[float, float]) -> torch.Tensor:
    """(H, W) bool: the cells where moved and shifted maps can be compared, for a shift of
    shift_cells = (dy, dx) cells. inside (H, W): the cells that see no canvas border (see
    probes.receptive_field). A cell counts when it is inside in the moved frame and every source cell
    its shifted value comes from (the whole-cell shifts around a fractional Δ) is inside too, so
    neither vacated nor border cells ever count."""
    counted = inside.clone()
    for _, dy, dx in fractional_shifts(*shift_cells):
        counted &= shift_image(inside, dy, dx)
    return counted


def equivariance_error(
    f_reference: torch.Tensor,
    f_moved: torch.Tensor,
    shift_cells: tuple[float, float],
    inside: torch.Tensor | None = None,
) -> float:
    """‖F(T_Δ x) − T_{Δ/s} F(x)‖ / ‖T_{Δ/s} F(x)‖, both norms over the same counted cells (counted_cells).

    f_reference = F(x), f_moved = F(T_Δ x): (C, H, W). T_{Δ/s} = shift_fractional(·, *shift_cells):
    for a shift that is not a whole number of cells, the maps moved by the fraction, interpolated
    linearly between the two neighbouring whole-cell shifts (in each direction). inside: (H, W) bool, by
    default every cell. Pass the object's response (maps minus the empty canvas's maps), so that the
    error is relative to what the object does, not to a background response that never moves. nan when
    no cell counts, or the shifted maps are zero there (0 / 0).
    """
    inside = torch.ones(f_reference.shape[-2:], dtype=torch.bool) if inside is None else inside  # (H, W)
    rows, cols = counted_cells(inside, shift_cells).nonzero(as_tuple=True)  # (n,) each
    width = f_reference.shape[-1]
    reference, moved = f_reference.flatten(-2), f_moved.flatten(-2)  # (C, H·W)
    # T_{Δ/s} F(x) at the counted cells only: every source cell of a counted cell lies on the map (that is
    # what counting it asks), so gathering those sources gives shift_fractional's values there.
    expected = sum(
        weight * reference.index_select(1, (rows - dy) * width + (cols - dx))
        for weight, dy, dx in fractional_shifts(*shift_cells)
    )  # (C, n)
    difference = moved.index_select(1, rows * width + cols) - expected  # (C, n)
    return float(difference.double().norm() / expected.double().norm())
