"""Receptive fields: which input pixels a feature-map cell sees, and so which cells never see the border.

A layer with cumulative stride s maps cell i to input pixels i·s + first … i·s + last (along each
axis; square kernels and strides alike in both). A cell whose span leaves the canvas sees the zero
padding: there the maps depend on where the border is, not only on what moved, so a comparison of
moved maps must leave it out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ReceptiveField:
    """Cell i sees input pixels i·stride + first to i·stride + last, inclusive, along either axis."""

    stride: int
    first: int  # negative when cell 0 reaches into the padding before the canvas
    last: int

    @property
    def size(self) -> int:
        """Side, in pixels, of the patch one cell sees."""
        return self.last - self.first + 1

    def inside(self, cells: int, canvas: int) -> torch.Tensor:
        """(cells,) bool: which of a layer's cells along one axis see only pixels of a `canvas`-pixel input."""
        starts = torch.arange(cells) * self.stride + self.first  # (cells,) first pixel seen by each cell
        return (starts >= 0) & (starts + self.size <= canvas)

    def fits(self, canvas: int) -> bool:
        """Whether any cell of the layer sees only pixels of a `canvas`-pixel input: the first cell that
        starts inside it, i = ⌈−first / stride⌉, also ends inside it."""
        first_inside = max(0, -(self.first // self.stride))  # ⌈−first / stride⌉ for first < 0, else 0
        return first_inside * self.stride + self.last <= canvas - 1


def measure_receptive_field(
    layer_of: Callable[[torch.Tensor], torch.Tensor], stride: int, size: int = 64
) -> ReceptiveField:
    """The receptive field of the layer computed by `layer_of`: images (1, 3, n, n) -> maps (1, C, h, w).

    Measured, so no architecture needs describing: the input pixels on which the centre cell's output
    depends are those with a non-zero gradient of Σ_c |F_c[centre]| for a random input (every channel
    together, so a ReLU that is off in one channel is on in others). The input grows by doubling from
    `size` until that patch no longer touches the input's edge, so the whole field was seen.
    """
    generator = torch.Generator().manual_seed(0)
    while True:
        image = torch.rand(1, 3, size, size, generator=generator).requires_grad_(True)  # (1, 3, n, n)
        try:
            maps = layer_of(image)  # (1, C, h, w)
        except RuntimeError:  # the input is too small for this network (a map would shrink to nothing)
            size *= 2
            continue
        row, column = maps.shape[-2] // 2, maps.shape[-1] // 2
        (gradient,) = torch.autograd.grad(maps[0, :, row, column].abs().sum(), image)  # (1, 3, n, n)
        seen = gradient[0].abs().sum(dim=0) > 0  # (n, n)
        rows = seen.any(dim=1).nonzero().flatten()  # input rows the centre cell depends on
        if len(rows) and rows.min() > 0 and rows.max() < size - 1:
            return ReceptiveField(stride, int(rows.min()) - row * stride, int(rows.max()) - row * stride)
        size *= 2
