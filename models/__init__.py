"""Torchvision classifiers for Shift Lab: which models (registry) and how they are loaded (network)."""

from .network import Network, load_network, run_side_by_side, trace_all
from .registry import REGISTRY, ModelSpec
from .weights import WEIGHTS_DIR_ENV, WeightsUnavailable, weights_dir

__all__ = [
    "REGISTRY",
    "WEIGHTS_DIR_ENV",
    "ModelSpec",
    "Network",
    "WeightsUnavailable",
    "load_network",
    "run_side_by_side",
    "trace_all",
    "weights_dir",
]
