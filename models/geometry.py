"""Where a probe layer's cells sit on the input: each layer's cumulative stride and receptive field.

Both are measured on the model itself (probes.measure_stride, probes.measure_receptive_field), once
per architecture and only when first asked for: they depend on the architecture, not on the weights, so a
randomly initialised copy is measured and every variant of it shares the result.

A squeeze-and-excitation block (MobileNetV3, EfficientNet, RegNetY) scales each channel by a gate computed
from the whole map's average, so strictly every cell after it depends on every pixel. That gate changes
little when an object moves (an average over the map barely cares where things are), so the field given
is what a cell sees through its convolutions: the gates are held fixed while it is measured.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from types import MappingProxyType

import torch
from torch import nn
from torch.fx import GraphModule

from models.network import load_network
from models.small_cnn import SmallCNNConfig, build_small_cnn, cumulative_stride, probe_layers
from probes import ReceptiveField, measure_receptive_field, measure_stride


@cache
def imagenet_fields(name: str) -> Mapping[str, ReceptiveField]:
    """Every probe layer's receptive field (with its stride) of a registry architecture, by layer."""
    net = load_network(name, "scratch")
    sizes = (224, 224 + 256)
    with torch.inference_mode():
        heights = {
            n: {layer: out.shape[-2] for layer, out in net.extractor(torch.zeros(1, 3, n, n)).items()} for n in sizes
        }
    fields = {}
    for layer in net.layers:
        stride = measure_stride(lambda n, layer=layer: heights[n][layer])
        local = local_layer(net.extractor, layer)
        # Only rows are measured (square kernels and strides: see ReceptiveField), so a strip of the input
        # will do: on the tall inputs that deep fields need, a whole square would take gigabytes.
        fields[layer] = measure_receptive_field(lambda images, local=local: local(_strip(images)), stride)
    return MappingProxyType(fields)


@cache
def small_cnn_fields(config: SmallCNNConfig) -> Mapping[str, ReceptiveField]:
    """Every block's receptive field (with its stride) of a small CNN, by layer. Measured on the blocks
    alone: a flatten head takes only the canvas size, and the field does not depend on the head."""
    blocks = build_small_cnn(config).features.requires_grad_(False)
    return MappingProxyType(
        {
            layer: measure_receptive_field(blocks[: depth + 1], cumulative_stride(replace(config, depth=depth + 1)))
            for depth, layer in enumerate(probe_layers(config))
        }
    )


STRIP = 128  # px: the width of the input strip a field is measured on; every registry model takes it


def _strip(images: torch.Tensor) -> torch.Tensor:
    """(B, C, n, n) -> (B, C, n, STRIP): the middle columns, all rows."""
    left = max(images.shape[-1] - STRIP, 0) // 2
    return images[..., left : left + STRIP]


def local_layer(extractor: GraphModule, layer: str) -> GraphModule:
    """The part of `extractor` (a feature extractor's graph module) that computes `layer` and nothing after
    it, with every global pool's output held fixed (detached): the gradient of `layer` then reaches only the
    pixels its convolutions see, not those a squeeze-and-excitation gate averages over. `extractor` itself
    is left as it was: the modules holding a pool are replaced by copies in the new module only."""
    graph = copy.deepcopy(extractor.graph)
    output = next(node for node in graph.nodes if node.op == "output")
    (returned,) = output.args  # {name: node}
    output.args = (returned[layer],)
    local = GraphModule(extractor, graph)
    local.graph.eliminate_dead_code()  # what comes after `layer` (and the logits)
    for node in local.graph.nodes:
        if node.op == "call_module" and _pools_globally(module := local.get_submodule(node.target)):
            local.set_submodule(node.target, _held(copy.deepcopy(module)))
    local.recompile()
    return local


GLOBAL_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)  # as in every squeeze-and-excitation block


def _pools_globally(module: nn.Module) -> bool:
    return any(isinstance(part, GLOBAL_POOLS) for part in module.modules())


class HeldPool(nn.Module):
    """A global pool whose output the gradient does not go through."""

    def __init__(self, pool: nn.Module) -> None:
        super().__init__()
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x).detach()


def _held(module: nn.Module) -> nn.Module:
    """`module` with each of its global pools held (in place; the module may be a pool itself)."""
    if isinstance(module, GLOBAL_POOLS):
        return HeldPool(module)
    for name, part in list(module.named_modules()):
        if isinstance(part, GLOBAL_POOLS):
            module.set_submodule(name, HeldPool(part))
    return module
