"""A model of your own: the weights of one of the registry's architectures, fine-tuned to any number of
classes, with the class names from a labels file.

The file is read with `weights_only=True` (tensors and plain containers only: a file carrying code is refused,
never run) after its size is checked, and loaded strictly: every layer of the architecture must be in it with its
shape, and nothing else. What does not fit is said in plain words: which layers, which shapes, and which
architecture the file most likely belongs to. The number of classes is read from the shape of the head.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

from locales import N_
from scene.words import Words

from .network import Network, as_network, extractor_graph, weightless
from .registry import REGISTRY, ModelSpec
from .unavailable import ModelUnavailable
from .weights import build, renamed

logger = logging.getLogger(__name__)

MAX_WEIGHTS_BYTES = 600 * 2**20  # the largest architecture's weights, VGG-16's, are 528 MB
MAX_LABELS_BYTES = 2**20
MAX_CLASSES = 100_000
NAMES_LISTED = 3  # layers named in a message, at most, of each kind of mismatch
# Where a trainer keeps the weights inside what it saves: the weights themselves, or under one of these keys.
WRAPPERS = ("state_dict", "model_state_dict", "model", "net")
# Prefixes a wrapper adds to every key: torch.nn.DataParallel's, and torch.compile's.
KEY_PREFIXES = ("module.", "_orig_mod.")

Shapes = Mapping[str, tuple[int, ...]]


class OwnModelError(ModelUnavailable):
    """A weights or labels file that cannot be used; str(exc) says why in plain words, without server paths (raised
    with Words: translated where shown)."""


@dataclass(frozen=True)
class OwnWeights:
    """Weights that fit an architecture of the registry, with a head of `len(categories)` classes."""

    architecture: str  # the registry name
    state: Mapping[str, torch.Tensor]  # in the architecture's own key names
    categories: tuple[str, ...]  # the class names, in logit order ("class 0", ... without a labels file)
    labelled: bool  # whether the names came from a labels file

    @property
    def classes(self) -> int:
        return len(self.categories)


@cache
def layer_shapes(name: str, classes: int) -> Shapes:
    """Every entry of the architecture's state_dict and its shape, with a head of `classes` outputs."""
    return {key: tuple(value.shape) for key, value in weightless(name, classes).state_dict().items()}


@cache
def head_keys(name: str) -> frozenset[str]:
    """The state_dict entries whose shape depends on the number of classes: the head (and auxiliary heads)."""
    one, other = layer_shapes(name, 1000), layer_shapes(name, 7)
    return frozenset(key for key in one if one[key] != other[key])


@cache
def training_only(name: str) -> frozenset[str]:
    """The state_dict entries the eval-mode network never uses (GoogLeNet's and Inception's auxiliary heads):
    a file may leave them out, as torchvision's own ImageNet weights for GoogLeNet do once loaded."""
    nodes = extractor_graph(name).nodes
    used = {node.target for node in nodes if node.op in ("call_module", "get_attr")}  # modules, and parameters

    def is_used(key: str) -> bool:  # the entry, or a module holding it (a leaf of the trace may hold sub-modules)
        parts = key.split(".")
        return any(".".join(parts[:n]) in used for n in range(1, len(parts) + 1))

    return frozenset(key for key in layer_shapes(name, 1000) if not is_used(key))


def read_state(data: bytes) -> dict[str, torch.Tensor]:
    """The state_dict in a saved file's bytes, unwrapped from a trainer's checkpoint if need be."""
    if len(data) > MAX_WEIGHTS_BYTES:
        raise OwnModelError(
            Words(
                N_(
                    "The file is {size} MB; weights files of at most {limit} MB are read (VGG-16, the largest "
                    "architecture here, needs 528 MB)."
                ),
                size=f"{len(data) / 2**20:.0f}",
                limit=MAX_WEIGHTS_BYTES // 2**20,
            )
        )
    try:
        saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # a bad file fails in many ways: zip, pickle, EOF, a refused class, ...
        logger.warning("Could not read an uploaded weights file (%s: %s)", type(exc).__name__, exc, exc_info=True)
        raise OwnModelError(
            Words(
                N_(
                    "The file could not be read as weights: it is damaged or cut short, or it holds more than weights "
                    "(a whole model saved with torch.save(model, ...) is refused, as anything that could run code "
                    "is). Save the weights with torch.save(model.state_dict(), 'weights.pth')."
                )
            )
        ) from exc
    for key in WRAPPERS:
        if isinstance(saved, dict) and isinstance(saved.get(key), dict):
            saved = saved[key]
    if not isinstance(saved, dict) or not saved or not all(isinstance(v, torch.Tensor) for v in saved.values()):
        raise OwnModelError(
            Words(
                N_(
                    "The file holds no state_dict (a mapping of layer names to tensors). Save the weights with "
                    "torch.save(model.state_dict(), 'weights.pth')."
                )
            )
        )
    for prefix in KEY_PREFIXES:
        if all(str(key).startswith(prefix) for key in saved):
            saved = {key.removeprefix(prefix): value for key, value in saved.items()}
    return {str(key): value for key, value in saved.items()}


def fit(spec: ModelSpec, state: Shapes) -> float:
    """How much of the architecture the file fills: the share of its entries, head aside, present with their shape,
    out of all entries of either (so that extra layers count against it too)."""
    own, heads = layer_shapes(spec.name, 1000), head_keys(spec.name)
    theirs = renamed(spec, dict(state))  # a copy: the file's keys may predate a renaming
    body = {key for key in own if key not in heads}
    matching = sum(1 for key in body if key in theirs and tuple(theirs[key]) == own[key])
    return matching / max(len(body | (set(theirs) - heads)), 1)


def likeliest(state: Shapes) -> tuple[ModelSpec, float]:
    """The registry architecture the file's layers fit best, and how well (1.0: every layer, every shape)."""
    return max(((spec, fit(spec, state)) for spec in REGISTRY.values()), key=lambda pair: pair[1])


def classes_in(spec: ModelSpec, state: Shapes) -> int | None:
    """The number of classes of a file's head for `spec` (the first dimension of its head's weight); None if the
    file has no such head."""
    key = next((key for key in sorted(head_keys(spec.name) - training_only(spec.name)) if key in state), None)
    return state[key][0] if key and state[key] else None


def mismatches(spec: ModelSpec, state: Shapes, classes: int) -> str:
    """What does not fit between the file and `spec` with `classes` outputs, in plain words (Words); "" if all
    does."""
    own = layer_shapes(spec.name, classes)
    optional = training_only(spec.name)
    missing = [key for key in own if key not in state and key not in optional]
    extra = [key for key in state if key not in own]
    misshapen = [key for key in own if key in state and tuple(state[key]) != own[key]]
    parts = []
    if missing:
        n = len(missing)
        parts.append(
            Words.ngettext("{n} layer missing ({names})", "{n} layers missing ({names})", n, n=n, names=_names(missing))
        )
    if extra:
        n = len(extra)
        parts.append(
            Words.ngettext(
                "{n} layer that {model} does not have ({names})",
                "{n} layers that {model} does not have ({names})",
                n,
                n=n,
                model=spec.label,
                names=_names(extra),
            )
        )
    if misshapen:
        shapes = [
            Words(
                N_("{layer}: {shape} in the file, {own} in {model}"),
                layer=k,
                shape=_shape(state[k]),
                own=_shape(own[k]),
                model=spec.label,
            )
            for k in misshapen
        ]
        n = len(misshapen)
        names = _names(shapes, "; ")
        parts.append(
            Words.ngettext(
                "{n} layer of another shape ({names})", "{n} layers of another shape ({names})", n, n=n, names=names
            )
        )
    return Words.joined("; ", parts) if parts else ""


def read_labels(data: bytes) -> tuple[str, ...]:
    """The class names of a labels file: one per line, UTF-8, in the order of the head's outputs."""
    if len(data) > MAX_LABELS_BYTES:
        limit = MAX_LABELS_BYTES // 2**20
        raise OwnModelError(
            Words(N_("The labels file is larger than {limit} MB: it must be a text file."), limit=limit)
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OwnModelError(Words(N_("The labels file is not text in UTF-8: save it as plain UTF-8 text."))) from exc
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if empty := [n for n, line in enumerate(lines, 1) if not line]:
        raise OwnModelError(
            Words(N_("Line {line} of the labels file is empty: give every class a name, one per line."), line=empty[0])
        )
    if not lines:
        raise OwnModelError(Words(N_("The labels file is empty: it needs one class name per line.")))
    return tuple(lines)


def read_own_weights(data: bytes, labels: bytes | None = None, architecture: str | None = None) -> OwnWeights:
    """The weights in `data` for `architecture` (a registry name; None: the one the file fits best), with the
    class names in `labels`. Raises OwnModelError saying in plain words what does not fit."""
    state = read_state(data)
    shapes = {key: tuple(value.shape) for key, value in state.items()}
    best, best_fit = likeliest(shapes)
    spec = REGISTRY[architecture] if architecture else best
    state = renamed(spec, state)
    shapes = {key: tuple(value.shape) for key, value in state.items()}
    if not architecture and best_fit < 0.5:
        raise OwnModelError(
            Words(
                N_(
                    "The file's layers are not those of any architecture here: at most {share} of them fit {model}, "
                    "the closest. Choose one of the listed architectures, and save its state_dict."
                ),
                share=f"{best_fit:.0%}",
                model=best.label,
            )
        )
    share = f"{best_fit:.0%}"
    likely = N_("It most likely belongs to {model} ({share} of its layers fit).")
    also = [Words(likely, model=best.label, share=share)] if best != spec else []  # a sentence after the message
    classes = classes_in(spec, shapes)
    if classes is None:
        heads = ", ".join(sorted(head_keys(spec.name) - training_only(spec.name)))
        no_head = N_(
            "The file has no head for {model}: none of {heads} is in it, so the number of classes cannot be read."
        )
        raise OwnModelError(Words.joined(" ", [Words(no_head, model=spec.label, heads=heads), *also]))
    if not 1 <= classes <= MAX_CLASSES:
        raise OwnModelError(
            Words(
                N_("The head has {classes} outputs: between 1 and {most} classes can be shown."),
                classes=classes,
                most=MAX_CLASSES,
            )
        )
    if problems := mismatches(spec, shapes, classes):
        if best == spec:  # found from the file, as the closest
            closest = N_(
                "The file is closest to {model} ({share} of its layers fit), but does not fit it with {classes} "
                "classes: {problems}."
            )
            raise OwnModelError(Words(closest, model=spec.label, share=share, classes=classes, problems=problems))
        no_fit = N_("The file does not fit {model} with {classes} classes: {problems}.")
        raise OwnModelError(
            Words.joined(" ", [Words(no_fit, model=spec.label, classes=classes, problems=problems), *also])
        )
    # The class names of the model's outputs without a labels file (never translated: a model's class names)
    names = read_labels(labels) if labels is not None else tuple(f"class {n}" for n in range(classes))
    if len(names) != classes:
        raise OwnModelError(
            Words(
                N_(
                    "The labels file names {named} classes, but the weights' head has {classes} outputs: give one "
                    "name per output, in the order the model was trained with."
                ),
                named=len(names),
                classes=classes,
            )
        )
    return OwnWeights(spec.name, state, names, labelled=labels is not None)


def own_network(own: OwnWeights, title: str, source: str) -> Network:
    """The architecture with these weights, as the Network of a column titled `title`."""
    model = build(own.architecture, classes=own.classes)
    model.load_state_dict(own.state, strict=False)  # every entry is checked above; training-only ones may be absent
    return as_network(own.architecture, model, "yours", title, source, own.categories)


def untrained_network(architecture: str, categories: tuple[str, ...], title: str) -> Network:
    """The architecture with a head for `categories` and its seed-0 random weights, answering in those names."""
    model = build(architecture, classes=len(categories))
    source = N_("random weights (seed 0), never trained")
    return as_network(architecture, model, "untrained", title, source, categories)


def folder_models(folder: Path) -> Iterable[tuple[str, Path]]:
    """The weights of your own in a weights folder, as (architecture, file): `yours/<architecture>/<name>.pth`,
    each with its labels in `<name>.txt` beside it, if any. A folder named for no architecture is left out."""
    for path in sorted((folder / "yours").glob("*/*.pth")):
        if path.parent.name in REGISTRY:
            yield path.parent.name, path
        else:
            logger.warning("Left out %s: %s names no architecture of the registry", path, path.parent.name)


def read_folder_model(architecture: str, path: Path) -> OwnWeights:
    """The weights at `path` for `architecture`, with the labels in the `.txt` file of the same name if there is one."""
    labels = path.with_suffix(".txt")
    try:
        return read_own_weights(path.read_bytes(), labels.read_bytes() if labels.is_file() else None, architecture)
    except OSError as exc:
        logger.warning("Could not read %s (%s)", path, exc, exc_info=True)
        unread = N_("The file {file} in the weights folder could not be read.")
        raise OwnModelError(Words(unread, file=path.name)) from exc


def _names(items: list[str], separator: str = ", ") -> str:
    """The first NAMES_LISTED items, and how many more there are."""
    listed = Words.joined(separator, items[:NAMES_LISTED])
    if len(items) <= NAMES_LISTED:
        return listed
    return Words(N_("{listed} and {more} more"), listed=listed, more=len(items) - NAMES_LISTED)


def _shape(shape: Iterable[int]) -> str:
    # TRANSLATORS: the shape of a layer's weights that has no dimensions (a scalar), instead of e.g. "64 × 3 × 3 × 3"
    return " × ".join(str(n) for n in shape) or Words(N_("a single number"))
