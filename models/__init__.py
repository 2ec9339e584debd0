"""Shift Lab's models: torchvision classifiers (registry, network, weights) and the small CNNs of the lab
(small_cnn, training, lab_experiments); every kind the drag view shows is described once as a family
(families), with each layer's stride and receptive field measured on the model (geometry)."""

from .network import VARIANT_TITLES, Network, load_network, run_side_by_side, trace_all
from .registry import REGISTRY, ModelSpec
from .unavailable import ModelUnavailable
from .weights import WEIGHTS_DIR_ENV, OfflineWeights, WeightsUnavailable, offline_weights, weights_dir

__all__ = [
    "REGISTRY",
    "VARIANT_TITLES",
    "WEIGHTS_DIR_ENV",
    "ModelSpec",
    "ModelUnavailable",
    "Network",
    "OfflineWeights",
    "WeightsUnavailable",
    "load_network",
    "offline_weights",
    "run_side_by_side",
    "trace_all",
    "weights_dir",
]
