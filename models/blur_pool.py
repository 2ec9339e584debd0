"""Blur pooling (Zhang 2019, "Making convolutional networks shift-invariant again").

Subsampling a feature map keeps every second cell, so a one-pixel shift of the input can change
the result completely (aliasing). Blurring first with a small low-pass filter spreads each value
over its neighbours, so the kept cells change smoothly as the input moves. Zhang's max-blur-pool
replaces MaxPool(kernel 2, stride 2) by MaxPool(kernel 2, stride 1) followed by this blur with stride 2.
"""

from __future__ import annotations

from math import comb
from types import MappingProxyType

import torch
import torch.nn.functional as F
from torch import nn

BLUR_SIZES = range(1, 6)  # 1 = no blur at all (plain subsampling), 5 = the strongest blur offered

# How the blur fills the border, named as the lab's conv padding; "valid" pads nothing and shrinks the map.
_PAD_MODES = MappingProxyType({"zeros": "constant", "reflect": "reflect", "circular": "circular"})


def binomial_filter(size: int) -> torch.Tensor:
    """(size, size) low-pass filter: the outer product of the binomial row C(size−1, k) / 2^(size−1).

    size 3 gives [1, 2, 1] / 4 along each axis. The row is Pascal's triangle, the discrete Gaussian;
    its entries sum to 1, so a flat map stays the same value.
    """
    if size not in BLUR_SIZES:
        raise ValueError(f"blur size must be {BLUR_SIZES.start}..{BLUR_SIZES.stop - 1}, got {size}")
    row = torch.tensor([comb(size - 1, k) for k in range(size)], dtype=torch.float32) / 2 ** (size - 1)  # (size,)
    return torch.outer(row, row)  # (size, size)


class BlurPool2d(nn.Module):
    """Blur each channel with `binomial_filter(size)`, keeping every stride-th cell.

    The padding keeps a map of n cells at ⌈n / stride⌉ cells (for even sizes, one cell more on the
    right and bottom), except "valid", which pads nothing.
    """

    def __init__(self, channels: int, size: int, stride: int = 2, padding: str = "zeros") -> None:
        super().__init__()
        if padding != "valid" and padding not in _PAD_MODES:
            raise ValueError(f"unknown padding {padding!r}; choose valid or one of {', '.join(_PAD_MODES)}")
        self.stride = stride
        self.padding = padding
        before = (size - 1) // 2
        self.pad = (before, size - 1 - before, before, size - 1 - before)  # left, right, top, bottom
        kernel = binomial_filter(size).expand(channels, 1, size, size).clone()  # (C, 1, k, k): one filter per channel
        self.register_buffer("kernel", kernel, persistent=False)  # computed, so not saved with the weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C, H', W')
        if self.padding != "valid":
            x = F.pad(x, self.pad, mode=_PAD_MODES[self.padding])  # (B, C, H + k − 1, W + k − 1)
        return F.conv2d(x, self.kernel, stride=self.stride, groups=x.shape[1])
