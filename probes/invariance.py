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


@dataclass(frozen=True)
class Invariance:
    """same = sim(object at the reference position, moved object); baseline = sim(object, another object at
    the reference position). A randomly initialised deep net scores about 0.999 on ANY two inputs, so
    `same` alone flatters it; `normalised` is what to show."""

    same: float
    baseline: float

    @property
    def normalised(self) -> float:
        """(same − baseline) / (1 − baseline): 1 = as similar as the unmoved object, 0 = no more similar
        than a different object. nan when baseline ≥ 1 − 1e-9: the layer tells nothing apart."""
        if self.baseline >= 1 - 1e-9:
            return math.nan
        return (self.same - self.baseline) / (1 - self.baseline)


def invariance(reference: torch.Tensor, moved: torch.Tensor, other_object: torch.Tensor, pooled: bool) -> Invariance:
    """Invariance(sim(reference, moved), sim(reference, other_object)), each a layer's output (C, H, W);
    sim is pooled_cosine_similarity if pooled, else cosine_similarity of the whole maps."""
    similarity = pooled_cosine_similarity if pooled else cosine_similarity
    return Invariance(same=similarity(reference, moved), baseline=similarity(reference, other_object))
