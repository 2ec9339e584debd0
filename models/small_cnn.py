"""A small configurable CNN for the lab: the architecture choices that decide how it responds to translation.

The network is `depth` identical blocks, then a head:

    block = 3×3 conv (width channels) → ReLU → downsampling by 2
    head  = flatten → FC → ReLU → FC  |  global average pool → FC  |  1×1 conv → global max pool

Downsampling is a max pool, an average pool, Zhang's blur pool (max pool with stride 1, then a
binomial blur with stride 2), Chaman & Dokmanic's adaptive polyphase sampling (APS: max pool with
stride 1, then of the four stride-2 grids of cells the one with the largest norm, per image; see
`models.polyphase`), a stride-2 conv, or none. APS takes blur pool's place after the same stride-1 max
pool, so that the two anti-aliasing choices differ only in how they subsample. Padding is zeros, reflect, circular (the
border wraps round), or valid (none: every conv trims a pixel off each side).

Inputs are (B, 3, H, W) images in [0, 1] used as they are, with no normalisation: the black
background is exactly 0, the same value zero padding adds, so "empty canvas" and "outside the
canvas" look alike to the first layer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from math import prod
from types import MappingProxyType
from typing import Literal, NamedTuple, get_args

import torch
from torch import nn

from locales import N_, _
from models.blur_pool import BLUR_SIZES, BlurPool2d
from models.polyphase import AdaptivePolyphaseSampling2d, PaddedMaxPool2d

Downsample = Literal["max", "avg", "blur", "aps", "stride", "none"]
Padding = Literal["zeros", "reflect", "circular", "valid"]
Head = Literal["flatten", "gap", "conv"]

DOWNSAMPLES: tuple[str, ...] = get_args(Downsample)
PADDINGS: tuple[str, ...] = get_args(Padding)
HEADS: tuple[str, ...] = get_args(Head)
PADDING_NAMES: Mapping[str, str] = MappingProxyType(  # each padding mode as the page names it (translated where shown)
    {
        # TRANSLATORS: a padding mode: the border filled with zeros
        "zeros": N_("zeros"),
        # TRANSLATORS: a padding mode: the border mirrors the image
        "reflect": N_("reflect"),
        # TRANSLATORS: a padding mode: the border wraps round to the other side
        "circular": N_("circular"),
        # TRANSLATORS: a padding mode: no padding, every convolution trims the map
        "valid": N_("valid"),
    }
)

# Each downsampling as a refusal names it: "6 blocks with valid padding and max downsampling shrink ...".
_DOWNSAMPLE_WORDS: Mapping[str, str] = MappingProxyType(
    {
        # TRANSLATORS: a kind of downsampling, as in "6 blocks with zeros padding and max downsampling"
        "max": N_("max"),
        # TRANSLATORS: a kind of downsampling, as in "6 blocks with zeros padding and avg downsampling"
        "avg": N_("avg"),
        # TRANSLATORS: a kind of downsampling, as in "6 blocks with zeros padding and blur downsampling"
        "blur": N_("blur"),
        "aps": "aps",  # a name (adaptive polyphase sampling)
        # TRANSLATORS: a kind of downsampling, as in "6 blocks with zeros padding and stride downsampling"
        "stride": N_("stride"),
        # TRANSLATORS: a kind of downsampling, as in "6 blocks with valid padding and none downsampling"
        "none": N_("none"),
    }
)
KERNEL_SIZE = 3  # every block's conv
HIDDEN_INIT_STD = 1e-3  # the flatten head's hidden layer starts near zero (see `build_small_cnn`)
MAX_FLATTEN_WEIGHTS = 4_000_000  # beyond this a flatten head is too big to train on a CPU in a lesson

_RANGES = MappingProxyType(
    {
        "depth": range(1, 7),
        "width": range(1, 129),
        "hidden": range(1, 1025),
        "classes": range(2, 101),
        "canvas": range(16, 257),
        "blur_size": BLUR_SIZES,
    }
)


@dataclass(frozen=True)
class SmallCNNConfig:
    """Everything that defines the architecture; two models with equal configs can share weights."""

    depth: int = 3  # number of blocks
    width: int = 16  # channels of every block
    downsample: Downsample = "max"  # how each block halves its map
    blur_size: int = 3  # binomial filter size of "blur" downsampling (1 = no blur)
    padding: Padding = "zeros"
    head: Head = "flatten"
    hidden: int = 64  # units of the flatten head's hidden layer
    classes: int = 10
    canvas: int = 64  # side of the square input images, in pixels

    def __post_init__(self) -> None:
        """Refuses, in the page's words (a ValueError's text is shown), an architecture that cannot be built."""
        for name, valid in (("downsample", DOWNSAMPLES), ("padding", PADDINGS), ("head", HEADS)):
            if getattr(self, name) not in valid:
                raise ValueError(
                    _("unknown {setting} {value}; choose one of {choices}").format(
                        setting=name, value=repr(getattr(self, name)), choices=", ".join(valid)
                    )
                )
        for name, valid in _RANGES.items():
            value = getattr(self, name)
            if not isinstance(value, int) or value not in valid:
                raise ValueError(
                    _("{setting} must be a whole number from {low} to {high}, got {value}").format(
                        setting=name, low=valid.start, high=valid.stop - 1, value=repr(value)
                    )
                )
        size = self.canvas
        for window in block_windows(self) * self.depth:
            if self.padding == "reflect" and size <= window.padding - window.padding // 2:
                raise ValueError(
                    _(
                        "reflect padding needs maps wider than the padding: {depth} blocks shrink a {canvas}-pixel "
                        "canvas too far (choose fewer blocks or a larger canvas)"
                    ).format(depth=self.depth, canvas=self.canvas)
                )
            size = window.output_size(size)
            if size < 1:
                raise ValueError(
                    _(
                        "{depth} blocks with {padding} padding and {downsample} downsampling shrink a {canvas}-pixel "
                        "canvas to nothing (choose fewer blocks, another padding, or a larger canvas)"
                    ).format(
                        depth=self.depth,
                        padding=_(PADDING_NAMES[self.padding]),
                        downsample=_(_DOWNSAMPLE_WORDS[self.downsample]),
                        canvas=self.canvas,
                    )
                )
        weights = self.width * size * size * self.hidden
        if self.head == "flatten" and weights > MAX_FLATTEN_WEIGHTS:
            raise ValueError(
                _(
                    "the flatten head would need {weights} weights (at most {limit}): choose more downsampling, fewer "
                    "channels, a smaller canvas, or another head"
                ).format(weights=f"{weights:,}", limit=f"{MAX_FLATTEN_WEIGHTS:,}")
            )


class Window(NamedTuple):
    """A sliding-window layer (conv or pool) along one axis."""

    kernel: int
    stride: int
    padding: int  # pixels added on both sides together

    def output_size(self, size: int) -> int:
        """⌊(n + padding − kernel) / stride⌋ + 1 cells out of n."""
        return (size + self.padding - self.kernel) // self.stride + 1


def block_windows(config: SmallCNNConfig) -> tuple[Window, ...]:
    """The sliding windows of one block, input to output: its conv, then its downsampling."""
    pad = 0 if config.padding == "valid" else KERNEL_SIZE - 1
    conv = Window(KERNEL_SIZE, 2 if config.downsample == "stride" else 1, pad)
    blur_pad = 0 if config.padding == "valid" else config.blur_size - 1
    pool_pad = 0 if config.padding == "valid" else 1
    downsampling = {
        "max": (Window(2, 2, 0),),
        "avg": (Window(2, 2, 0),),
        "blur": (Window(2, 1, 0), Window(config.blur_size, 2, blur_pad)),
        # APS keeps one cell in 2 × 2, at a phase chosen per image: a 1-wide window with stride 2 (⌈n / 2⌉ cells)
        "aps": (Window(2, 1, pool_pad), Window(1, 2, 0)),
        "stride": (),
        "none": (),
    }[config.downsample]
    return (conv, *downsampling)


def receptive_field(config: SmallCNNConfig) -> int:
    """Side, in input pixels, of the patch that one cell of the last block sees.

    Layer by layer r ← r + (kernel − 1)·j and j ← j·stride, from r = j = 1, where j is the cumulative
    stride so far: a k-wide window over cells j pixels apart reaches k − 1 cells further.
    """
    field, jump = 1, 1
    for window in block_windows(config) * config.depth:
        field += (window.kernel - 1) * jump
        jump *= window.stride
    return field


def cumulative_stride(config: SmallCNNConfig) -> int:
    """Input pixels between neighbouring cells of the last block: the product of all strides (2 per block)."""
    return prod(window.stride for window in block_windows(config)) ** config.depth


def feature_size(config: SmallCNNConfig) -> int:
    """Side of the last block's feature maps, in cells."""
    size = config.canvas
    for window in block_windows(config) * config.depth:
        size = window.output_size(size)
    return size


def probe_layers(config: SmallCNNConfig) -> tuple[str, ...]:
    """Names of the blocks' outputs, shallow → deep: return nodes for `create_feature_extractor`."""
    return tuple(f"features.{index}" for index in range(config.depth))


def _conv(config: SmallCNNConfig, channels_in: int, channels_out: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    padding_mode = "zeros" if config.padding == "valid" else config.padding
    padding = 0 if config.padding == "valid" else kernel // 2
    # skip_init: no weights drawn from the global RNG; `_initialise` fills them from a private generator
    return nn.utils.skip_init(
        nn.Conv2d, channels_in, channels_out, kernel, stride=stride, padding=padding, padding_mode=padding_mode
    )


def _linear(features_in: int, features_out: int) -> nn.Linear:
    return nn.utils.skip_init(nn.Linear, features_in, features_out)


# The layers after each block's conv and ReLU that halve the map, by downsampling, named as in the block.
_DOWNSAMPLING_LAYERS: Mapping[str, Callable[[SmallCNNConfig], dict[str, nn.Module]]] = MappingProxyType(
    {
        "max": lambda config: {"pool": nn.MaxPool2d(2)},
        "avg": lambda config: {"pool": nn.AvgPool2d(2)},
        "blur": lambda config: {
            "pool": nn.MaxPool2d(2, stride=1),
            "blur": BlurPool2d(config.width, config.blur_size, stride=2, padding=config.padding),
        },
        "aps": lambda config: {
            "pool": PaddedMaxPool2d(config.padding),
            "aps": AdaptivePolyphaseSampling2d(config.padding),
        },
        "stride": lambda config: {},  # the conv itself has stride 2
        "none": lambda config: {},
    }
)


def _block(config: SmallCNNConfig, channels_in: int) -> nn.Sequential:
    stride = 2 if config.downsample == "stride" else 1
    layers = OrderedDict(conv=_conv(config, channels_in, config.width, KERNEL_SIZE, stride), relu=nn.ReLU())
    layers.update(_DOWNSAMPLING_LAYERS[config.downsample](config))
    return nn.Sequential(layers)


def _head(config: SmallCNNConfig) -> nn.Sequential:
    """Ends in a layer named "classifier", the one to replace for new classes."""
    if config.head == "flatten":  # one weight per cell: where the object is matters
        cells = config.width * feature_size(config) ** 2
        return nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                hidden=_linear(cells, config.hidden),
                relu=nn.ReLU(),
                classifier=_linear(config.hidden, config.classes),
            )
        )
    if config.head == "gap":  # the average over all cells forgets where
        return nn.Sequential(
            OrderedDict(
                pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), classifier=_linear(config.width, config.classes)
            )
        )
    # "conv", fully convolutional: a class-score map, one score per cell; a class scores where it is seen best
    return nn.Sequential(
        OrderedDict(
            classifier=_conv(config, config.width, config.classes, 1),
            pool=nn.AdaptiveMaxPool2d(1),
            flatten=nn.Flatten(),
        )
    )


class SmallCNN(nn.Module):
    """features (the blocks) → head; (B, 3, canvas, canvas) images in [0, 1] → (B, classes) logits."""

    def __init__(self, config: SmallCNNConfig) -> None:
        super().__init__()
        self.config = config
        channels = [3] + [config.width] * config.depth
        self.features = nn.Sequential(*(_block(config, channels[i]) for i in range(config.depth)))
        self.head = _head(config)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) -> (B, classes)
        return self.head(self.features(images))


def initialise(module: nn.Module, generator: torch.Generator) -> None:
    """He-normal weights (suited to ReLU) and zero biases for every conv and linear layer in `module`."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu", generator=generator)
            nn.init.zeros_(layer.bias)


def build_small_cnn(config: SmallCNNConfig, seed: int = 0) -> SmallCNN:
    """A new SmallCNN with weights drawn from `seed` only (never from the global RNG): same seed, same weights.

    The flatten head's hidden layer has separate weights for every cell of the last map. They start
    near zero (std HIDDEN_INIT_STD), so that what they hold about a position comes from training
    only: random weights that differ from cell to cell would make the net position-dependent for any
    object it was never shown there, and pretraining could not teach it invariance.
    """
    model = SmallCNN(config)
    generator = torch.Generator().manual_seed(seed)
    initialise(model, generator)
    if config.head == "flatten":
        nn.init.normal_(model.head.hidden.weight, std=HIDDEN_INIT_STD, generator=generator)
    return model
