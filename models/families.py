"""The drag view's kinds of model, each described completely by one value: a `Family`.

A family says everything the view needs about a kind of model: its label, its columns (each a
variant with its title and how it loads), the layers whose maps can be shown, the scene its models
look at, each layer's stride and receptive field, and the sentence that
says what its columns compare. Nothing else in the app asks what kind a model is: a new kind is one
constructor here and one entry in `catalog`.

Its texts are data, translated where shown: the fixed ones are marked with `N_` here (titles, group names,
descriptions). A family is made anew for every run of the page (`catalog`), so a text with values in it (a
label, an introduction) is translated here, in the page's language; a model's texts are kept in a cache every
session shares, so they never are (its source may be `Words`, see scene.words).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from uuid import uuid4

from locales import N_, _, ngettext
from models.geometry import imagenet_fields, small_cnn_fields
from models.lab_experiments import (
    CIRCULAR_MODELS,
    LAB_CONFIG,
    NEW_CLASSES,
    ShiftConsistency,
    load_teaching_model,
)
from models.network import VARIANT_TITLES, Network, load_network
from models.own_model import OwnWeights, folder_models, own_network, read_folder_model, untrained_network
from models.registry import REGISTRY, ModelSpec
from models.small_cnn import SmallCNN, SmallCNNConfig, build_small_cnn, probe_layers
from models.small_network import small_cnn_network
from models.training import Progress
from models.weights import offline_weights
from probes import ReceptiveField
from probes.accuracy_map import AccuracyMap
from scene import BACKGROUNDS, CANVAS_SIZES, OBJECT_SIZES, OBJECTS
from scene.shapes import default_style
from scene.words import Words


@dataclass(frozen=True)
class Column:
    """One model of a family, shown in a column of its own."""

    key: str  # the variant, e.g. "pretrained": names the column's files in a download
    title: str  # the column's heading (marked with N_: translated where shown)
    load: Callable[[], Network]  # raises models.ModelUnavailable, saying why in plain words
    cache_key: str  # unique to this model: what is computed from it may be cached under this key
    fields: Callable[[], Mapping[str, ReceptiveField]]  # each probe layer's receptive field and stride, measured once
    shared: bool = True  # one loaded copy serves every session; False: the session's own model, quick to wrap


@dataclass(frozen=True)
class SceneChoices:
    """What the models of a family look at: the choices a student has, with their defaults first."""

    objects: tuple[str, ...]
    backgrounds: tuple[str, ...]
    canvases: tuple[int, ...]
    object_sizes: tuple[int, ...]
    object_label: str  # what the sidebar calls the object: "Object", "Shape" (marked with N_: translated where shown)
    object_key: str  # the session key of the chosen object: families that show the same objects share it
    uploads: bool  # whether a student may drag a picture of their own


@dataclass(frozen=True)
class Family:
    """A kind of model in the drag view, by everything the view needs to know about it."""

    name: str  # its key in the catalog and in links
    label: str  # in the Architecture list (translated where shown: made in the page's language, or marked with N_)
    columns: tuple[Column, ...]  # in display order
    layers: tuple[str, ...]  # the probe layers, shallow -> deep
    scene: SceneChoices
    intro: str  # the end of the page's first sentence: what the columns compare (translated where shown, as label)
    # Its part of the Architecture list (ImageNet models: models.registry.GROUPS): a stable value, in English (a
    # session keeps it), marked with N_ and translated where shown.
    group: str = N_("Small CNNs (shapes)")

    @property
    def default_layer(self) -> str:
        return self.layers[len(self.layers) // 2]


PHOTOS = SceneChoices(OBJECTS, BACKGROUNDS, CANVAS_SIZES, OBJECT_SIZES, N_("Object"), object_key="object", uploads=True)


def shapes(canvas: int) -> SceneChoices:
    """The scene the lab's small CNNs learn from: one drawn shape on black, at its middle size."""
    size = default_style(canvas).size
    return SceneChoices(NEW_CLASSES, ("black",), (canvas,), (size,), N_("Shape"), object_key="shape", uploads=False)


# The columns of a model of your own, or the lab's
YOURS_TITLE, UNTRAINED_TITLE = N_("Your model"), N_("The same, untrained")
UNTRAINED_SOURCE = N_("random weights (seed 0), never trained")
IMAGENET_INTRO = N_(
    "for an ImageNet-pretrained network and for its **scratch twin**: the same architecture with random weights."
)


def imagenet_family(spec: ModelSpec, weights_folder: Path) -> Family:
    """A torchvision architecture, pretrained on ImageNet and as its scratch twin, in front of photos."""
    if offline_weights(spec.name, weights_folder):
        label = _("{model} · ready offline").format(model=spec.label)
    else:
        label = _("{model} · needs internet").format(model=spec.label)  # short: fits the sidebar in large text
    pretrained = partial(load_network, spec.name, "pretrained", weights_folder=weights_folder)
    fields = partial(imagenet_fields, spec.name)
    return Family(
        name=spec.name,
        label=label,
        columns=(
            Column(
                "pretrained",
                VARIANT_TITLES["pretrained"],
                pretrained,
                f"{spec.name}/pretrained@{weights_folder}",
                fields,
            ),
            Column(
                "scratch",
                VARIANT_TITLES["scratch"],
                partial(load_network, spec.name, "scratch"),
                f"{spec.name}/scratch",
                fields,
            ),
        ),
        layers=spec.layers,
        scene=PHOTOS,
        intro=IMAGENET_INTRO,
        group=spec.group,
    )


def shipped_column(family: str, key: str, file_name: str, config: SmallCNNConfig, title: str, source: str) -> Column:
    """A column showing one of the lab's shipped models (assets/teaching_models/<file_name>.pt, of `config`)."""

    def load() -> Network:
        return small_cnn_network(load_teaching_model(file_name), key, title, source)

    return Column(key, title, load, f"{family}/{file_name}", partial(small_cnn_fields, config))


TEACHING = "teaching_cnn"


def teaching_family() -> Family:
    """Biscione & Bowers' contrast: two small CNNs taught ten shapes at one spot, one after learning 100 other
    classes all over the canvas."""
    return Family(
        name=TEACHING,
        label=N_("Teaching CNN (shapes, 64 px)"),
        columns=(
            shipped_column(
                TEACHING,
                "pretrained",
                "transferred",
                LAB_CONFIG,
                N_("Pretrained elsewhere, taught at one spot"),
                N_(
                    "first trained on 100 other classes (shapes, letters, doodles) all over the canvas; then its last "
                    "layer learnt these at one location"
                ),
            ),
            shipped_column(
                TEACHING,
                "scratch",
                "scratch",
                LAB_CONFIG,
                N_("From scratch, taught at one spot"),
                N_("trained from scratch at one location"),
            ),
        ),
        layers=probe_layers(LAB_CONFIG),
        scene=shapes(LAB_CONFIG.canvas),
        intro=N_(
            "for two small CNNs taught ten shapes and letters at **one spot** (left of centre): one had first "
            "learnt 100 other classes (shapes, letters, doodles) **all over the canvas**, the other learnt from "
            "scratch. Which still knows a shape elsewhere?"
        ),
    )


CIRCULAR = "circular_cnn"


def circular_family() -> Family:
    """Built-in invariance: two small CNNs with circular padding and a global-average-pool head, taught ten shapes
    at one spot; one never downsamples (stride 1), the other max-pools after every block (stride 32)."""
    (stride_1, config_1), (stride_32, config_32) = CIRCULAR_MODELS.items()
    source = N_("trained from scratch at one location")
    return Family(
        name=CIRCULAR,
        label=N_("Circular CNNs (shapes, 64 px)"),
        columns=(
            shipped_column(CIRCULAR, "stride_1", stride_1, config_1, N_("Stride 1: no pooling"), source),
            shipped_column(CIRCULAR, "stride_32", stride_32, config_32, N_("Stride 32: max pooling"), source),
        ),
        layers=probe_layers(config_1),
        scene=shapes(config_1.canvas),
        intro=N_(
            "for two small CNNs with **circular padding** and a **global-average-pool head**, both taught ten "
            "shapes at **one spot** only: the left one never downsamples, the right one max-pools after every "
            "block. Which answers the same wherever the shape is?"
        ),
    )


LAB_PREFIX = "lab-"  # a lab model's cache keys start with LAB_PREFIX + a random id
LAB = "lab"  # the catalog's name for this session's lab model, whichever it is


@dataclass
class LabModel:
    """A model trained (or loaded) in this session's CNN lab, kept even when its training was stopped
    part-way. Its id is new for every model, so that caches keyed by it never mix two models, or two
    students' models."""

    model: SmallCNN
    region: str | None  # where its training objects were (a key of REGIONS); None when loaded from a file
    history: list[Progress] = field(default_factory=list)
    finished: bool = False
    accuracy: AccuracyMap | None = None
    consistency: ShiftConsistency | None = None
    id: str = field(default_factory=lambda: LAB_PREFIX + uuid4().hex[:12])

    @property
    def status(self) -> str:
        """How far its training went, in the page's language."""
        if self.finished:
            # TRANSLATORS: the state of a model of the CNN lab: its training ran to the end
            return _("trained")
        steps = len(self.history)
        return ngettext("stopped after {n} step", "stopped after {n} steps", steps).format(n=steps)

    @property
    def origin(self) -> str:
        """Where it learnt, in the words every label and caption about it uses, in the page's language."""
        # TRANSLATORS: {region} is where the training objects were, e.g. "one location", "left half"
        return _("objects at: {region}").format(region=_(self.region)) if self.region else _("weights from a file")


def untrained_twin(config: SmallCNNConfig) -> Network:
    """The architecture with its seed-0 random weights."""
    return small_cnn_network(build_small_cnn(config, seed=0), "untrained", UNTRAINED_TITLE, UNTRAINED_SOURCE)


def lab_family(lab: LabModel) -> Family:
    """This session's model from the CNN lab, beside the same architecture untrained."""
    config = lab.model.config
    title = N_("Your model from the CNN lab")
    fields = partial(small_cnn_fields, config)

    def trained() -> Network:  # loaded for every run (not shared), so its source is in the page's language
        source = _("{status} in the CNN lab ({origin})").format(status=lab.status, origin=lab.origin)
        return small_cnn_network(lab.model, "trained", title, source)

    return Family(
        name=LAB,
        label=_("Your CNN lab model ({origin})").format(origin=lab.origin),
        columns=(
            Column("trained", title, trained, f"{lab.id}/trained", fields, shared=False),
            Column("untrained", UNTRAINED_TITLE, partial(untrained_twin, config), f"untrained {config}", fields),
        ),
        layers=probe_layers(config),
        scene=shapes(config.canvas),
        intro=_(
            "for **your model from the CNN lab** ({origin}) and for the same architecture **untrained**: do "
            "the maps move with the shape either way, and where does your model still know it?"
        ).format(origin=lab.origin),
    )


YOURS = "yours"  # the catalog's name for the weights of your own uploaded in this session
OWN_GROUP = N_("Your own models")


@dataclass(frozen=True)
class OwnModel:
    """Weights of your own uploaded in this session, loaded once into `network`, and kept until others replace them.
    The weights read from the file are not kept beside it: the network holds the only copy."""

    architecture: str  # the registry name
    categories: tuple[str, ...]
    file_name: str
    network: Network
    id: str = field(default_factory=lambda: "yours-" + uuid4().hex[:12])

    @property
    def what(self) -> str:
        """The model in the words of its label: the file's name and its classes, in the page's language."""
        n = len(self.categories)
        return ngettext("{file}, {n} class", "{file}, {n} classes", n).format(file=self.file_name, n=n)


def uploaded_model(own: OwnWeights, file_name: str, labels_name: str | None) -> OwnModel:
    """Uploaded weights (from the file `file_name`, class names from `labels_name`) loaded as this session's model."""
    if labels_name:
        source = Words(N_("your weights, {file}, class names from {labels}"), file=file_name, labels=labels_name)
    else:
        source = Words(N_("your weights, {file}"), file=file_name)
    return OwnModel(own.architecture, own.categories, file_name, own_network(own, YOURS_TITLE, source))


def own_family(name: str, spec: ModelSpec, what: str, columns: tuple[Column, Column]) -> Family:
    """Weights of your own for a registry architecture (`what` names them), beside the same architecture untrained,
    in front of photos."""
    return Family(
        name=name,
        label=f"{what} · {spec.label}",
        columns=columns,
        layers=spec.layers,
        scene=PHOTOS,
        intro=_(
            "for **your own model** ({what}: a {model}) and for the same architecture **untrained**, with the same "
            "classes: do the maps move with the object either way, and does your model know it everywhere?"
        ).format(what=what, model=spec.label),
        group=OWN_GROUP,
    )


def untrained_column(
    architecture: str, categories: tuple[str, ...], fields: Callable[[], Mapping[str, ReceptiveField]]
) -> Column:
    """Your model's architecture and head with random weights (shared: the same for everyone with these classes)."""
    classes = hashlib.sha256("\n".join(categories).encode()).hexdigest()[:16]
    load = partial(untrained_network, architecture, categories, UNTRAINED_TITLE)
    return Column("untrained", UNTRAINED_TITLE, load, f"{architecture}/untrained/{classes}", fields)


def uploaded_family(own: OwnModel) -> Family:
    """This session's uploaded weights, as `own_family`. A link cannot open them: they are in this session only
    (SESSION_ONLY)."""
    spec = REGISTRY[own.architecture]
    fields = partial(imagenet_fields, spec.name)
    yours = Column("yours", YOURS_TITLE, lambda: own.network, f"{own.id}/yours", fields, shared=False)
    return own_family(YOURS, spec, own.what, (yours, untrained_column(own.architecture, own.categories, fields)))


def folder_family(architecture: str, path: Path) -> Family:
    """Weights of your own in the weights folder (`yours/<architecture>/<name>.pth`, labels in `<name>.txt`), as
    `own_family`: loaded once for every session, so a link can open them."""
    spec = REGISTRY[architecture]
    fields = partial(imagenet_fields, architecture)
    source = Words(N_("your weights, {file} in the weights folder"), file=path.name)
    key = f"{YOURS}/{architecture}/{path.stem}"

    def yours() -> Network:
        return own_network(read_folder_model(architecture, path), YOURS_TITLE, source)

    def untrained() -> Network:  # the file is read for its head's size and its labels
        return untrained_network(architecture, read_folder_model(architecture, path).categories, UNTRAINED_TITLE)

    stamp = f"@{path.stat().st_mtime_ns}"  # a replaced file is a new model
    columns = (
        Column("yours", YOURS_TITLE, yours, key + stamp, fields),
        Column("untrained", UNTRAINED_TITLE, untrained, f"{key}/untrained{stamp}", fields),
    )
    return own_family(key, spec, path.stem, columns)


# What a link says when it names a model only its maker's session had.
SESSION_ONLY = {
    LAB: N_(
        "This link was made with a model trained in the CNN lab, which only its maker's session has: train or "
        "load it in the CNN lab to see it here."
    ),
    YOURS: N_(
        "This link was made with a model of its maker's own, which only their session has: upload the same "
        "weights file under *Your own weights* in the sidebar to see it here."
    ),
}


def catalog(weights_folder: Path, lab: LabModel | None = None, own: OwnModel | None = None) -> dict[str, Family]:
    """Every family of a session, by name, in the order of the Architecture list: the ImageNet models first
    (MobileNetV2, which has offline weights, leading), the shipped small CNNs, the session's lab model, and
    the models of your own: the session's upload, and those in the weights folder."""
    families = {spec.name: imagenet_family(spec, weights_folder) for spec in REGISTRY.values()}
    families |= {TEACHING: teaching_family(), CIRCULAR: circular_family()}
    if lab is not None:
        families[LAB] = lab_family(lab)
    if own is not None:
        families[YOURS] = uploaded_family(own)
    for architecture, path in folder_models(weights_folder):
        family = folder_family(architecture, path)
        families[family.name] = family
    return families
