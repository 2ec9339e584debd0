"""Score maps: one class's probability, and whether the top-1 class is still that class, for the
object at every position of a grid over the canvas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ScoreMap:
    """probability[i, j] and top1_kept[i, j] for the object centred at (xs[j], ys[i])."""

    positions: tuple[int, ...]  # the grid's coordinates along x and along y (a square grid)
    probability: torch.Tensor  # (N, N): softmax probability of the class
    top1_kept: torch.Tensor  # (N, N) bool: the class is still ranked first


def grid_positions(canvas: int, step: int) -> tuple[int, ...]:
    """Object centres step pixels apart, centred on the canvas: the grid of a score map."""
    count = (canvas - 1) // step + 1
    first = (canvas - 1 - (count - 1) * step) // 2
    return tuple(first + k * step for k in range(count))


def score_map(
    logits_of: Callable[[torch.Tensor], torch.Tensor],
    scene_at: Callable[[int, int], torch.Tensor],
    positions: tuple[int, ...],
    class_index: int,
    batch_size: int = 16,
    progress: Callable[[float], None] = lambda fraction: None,
) -> ScoreMap:
    """Evaluate the model on the scene at every grid position, batch_size images per forward pass.

    logits_of: images (B, 3, H, W) -> logits (B, K); scene_at(x, y) -> image (3, H, W).
    progress(fraction done) is called after each batch.
    """
    grid = [(x, y) for y in positions for x in positions]
    probabilities, kept = [], []
    for start in range(0, len(grid), batch_size):
        batch = torch.stack([scene_at(x, y) for x, y in grid[start : start + batch_size]])  # (B, 3, H, W)
        logits = logits_of(batch)  # (B, K)
        probabilities.append(torch.softmax(logits.double(), dim=1)[:, class_index])  # (B,)
        kept.append(logits.argmax(dim=1) == class_index)  # (B,)
        progress(min(1.0, (start + batch_size) / len(grid)))
    n = len(positions)
    return ScoreMap(positions, torch.cat(probabilities).view(n, n), torch.cat(kept).view(n, n))
