"""Pure measurements on tensors: what a CNN's outputs say about the scene. No Streamlit here."""

from probes.channels import colour_range, most_active_channels
from probes.equivariance import equivariance_error
from probes.invariance import Invariance, cosine_similarity, invariance, pooled_cosine_similarity
from probes.score_map import (
    ScoreMap,
    flip_rate,
    grid_positions,
    random_shift_pairs,
    score_map,
    scores_at,
    shift_consistency,
)
from probes.scores import class_probability, top_k
from probes.shift import estimate_shift, shift_image
from probes.stride import aligned, cumulative_stride
from probes.translation_report import LayerReport, layer_report

__all__ = [
    "Invariance",
    "LayerReport",
    "ScoreMap",
    "aligned",
    "class_probability",
    "colour_range",
    "cosine_similarity",
    "cumulative_stride",
    "equivariance_error",
    "estimate_shift",
    "flip_rate",
    "grid_positions",
    "invariance",
    "layer_report",
    "most_active_channels",
    "pooled_cosine_similarity",
    "random_shift_pairs",
    "score_map",
    "scores_at",
    "shift_consistency",
    "shift_image",
    "top_k",
]
