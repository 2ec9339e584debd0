"""A layer's cumulative stride s: how many input pixels one step between its feature-map cells covers."""

from __future__ import annotations

from collections.abc import Callable


def measure_stride(layer_height: Callable[[int], int], base: int = 224, step: int = 256) -> int:
    """s = step / (h(base + step) − h(base)), with h(n) the layer's feature-map height for an n × n input.

    Measured from the model itself, so padding, ceil-mode pooling and odd kernels need no bookkeeping:
    each conv or pool maps n ↦ ⌊(n + c) / stride⌋ + 1, so growing the input by a multiple of s grows h by
    exactly step / s cells. Raises ValueError when the growth does not divide step (step is not a
    multiple of s, or h does not grow at all, as after a global pool).
    """
    growth = layer_height(base + step) - layer_height(base)
    if growth <= 0 or step % growth:
        raise ValueError(f"a {step}-pixel larger input grew the layer by {growth} cells: no whole stride divides it")
    return step // growth


def aligned(shift_px: int, stride: int) -> bool:
    """Whether a shift of shift_px input pixels is a whole number of cells: shift_px ≡ 0 (mod stride)."""
    return shift_px % stride == 0
