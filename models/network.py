"""A registry model as the app uses it: one call maps images to the activations of every
probe layer and the class logits."""

import copy
import threading
import time
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch
from torch import nn
from torch.fx import Graph, GraphModule
from torchvision.models import get_model_weights
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names

from locales import N_
from scene.words import Words

from .folding import fold_batch_norms
from .registry import REGISTRY
from .weights import IMAGENET_CLASSES, architecture, build, load_pretrained, weights_dir

# The two columns, in order (their titles are data: translated where shown).
VARIANT_TITLES = {"pretrained": N_("ImageNet-pretrained"), "scratch": N_("Scratch twin")}


@dataclass(frozen=True)
class Network:
    """An eval-mode feature extractor plus what is needed to feed it and read its output."""

    # The texts below are data, kept in a cache every session shares: each is translated where shown (`_` for a
    # title, scene.words.shown for a label or a source, which may be Words).
    label: str  # the architecture, for people: "MobileNetV2", "teaching CNN, 5 blocks"
    layers: tuple[str, ...]  # its probe layers, shallow -> deep
    variant: str  # the key of its column in its family, e.g. "pretrained", "scratch", "trained"
    title: str  # the column's title in the drag view, e.g. "Scratch twin"
    source: str  # plain words: where the weights came from
    extractor: nn.Module  # create_feature_extractor output, eval mode
    categories: tuple[str, ...]  # the class names, in logit order
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    cache_key: str = ""  # what is computed from this model may be cached under it (set from its family's column)

    @property
    def nbytes(self) -> int:
        """The memory its weights and buffers take."""
        tensors = [*self.extractor.parameters(), *self.extractor.buffers()]
        return sum(tensor.numel() * tensor.element_size() for tensor in tensors)

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """images (B, 3, H, W) in [0, 1], H, W >= 64 -> {layer: (B, C, h, w) for each probe layer,
        "logits": (B, classes)}. Normalises with the weights' own mean/std; no autograd."""
        mean = torch.tensor(self.mean, dtype=images.dtype).view(1, 3, 1, 1)  # (1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=images.dtype).view(1, 3, 1, 1)  # (1, 3, 1, 1)
        with torch.inference_mode():
            outputs = self.extractor(((images - mean) / std).contiguous(memory_format=torch.channels_last))
        return {name: output.contiguous() for name, output in outputs.items()}  # back to the usual layout


# FX tracing patches torch.nn.Module.__call__ for the whole process while it runs: two traces at
# once can leave it patched for good, and a forward pass in another thread meanwhile fails. So
# every architecture is traced once, under this lock, and loaded models reuse the traced graph.
_TRACE_LOCK = threading.Lock()


@cache
def extractor_graph(name: str) -> Graph:
    """The eval-mode graph that returns every probe layer of `name` and its logits ("logits").

    Traced on a weightless ("meta") copy of the architecture, once per process; call
    `trace_all` before serving forward passes so that no trace ever overlaps one.
    """
    with _TRACE_LOCK, warnings.catch_warnings():
        # GoogLeNet's and Inception's auxiliary heads run in training only: the probe layers are eval-mode nodes
        warnings.filterwarnings("ignore", "NOTE: The nodes obtained by tracing the model in eval mode")
        model = weightless(name).eval()
        logits_node = get_graph_node_names(model)[1][-1]  # the last node run in eval mode is the output
        return_nodes = {layer: layer for layer in REGISTRY[name].layers} | {logits_node: "logits"}
        return create_feature_extractor(model, return_nodes).graph


def weightless(name: str, classes: int = IMAGENET_CLASSES) -> nn.Module:
    """The architecture with "meta" tensors for weights: quick to build, as nothing is initialised. A builder
    that computes with tensors (RegNet works out its widths so) cannot run on them: that one is built for real."""
    try:
        with torch.device("meta"):
            return architecture(name, classes)
    except NotImplementedError:  # "Cannot copy out of meta tensor"
        return build(name, classes=classes)


def trace_all() -> None:
    """Trace every registry architecture now (about 5 s for all 20), before any forward pass runs."""
    for name in REGISTRY:
        extractor_graph(name)


def load_network(
    name: str,
    variant: str,
    *,
    weights_folder: Path | None = None,
    seed: int = 0,
    allow_download: bool = True,
) -> Network:
    """Build `name` from the registry as "pretrained" (ImageNet weights, see `load_pretrained`)
    or "scratch" (the same architecture, randomly initialised with `seed`).

    Raises WeightsUnavailable if pretrained weights cannot be had, KeyError for an unknown name.
    """
    spec = REGISTRY[name]
    weights = get_model_weights(name).DEFAULT  # the scratch twin borrows its class names and preprocessing
    if variant == "pretrained":
        model, source = load_pretrained(spec, weights, weights_folder or weights_dir(), allow_download)
    elif variant == "scratch":
        model, source = build(name, seed=seed), Words(N_("random initialisation, seed {seed}"), seed=seed)
    else:
        raise ValueError(f'variant must be "pretrained" or "scratch", not {variant!r}')
    return as_network(name, model, variant, VARIANT_TITLES[variant], source, tuple(weights.meta["categories"]))


def as_network(
    name: str, model: nn.Module, variant: str, title: str, source: str, categories: tuple[str, ...]
) -> Network:
    """The registry architecture `name`, built as `model` (which is folded and changed to channels-last here),
    as the Network of a column titled `title`. Its images are normalised as for its ImageNet weights."""
    spec = REGISTRY[name]
    fold_batch_norms(model.eval().requires_grad_(False), keep=frozenset(spec.layers))
    # Channels-last weights: with the folding, the same outputs to float rounding in about 40% less
    # time for MobileNetV2 and SqueezeNet on one CPU thread (measured 2026-12-01: 15.6 -> 9.4 ms and
    # 12.2 -> 7.2 ms at 224 px; ResNet-18 23.5 -> 22.0 ms).
    model.to(memory_format=torch.channels_last)
    extractor = GraphModule(model, copy.deepcopy(extractor_graph(name)))  # no tracing here: see extractor_graph
    preprocess = get_model_weights(name).DEFAULT.transforms()
    return Network(
        label=spec.label,
        layers=spec.layers,
        variant=variant,
        title=title,
        source=source,
        extractor=extractor,
        categories=categories,
        mean=tuple(preprocess.mean),
        std=tuple(preprocess.std),
    )


def relative_cost(net: Network, reference: Network, images: torch.Tensor, repeats: int = 3) -> float:
    """How many times longer `net` takes than `reference` on `images`: the shortest of `repeats` timed passes of
    each, taken in turn after a warm-up, so that a busy spell slows both alike."""
    times: dict[int, list[float]] = {0: [], 1: []}
    for run in range(repeats + 1):
        for index, network in enumerate((net, reference)):
            start = time.perf_counter()
            network(images)
            if run:  # the first pass of each only warms up
                times[index].append(time.perf_counter() - start)
    return min(times[0]) / min(times[1])


def run_side_by_side(networks: Mapping[str, Network], images: torch.Tensor) -> dict[str, dict[str, torch.Tensor]]:
    """Every network on the same images at once, one Python thread each: {key: network(images)}.

    torch releases the GIL while it computes, so with one intra-op thread per forward (the app
    sets that) two networks take the time of one on a two-core machine.
    """
    with ThreadPoolExecutor(max_workers=max(len(networks), 1)) as pool:
        futures = {key: pool.submit(network, images) for key, network in networks.items()}
    return {key: future.result() for key, future in futures.items()}
