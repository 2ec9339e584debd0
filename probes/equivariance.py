"""Equivariance error: how far a feature map of a moved input is from the moved feature map."""

from __future__ import annotations

import torch

from probes.shift import shift_image


def equivariance_error(
    f_reference: torch.Tensor, f_moved: torch.Tensor, shift_cells: tuple[int, int], margin: int = 0
) -> float:
    """‖F(T_Δ x) − T_{Δ/s} F(x)‖ / ‖T_{Δ/s} F(x)‖, both norms over the same interior cells.

    f_reference = F(x), f_moved = F(T_Δ x): (C, H, W). T_{Δ/s} is shift_image(·, *shift_cells), zero-filled.
    A cell counts when it is at least `margin` cells from every border in the moved frame and its
    source cell (i − dy, j − dx) is too, so vacated cells never count. A margin of the receptive
    field's radius keeps zero padding out of the comparison. nan when no cell counts (0 / 0).
    """
    expected = shift_image(f_reference, *shift_cells).double()  # (C, H, W)
    interior = torch.zeros(f_reference.shape[-2:], dtype=torch.bool, device=f_reference.device)  # (H, W)
    interior[margin : interior.shape[0] - margin, margin : interior.shape[1] - margin] = True
    counted = interior & shift_image(interior, *shift_cells)  # (H, W)
    difference = f_moved.double()[..., counted] - expected[..., counted]  # (C, n)
    return float(difference.norm() / expected[..., counted].norm())
