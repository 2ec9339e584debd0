"""Invariance: how similar a layer's output stays when the object moves, judged against a baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> float:
    """⟨a, b⟩ / (‖a‖ ‖b‖) of the flattened tensors; nan if either is all zeros."""
    a, b = a.flatten().double(), b.flatten().double()  # (N,), (N,)
    return float(a @ b / (a.norm() * b.norm()))


def pooled_cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> float:
    """Cosine similarity of the global-average-pooled maps: (C, H, W) → (C,), where position is averaged away."""
    return cosine_similarity(a.mean(dim=(-2, -1)), b.mean(dim=(-2, -1)))  # (C,), (C,)


MIN_ROOM = 0.05  # 1 − baseline below this leaves no room: the normalised value would amplify noise


@dataclass(frozen=True)
class Invariance:
    """same = sim(object at the reference position, moved object); baseline = sim(object, another object at
    the reference position). A randomly initialised deep net scores about 0.999 on ANY two inputs, so
    `same` alone flatters it: show both, and `normalised` where the baseline leaves room."""

    same: float
    baseline: float

    @property
    def has_room(self) -> bool:
        """Whether the baseline leaves room for a meaningful normalised value: 1 − baseline ≥ MIN_ROOM. When it
        does not, this layer finds a different object about as similar as the object itself."""
        return 1 - self.baseline >= MIN_ROOM

    @property
    def normalised(self) -> float:
        """(same − baseline) / (1 − baseline): 1 = as similar as the unmoved object, 0 = no more similar
        than a different object. nan when the baseline leaves no room (has_room): dividing by 1 − 0.999
        would turn a difference in the third decimal into a large number (e.g. 0.996 vs 0.998 → −1.6)."""
        if not self.has_room:
            return math.nan
        return (self.same - self.baseline) / (1 - self.baseline)


def invariance(reference: torch.Tensor, moved: torch.Tensor, other_object: torch.Tensor, pooled: bool) -> Invariance:
    """Invariance(sim(reference, moved), sim(reference, other_object)), each a layer's output (C, H, W);
    sim is pooled_cosine_similarity if pooled, else cosine_similarity of the whole maps."""
    similarity = pooled_cosine_similarity if pooled else cosine_similarity
    return Invariance(same=similarity(reference, moved), baseline=similarity(reference, other_object))
