"""Shift Lab's models: torchvision classifiers (registry, network) and the small teaching CNNs of the
lab (small_cnn, training, lab_experiments), shown in the drag view through `teaching`."""

from .network import VARIANT_TITLES, Network, load_network, run_side_by_side, trace_all
from .registry import REGISTRY, ModelSpec
from .weights import WEIGHTS_DIR_ENV, OfflineWeights, WeightsUnavailable, offline_weights, weights_dir

__all__ = [
    "REGISTRY",
    "VARIANT_TITLES",
    "WEIGHTS_DIR_ENV",
    "ModelSpec",
    "Network",
    "OfflineWeights",
    "WeightsUnavailable",
    "load_network",
    "offline_weights",
    "run_side_by_side",
    "trace_all",
    "weights_dir",
]
