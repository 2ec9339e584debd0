"""Class scores: softmax probabilities read off a model's logits."""

from __future__ import annotations

import torch


def top_k(logits: torch.Tensor, k: int = 5) -> list[tuple[int, float]]:
    """The k most probable classes as (class index, probability), most probable first (all of them, if there
    are fewer than k).

    logits: (num_classes,) for one image. Probabilities are softmax(logits).
    """
    probabilities = torch.softmax(logits.double(), dim=0)  # (num_classes,)
    values, indices = probabilities.topk(min(k, len(probabilities)))
    return [(int(i), float(p)) for i, p in zip(indices, values, strict=True)]


def class_probability(logits: torch.Tensor, index: int) -> float:
    """softmax(logits)[index]: the probability the model gives one class, for one image."""
    return float(torch.softmax(logits.double(), dim=0)[index])
