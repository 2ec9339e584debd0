"""Where a probe layer's cells sit on the input: each layer's cumulative stride and receptive field.

Both are measured on the model itself (probes.measure_stride, probes.measure_receptive_field), once
per architecture: they depend on the architecture, not on the weights, so a randomly initialised copy
is measured and every variant of it shares the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from types import MappingProxyType

import torch

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
        fields[layer] = measure_receptive_field(lambda images, layer=layer: net.extractor(images)[layer], stride)
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
