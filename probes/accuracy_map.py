"""Accuracy by position: how often a classifier is right with the objects centred at each point of a grid.

Biscione & Bowers (2021) train a network with objects at one location and test it everywhere: a
network that has learnt translation invariance keeps its accuracy away from the trained location;
one that has not drops to chance there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

Predict = Callable[[torch.Tensor], torch.Tensor]  # images (B, 3, H, W) -> logits (B, K)
SamplesAt = Callable[[int, int], tuple[torch.Tensor, torch.Tensor]]  # (x, y) -> images (S, 3, H, W), labels (S,)


@dataclass(frozen=True)
class AccuracyMap:
    """accuracy[i, j]: fraction correct with the objects centred at (x, y) = (positions[j], positions[i])."""

    positions: tuple[int, ...]  # the grid's coordinates along x and along y (a square grid)
    accuracy: torch.Tensor  # (N, N) float64 in [0, 1]


def accuracy_at(predict: Predict, samples_at: SamplesAt, x: int, y: int) -> float:
    """Fraction of the objects at (x, y) whose top-1 class is their label."""
    images, labels = samples_at(x, y)  # (S, 3, H, W), (S,)
    return float((predict(images).argmax(dim=1) == labels).double().mean())


def accuracy_map(
    predict: Predict,
    samples_at: SamplesAt,
    positions: Sequence[int],
    progress: Callable[[float], None] = lambda fraction: None,
) -> AccuracyMap:
    """accuracy_at every (x, y) of the square grid positions × positions; progress(fraction done) after each row."""
    rows = []
    for row, y in enumerate(positions):
        rows.append([accuracy_at(predict, samples_at, x, y) for x in positions])
        progress((row + 1) / len(positions))
    return AccuracyMap(tuple(positions), torch.tensor(rows, dtype=torch.float64))  # (N, N)


def accuracy_far_from(accuracy: AccuracyMap, x: int, y: int, distance: float) -> float:
    """Mean accuracy over the grid points at least `distance` pixels (Euclidean) from (x, y); nan if none are."""
    grid = torch.tensor(accuracy.positions, dtype=torch.float64)  # (N,)
    far = torch.hypot(grid[None, :] - x, grid[:, None] - y) >= distance  # (N, N), indexed [y, x]
    return float(accuracy.accuracy[far].mean()) if far.any() else math.nan
