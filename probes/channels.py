"""Which feature-map channels to show, and on what colour scale."""

from __future__ import annotations

import torch


def most_active_channels(fmap: torch.Tensor, k: int) -> list[int]:
    """Indices of the k channels with the largest mean activation, strongest first.

    fmap: (C, H, W) for one image. Picking them once, on a reference image, and keeping them
    while the object moves lets a student follow the same maps as they shift.
    """
    means = fmap.mean(dim=(1, 2))  # (C,)
    return [int(c) for c in means.topk(min(k, fmap.shape[0])).indices]


def colour_range(fmap: torch.Tensor, channels: list[int]) -> tuple[float, float]:
    """(low, high) of the chosen channels together: one shared scale, so tiles compare fairly.

    fmap: (C, H, W). A flat map gets a range of width 1 so that it never divides by zero.
    """
    chosen = fmap[channels]  # (k, H, W)
    low, high = float(chosen.min()), float(chosen.max())
    return (low, high) if high > low else (low, low + 1.0)
