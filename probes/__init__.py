"""Pure measurements on tensors: what a CNN's outputs say about the scene. No Streamlit here."""

from probes.channels import colour_range, most_active_channels
from probes.equivariance import counted_cells, equivariance_error
from probes.invariance import MIN_ROOM, Invariance, cosine_similarity, invariance, pooled_cosine_similarity
from probes.receptive_field import ReceptiveField, measure_receptive_field
from probes.score_map import (
    ScoreMap,
    flip_rate,
    flips,
    grid_positions,
    random_shift_pairs,
    score_map,
    scores_at,
    shift_consistency,
)
from probes.scores import class_probability, top_k
from probes.shift import (
    ShiftReference,
    estimate_shift,
    fractional_shifts,
    shift_fractional,
    shift_image,
    shift_reference,
)
from probes.stride import aligned, measure_stride
from probes.translation_report import LayerReport, layer_report, object_response

__all__ = [
    "MIN_ROOM",
    "Invariance",
    "LayerReport",
    "ReceptiveField",
    "ScoreMap",
    "ShiftReference",
    "aligned",
    "class_probability",
    "colour_range",
    "counted_cells",
    "cosine_similarity",
    "equivariance_error",
    "estimate_shift",
    "flip_rate",
    "flips",
    "fractional_shifts",
    "grid_positions",
    "invariance",
    "layer_report",
    "measure_receptive_field",
    "measure_stride",
    "most_active_channels",
    "object_response",
    "pooled_cosine_similarity",
    "random_shift_pairs",
    "score_map",
    "scores_at",
    "shift_consistency",
    "shift_fractional",
    "shift_image",
    "shift_reference",
    "top_k",
]
