"""The models Shift Lab offers, described as data: adding a model is one entry.

Probe layers are torchvision graph node names (see `get_graph_node_names`), listed
shallow -> deep at points where a block or a pooling step ends. The comment on each entry
gives their cumulative strides: how many input pixels one feature-map cell steps over.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class ModelSpec:
    """A torchvision ImageNet classifier and the layers where the app looks inside it."""

    name: str  # torchvision builder name, e.g. "resnet18"
    label: str  # human name shown in the UI, e.g. "ResNet-18"
    layers: tuple[str, ...]  # probe layers, shallow -> deep


_SPECS = (
    # strides 2, 4, 8, 16, 32: stem, then the last block of each resolution stage
    ModelSpec(
        "mobilenet_v2",
        "MobileNetV2",
        ("features.0", "features.3.add", "features.6.add", "features.13.add", "features.18"),
    ),
    # strides 2, 4, 4, 8, 16, 32: stem conv, max-pool, then the end of each residual stage
    ModelSpec(
        "resnet18",
        "ResNet-18",
        ("relu", "maxpool", "layer1.1.relu_1", "layer2.1.relu_1", "layer3.1.relu_1", "layer4.1.relu_1"),
    ),
    # strides 2, 4, 8, 16, 16: first conv, each max-pool, the last Fire module
    ModelSpec(
        "squeezenet1_1",
        "SqueezeNet 1.1",
        ("features.1", "features.2", "features.5", "features.8", "features.12.cat"),
    ),
    # strides 4, 8, 16, 16, 32: first conv, two max-pools, conv4, the last max-pool
    ModelSpec(
        "alexnet",
        "AlexNet",
        ("features.1", "features.2", "features.5", "features.9", "features.12"),
    ),
    # strides 2, 4, 8, 16, 32: the five max-pools that end VGG's conv stages
    ModelSpec(
        "vgg11",
        "VGG-11",
        ("features.2", "features.5", "features.10", "features.15", "features.20"),
    ),
)

# Display order: MobileNetV2 first, the default that has offline weights.
REGISTRY: Mapping[str, ModelSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
