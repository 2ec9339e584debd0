"""The models Shift Lab offers, described as data: adding a model is one entry.

Probe layers are torchvision graph node names (see `get_graph_node_names`), listed
shallow -> deep at points where a stage (a block or a pooling step) ends. Beside them each entry
gives their cumulative strides: how many input pixels one feature-map cell steps over. The app
measures strides on the model itself (models.geometry); the listed ones say what to expect, and a
test checks that the measurement agrees.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from locales import N_

# TRANSLATORS: the parts of the model list: light models (for mobile phones), classic ones, residual and dense
# ones, modern ones
LIGHT, CLASSIC, RESIDUAL, MODERN = N_("Light (mobile)"), N_("Classic"), N_("Residual and dense"), N_("Modern")
# The parts of the model list, in display order, each with what its models have in common (the list's help). Both
# are data: a part's name is a stable value (a session keeps it), translated where shown, as its description is.
GROUPS: Mapping[str, str] = MappingProxyType(
    {
        LIGHT: N_("few parameters and operations, made for phones"),
        CLASSIC: N_("plain stacks of convolutions and pooling, and Inception's parallel branches"),
        RESIDUAL: N_("stages of blocks with skip connections (ResNet and its kin), or dense ones (DenseNet)"),
        MODERN: N_(
            "found by architecture search or scaling rules (EfficientNet, RegNet), and ConvNeXt, a ResNet modernised"
        ),
    }
)


@dataclass(frozen=True)
class ModelSpec:
    """A torchvision ImageNet classifier and the layers where the app looks inside it."""

    name: str  # torchvision builder name, e.g. "resnet18"; also names its weights file, <name>.pth
    label: str  # human name shown in the UI, e.g. "ResNet-18"
    group: str  # the part of the model list it is shown in: a key of GROUPS
    layers: tuple[str, ...]  # probe layers, shallow -> deep
    strides: tuple[int, ...]  # each probe layer's cumulative stride (measured; tests/test_architectures.py)
    # Keyword arguments for torchvision's builder, so that the architecture is the one its ImageNet
    # weights were trained as (for both columns: the scratch twin is the same architecture).
    options: tuple[tuple[str, object], ...] = ()
    # Regular-expression renames from the keys of torchvision's checkpoint to the model's own
    # parameter names, where the checkpoint predates a renaming (torchvision renames them likewise).
    renames: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if len(self.strides) != len(self.layers) or self.group not in GROUPS:
            raise ValueError(f"{self.name}: one stride per probe layer, and a group of {list(GROUPS)}")


# GoogLeNet and Inception v3 as torchvision builds them for its ImageNet weights: their first layer
# turns ImageNet-normalised input into the [-1, 1] range Google trained on (transform_input), and
# they keep the two auxiliary classifiers the checkpoint holds (only used in training: the eval-mode
# graph leaves them out). init_weights: torchvision's own initialisation for the scratch twin.
_GOOGLE = (("transform_input", True), ("aux_logits", True), ("init_weights", True))

# ResNet-50 and its wider and grouped variants share their stages (3, 4, 6, 3 bottleneck blocks): their probe layers
# and strides are the same
_BOTTLENECK_RESNET = (
    ("relu", "maxpool", "layer1.2.relu_2", "layer2.3.relu_2", "layer3.5.relu_2", "layer4.2.relu_2"),
    (2, 4, 4, 8, 16, 32),
)

_SPECS = (
    # Light (mobile)
    # stem, then the last block of each resolution stage
    ModelSpec(
        "mobilenet_v2",
        "MobileNetV2",
        LIGHT,
        ("features.0", "features.3.add", "features.6.add", "features.13.add", "features.18"),
        (2, 4, 8, 16, 32),
    ),
    # stem, then the end of each resolution stage (the last is the 1x1 conv before the pool)
    ModelSpec(
        "mobilenet_v3_small",
        "MobileNetV3 Small",
        LIGHT,
        ("features.0", "features.1.block.2", "features.3.add", "features.8.add", "features.12"),
        (2, 4, 8, 16, 32),
    ),
    ModelSpec(
        "mobilenet_v3_large",
        "MobileNetV3 Large",
        LIGHT,
        ("features.1.add", "features.3.add", "features.6.add", "features.12.add", "features.16"),
        (2, 4, 8, 16, 32),
    ),
    # stem conv, max-pool, the channel shuffle ending each stage, the last 1x1 conv
    ModelSpec(
        "shufflenet_v2_x1_0",
        "ShuffleNetV2 1.0x",
        LIGHT,
        ("conv1.2", "maxpool", "stage2.3.view_1", "stage3.7.view_1", "stage4.3.view_1", "conv5.2"),
        (2, 4, 8, 16, 32, 32),
    ),
    # the stem's separable conv, the last block of each resolution stage, the last 1x1 conv
    ModelSpec(
        "mnasnet1_0",
        "MNASNet 1.0",
        LIGHT,
        ("layers.7", "layers.8.2.add", "layers.9.2.add", "layers.11.1.add", "layers.16"),
        (2, 4, 8, 16, 32),
    ),
    # first conv, each max-pool, the last Fire module
    ModelSpec(
        "squeezenet1_1",
        "SqueezeNet 1.1",
        LIGHT,
        ("features.1", "features.2", "features.5", "features.8", "features.12.cat"),
        (2, 4, 8, 16, 16),
    ),
    # Classic
    # first conv, two max-pools, conv4, the last max-pool
    ModelSpec(
        "alexnet",
        "AlexNet",
        CLASSIC,
        ("features.1", "features.2", "features.5", "features.9", "features.12"),
        (4, 8, 16, 16, 32),
    ),
    # the five max-pools that end VGG's conv stages
    ModelSpec(
        "vgg11",
        "VGG-11",
        CLASSIC,
        ("features.2", "features.5", "features.10", "features.15", "features.20"),
        (2, 4, 8, 16, 32),
    ),
    ModelSpec(
        "vgg16",
        "VGG-16",
        CLASSIC,
        ("features.4", "features.9", "features.16", "features.23", "features.30"),
        (2, 4, 8, 16, 32),
    ),
    # first conv, the conv before the second max-pool, the last Inception module at each resolution
    ModelSpec(
        "googlenet",
        "GoogLeNet",
        CLASSIC,
        ("conv1.relu", "conv3.relu", "inception3b.cat", "inception4e.cat", "inception5b.cat"),
        (2, 4, 8, 16, 32),
        options=_GOOGLE,
    ),
    # Inception v3 pads none of its stem convolutions, so its maps do not divide the canvas evenly;
    # the strides are still whole (sizes grow by one cell per stride pixels). Trained at 299 px, it
    # sees the app's canvas as it is, like every model here.
    ModelSpec(
        "inception_v3",
        "Inception v3",
        CLASSIC,
        ("Conv2d_2b_3x3.relu", "Conv2d_4a_3x3.relu", "Mixed_5d.cat", "Mixed_6e.cat", "Mixed_7c.cat_2"),
        (2, 4, 8, 16, 32),
        options=_GOOGLE,
    ),
    # Residual and dense
    # stem conv, max-pool, then the end of each residual stage
    ModelSpec(
        "resnet18",
        "ResNet-18",
        RESIDUAL,
        ("relu", "maxpool", "layer1.1.relu_1", "layer2.1.relu_1", "layer3.1.relu_1", "layer4.1.relu_1"),
        (2, 4, 4, 8, 16, 32),
    ),
    ModelSpec(
        "resnet50",
        "ResNet-50",
        RESIDUAL,
        *_BOTTLENECK_RESNET,
    ),
    ModelSpec(
        "resnext50_32x4d",
        "ResNeXt-50 32x4d",
        RESIDUAL,
        *_BOTTLENECK_RESNET,
    ),
    ModelSpec(
        "wide_resnet50_2",
        "Wide ResNet-50-2",
        RESIDUAL,
        *_BOTTLENECK_RESNET,
    ),
    # stem conv, its max-pool, then the concatenation ending each dense block
    ModelSpec(
        "densenet121",
        "DenseNet-121",
        RESIDUAL,
        (
            "features.relu0",
            "features.pool0",
            "features.denseblock1.cat",
            "features.denseblock2.cat",
            "features.denseblock3.cat",
            "features.denseblock4.cat",
        ),
        (2, 4, 4, 8, 16, 32),
        # its checkpoint names a dense layer's parts "norm.1", "conv.2", ...: the model calls them "norm1", "conv2"
        renames=((r"(denselayer\d+\.(?:norm|relu|conv))\.([12])\.", r"\1\2."),),
    ),
    # Modern
    # stem, then the last block of each resolution stage (the last is the 1x1 conv before the pool)
    ModelSpec(
        "efficientnet_b0",
        "EfficientNet-B0",
        MODERN,
        ("features.0", "features.2.1.add", "features.3.1.add", "features.5.2.add", "features.8"),
        (2, 4, 8, 16, 32),
    ),
    # the end of each resolution stage (trained at 384 px, shown the app's canvas like every model)
    ModelSpec(
        "efficientnet_v2_s",
        "EfficientNetV2-S",
        MODERN,
        ("features.1.1.add", "features.2.3.add", "features.3.3.add", "features.5.8.add", "features.7"),
        (2, 4, 8, 16, 32),
    ),
    # stem, then the last block of each of the four stages
    ModelSpec(
        "regnet_y_400mf",
        "RegNetY-400MF",
        MODERN,
        (
            "stem",
            "trunk_output.block1.block1-0.activation",
            "trunk_output.block2.block2-2.activation",
            "trunk_output.block3.block3-5.activation",
            "trunk_output.block4.block4-5.activation",
        ),
        (2, 4, 8, 16, 32),
    ),
    # the 4x4 "patchify" stem, then the last block of each stage
    ModelSpec(
        "convnext_tiny",
        "ConvNeXt-Tiny",
        MODERN,
        ("features.0", "features.1.2.add", "features.3.2.add", "features.5.8.add", "features.7.2.add"),
        (4, 4, 8, 16, 32),
    ),
)

# Display order, by group: MobileNetV2 first, the default that has offline weights.
REGISTRY: Mapping[str, ModelSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
