"""Adaptive polyphase sampling (APS; Chaman & Dokmanic 2021, "Truly shift-invariant convolutional neural networks").

Subsampling a map by 2 keeps the cells (2i, 2j): one of its four *polyphase components*, the cells
(2i + a, 2j + b) for a fixed phase (a, b) in {0, 1}². Shift the input by one pixel and that fixed grid
lands on another component, so the output changes, not only moves (aliasing). APS keeps, for each
image, the component with the largest norm instead. A circular shift of the map only permutes its
components and moves each by whole cells, which leaves every norm as it was, so APS picks the same
component, moved: the output is a circular shift of the output before, for *every* shift, odd ones
included. With circular padding everywhere and a global-average-pool head on top, a network is then
exactly invariant to circular shifts of its input (to float rounding).

Used as the lab's drop-in for stride-2 subsampling the way Zhang's blur pool is (`models.small_cnn`):
max pool with stride 1, then APS instead of max pool with stride 2. The stride-1 max pool must keep
the map's size and wrap round as the convolutions do, or the map would stop being a circular shift
before APS sees it: `PaddedMaxPool2d` pads one cell the network's way.

Two ties break by order: when several components share the largest norm, the first wins, and a shift
may change which is first. With real-valued maps that takes an exact tie (an all-zero map is harmless:
all its components are the same zeros).
"""

from __future__ import annotations

from types import MappingProxyType

import torch
import torch.nn.functional as F
from torch import nn

STRIDE = 2  # APS as used here halves the map, as the pooling it replaces does

# How the map is padded, named as the lab's conv padding ("valid" pads nothing).
_PAD_MODES = MappingProxyType({"zeros": "constant", "reflect": "reflect", "circular": "circular"})


def _pad_mode(padding: str) -> str | None:
    """torch's F.pad mode for one of the lab's paddings; None for "valid" (no padding)."""
    if padding != "valid" and padding not in _PAD_MODES:
        raise ValueError(f"unknown padding {padding!r}; choose valid or one of {', '.join(_PAD_MODES)}")
    return _PAD_MODES.get(padding)


def polyphase_components(maps: torch.Tensor, stride: int = STRIDE) -> torch.Tensor:
    """(B, C, H, W) maps, H and W multiples of `stride` → (B, stride², C, H / stride, W / stride).

    Component a·stride + b holds the cells (stride·i + a, stride·j + b): maps[:, :, a::stride, b::stride].
    """
    cells = F.pixel_unshuffle(maps, stride)  # (B, C·s², h, w): channel c·s² + a·s + b is component (a, b) of c
    return cells.unflatten(1, (-1, stride * stride)).transpose(1, 2)  # (B, s², C, h, w)


def polyphase_energy(maps: torch.Tensor, stride: int = STRIDE) -> torch.Tensor:
    """(B, C, H, W) → (B, stride²): the squared ℓ2 norm of each polyphase component, over all its channels and cells,
    in the order of `polyphase_components`. No gradient flows through it: it only chooses."""
    per_cell = maps.detach().square().sum(dim=1)  # (B, H, W)
    grid = per_cell.unflatten(1, (-1, stride)).unflatten(3, (-1, stride))  # (B, h, a, w, b): cell (s·i + a, s·j + b)
    return grid.sum(dim=(1, 3)).flatten(1)  # (B, s²): index a·s + b


def adaptive_polyphase_sampling(maps: torch.Tensor, stride: int = STRIDE) -> torch.Tensor:
    """(B, C, H, W) → (B, C, H / stride, W / stride): per image, the polyphase component of largest ℓ2 norm.

    The norm is over all channels and cells of a component together, so every channel of an image keeps
    the same phase (the channels stay aligned). H and W must be multiples of `stride`. The result is
    `polyphase_components(maps)[i, k]` for image i and its chosen k, picked out of a view of the maps (cheaper to
    train through than copying all the components).
    """
    chosen = polyphase_energy(maps, stride).argmax(dim=1)  # (B,): the first component of largest norm
    row_phase, column_phase = chosen // stride, chosen % stride  # (B,) each
    grid = maps.unflatten(2, (-1, stride)).unflatten(4, (-1, stride))  # (B, C, h, a, w, b): a view
    rows = torch.take_along_dim(grid, row_phase[:, None, None, None, None, None], dim=3)  # (B, C, h, 1, w, b)
    cells = torch.take_along_dim(rows, column_phase[:, None, None, None, None, None], dim=5)  # (B, C, h, 1, w, 1)
    return cells.squeeze(5).squeeze(3)  # (B, C, h, w)


class PaddedMaxPool2d(nn.Module):
    """2 × 2 max pool with stride 1 that keeps the map's size: one cell added at the right and at the bottom,
    filled the network's way (circular wraps round, so a circular shift of the input shifts the output the
    same way). "valid" adds nothing: the map loses a cell per side."""

    def __init__(self, padding: str = "zeros") -> None:
        super().__init__()
        self.mode = _pad_mode(padding)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C, H, W), or H − 1 for valid
        if self.mode is not None:
            maps = F.pad(maps, (0, 1, 0, 1), mode=self.mode)  # (B, C, H + 1, W + 1)
        return F.max_pool2d(maps, kernel_size=2, stride=1)


class AdaptivePolyphaseSampling2d(nn.Module):
    """`adaptive_polyphase_sampling` by 2 as a layer. A map with an odd side is first given one more cell at
    the end of it, the network's way ("valid": a zero, which after ReLU and max pooling is the smallest
    value), so that it splits into four equal components: n cells → ⌈n / 2⌉, as blur pool gives. Exactness
    under circular shifts needs even sides: an added cell does not wrap round with the shift."""

    def __init__(self, padding: str = "zeros") -> None:
        super().__init__()
        self.mode = _pad_mode(padding) or "constant"

    def forward(self, maps: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C, ⌈H / 2⌉, ⌈W / 2⌉)
        odd = (0, maps.shape[-1] % STRIDE, 0, maps.shape[-2] % STRIDE)  # one cell at the end of an odd side
        maps = F.pad(maps, odd, mode=self.mode)  # (B, C, H', W'), even sides
        return adaptive_polyphase_sampling(maps, STRIDE)
