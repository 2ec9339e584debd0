"""The drag view's choices of model, each described once: its two columns, its layers, its scene,
and what its columns compare.

Three kinds: an ImageNet architecture (pretrained vs its scratch twin, on photos), the shipped
teaching CNNs (Biscione & Bowers (b) vs (a), on drawn shapes), and a model trained in this
session's CNN lab (vs the same architecture untrained, on drawn shapes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from uuid import uuid4

import streamlit as st

from models import REGISTRY, VARIANT_TITLES, Network, offline_weights, weights_dir
from models.lab_experiments import LAB_CONFIG, ShiftConsistency
from models.small_cnn import SmallCNN, SmallCNNConfig, build_small_cnn, probe_layers
from models.teaching import TEACHING, TEACHING_VARIANTS, small_cnn_network
from models.training import Progress
from probes.accuracy_map import AccuracyMap

LAB_PREFIX = "lab-"  # a session's lab model is named LAB_PREFIX + a random id


@dataclass(frozen=True)
class Family:
    """What the drag view needs to know about one choice of model."""

    label: str  # in the Architecture list
    columns: Mapping[str, str]  # variant -> column title, in display order
    layers: tuple[str, ...]  # the layers whose feature maps can be shown
    intro: str  # the end of the page's first sentence: what the two columns compare
    small_cnn: SmallCNNConfig | None = None  # small CNNs: their architecture (they see shapes on black)


IMAGENET_INTRO = (
    "for an ImageNet-pretrained network and for its **scratch twin**: the same architecture with random weights."
)
TEACHING_FAMILY = Family(
    label="Teaching CNN (shapes, 64 px)",
    columns=MappingProxyType({variant: title for variant, (_, title, _) in TEACHING_VARIANTS.items()}),
    layers=probe_layers(LAB_CONFIG),
    intro="for two small CNNs taught ten shapes and letters at **one spot** (left of centre): one had first "
    "learnt 100 other classes (shapes, letters, doodles) **all over the canvas**, the other learnt from scratch. "
    "Which still knows a shape elsewhere?",
    small_cnn=LAB_CONFIG,
)
LAB_COLUMNS = MappingProxyType({"trained": "Your model from the CNN lab", "untrained": "The same, untrained"})


@dataclass
class LabModel:
    """A model trained (or loaded) in this session's CNN lab, kept even when its training was
    stopped part-way. Its name is new for every model, so that caches keyed by the model's name
    never mix two models, or two students' models."""

    model: SmallCNN
    region: str | None  # where its training objects were (a key of REGIONS); None when loaded from a file
    history: list[Progress] = field(default_factory=list)
    finished: bool = False
    accuracy: AccuracyMap | None = None
    consistency: ShiftConsistency | None = None
    name: str = field(default_factory=lambda: LAB_PREFIX + uuid4().hex[:12])

    @property
    def status(self) -> str:
        return "trained" if self.finished else f"stopped after {len(self.history)} steps"

    @property
    def origin(self) -> str:
        """Where it learnt, in the words every label and caption about it uses."""
        return f"objects at: {self.region}" if self.region else "weights from a file"


def families() -> dict[str, Family]:
    """Every choice of this session, by name, in display order: the session's lab model comes last."""
    folder = weights_dir()
    choices = {
        name: Family(
            f"{spec.label} · {'ready offline' if offline_weights(name, folder) else 'pretrained needs internet'}",
            VARIANT_TITLES,
            spec.layers,
            IMAGENET_INTRO,
        )
        for name, spec in REGISTRY.items()
    }
    choices[TEACHING] = TEACHING_FAMILY
    if (lab := st.session_state.get("lab_model")) is not None:
        choices[lab.name] = Family(
            label=f"Your CNN lab model ({lab.origin})",
            columns=LAB_COLUMNS,
            layers=probe_layers(lab.model.config),
            intro=f"for **your model from the CNN lab** ({lab.origin}) and for the same architecture "
            "**untrained**: do the maps move with the shape either way, and where does your model still know it?",
            small_cnn=lab.model.config,
        )
    return choices


def lab_network(lab: LabModel, variant: str) -> Network:
    """The session's lab model, or its untrained twin, as a Network for the drag view."""
    if variant == "trained":
        source = f"{lab.status} in the CNN lab ({lab.origin})"
        return small_cnn_network(lab.model, variant, LAB_COLUMNS[variant], source)
    return untrained_twin(lab.model.config)


@st.cache_resource(max_entries=8)
def untrained_twin(config: SmallCNNConfig) -> Network:
    """The architecture with its seed-0 random weights (shared: it is only ever called)."""
    model = build_small_cnn(config, seed=0)
    return small_cnn_network(model, "untrained", LAB_COLUMNS["untrained"], "random weights (seed 0), never trained")
