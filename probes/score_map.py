"""Score maps: one class's probability, and whether the top-1 class is still that class, for the
object at every position of a grid over the canvas."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ScoreMap:
    """probability[i, j] and top1_kept[i, j] for the object centred at (positions[j], positions[i])."""

    positions: tuple[int, ...]  # the grid's coordinates along x and along y (a square grid)
    probability: torch.Tensor  # (N, N): softmax probability of the class
    top1_kept: torch.Tensor  # (N, N) bool: the class is still ranked first


def grid_positions(canvas: int, step: int) -> tuple[int, ...]:
    """Object centres step pixels apart, centred on the canvas: the grid of a score map."""
    count = (canvas - 1) // step + 1
    first = (canvas - 1 - (count - 1) * step) // 2
    return tuple(first + k * step for k in range(count))


def scores_at(
    logits_of: Callable[[torch.Tensor], torch.Tensor],
    scene_at: Callable[[int, int], torch.Tensor],
    points: Sequence[tuple[int, int]],
    class_index: int,
    batch_size: int = 16,
    progress: Callable[[float], None] = lambda fraction: None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(probability of the class (P,), top-1 class (P,)) with the object centred at each (x, y) point.

    logits_of: images (B, 3, H, W) -> logits (B, K); scene_at(x, y) -> image (3, H, W); batch_size
    images per forward pass; progress(fraction done) is called after each batch.
    """
    probabilities, top1 = [], []
    for start in range(0, len(points), batch_size):
        batch = torch.stack([scene_at(x, y) for x, y in points[start : start + batch_size]])  # (B, 3, H, W)
        logits = logits_of(batch)  # (B, K)
        probabilities.append(torch.softmax(logits.double(), dim=1)[:, class_index])  # (B,)
        top1.append(logits.argmax(dim=1))  # (B,)
        progress(min(1.0, (start + batch_size) / len(points)))
    return torch.cat(probabilities), torch.cat(top1)


def score_map(
    logits_of: Callable[[torch.Tensor], torch.Tensor],
    scene_at: Callable[[int, int], torch.Tensor],
    positions: tuple[int, ...],
    class_index: int,
    batch_size: int = 16,
    progress: Callable[[float], None] = lambda fraction: None,
) -> ScoreMap:
    """scores_at over the square grid positions × positions, as maps indexed [y, x]."""
    grid = [(x, y) for y in positions for x in positions]
    probability, top1 = scores_at(logits_of, scene_at, grid, class_index, batch_size, progress)
    n = len(positions)
    return ScoreMap(positions, probability.view(n, n), (top1 == class_index).view(n, n))


def flip_rate(top1: torch.Tensor) -> float:
    """The fraction of neighbouring positions, one step apart, whose top-1 classes differ.

    Along a one-pixel sweep this is Azulay & Weiss's "jaggedness": how often moving the object
    by a single pixel changes the network's answer. top1: (P,) class indices, P >= 2.
    """
    return float((top1[1:] != top1[:-1]).double().mean())


def flips(top1: torch.Tensor) -> list[int]:
    """The positions (indices into top1, a (P,) sweep of class indices) whose top-1 class differs from the
    one before: where the network's answer changed."""
    return (torch.nonzero(top1[1:] != top1[:-1]).flatten() + 1).tolist()


def random_shift_pairs(
    centre: tuple[int, int], count: int, window: int = 32, seed: int = 0
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """count pairs of object positions, each offset from centre by (dx, dy) drawn uniformly from
    [−window/2, window/2)²: Zhang's two random crops, offsets in [0, window)², seen from the object."""
    generator = torch.Generator().manual_seed(seed)
    offsets = torch.randint(-window // 2, window // 2, (count, 2, 2), generator=generator).tolist()  # (count, 2, 2)
    x, y = centre
    return [((x + a[0], y + a[1]), (x + b[0], y + b[1])) for a, b in offsets]


def shift_consistency(top1_first: torch.Tensor, top1_second: torch.Tensor) -> float:
    """The fraction of pairs whose two positions get the same top-1 class (Zhang 2019). (P,) each."""
    return float((top1_first == top1_second).double().mean())
