"""The sidebar: which model, layer and scene. Returns the user's choices as one plain value."""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from models import REGISTRY, VARIANT_TITLES
from models.lab_experiments import LAB_CONFIG, NEW_CLASSES
from models.small_cnn import probe_layers
from models.teaching import TEACHING, TEACHING_VARIANTS
from scene import BACKGROUNDS, CANVAS_SIZES, OBJECTS
from scene.shapes import default_style

MODEL_LABELS = {name: spec.label for name, spec in REGISTRY.items()} | {TEACHING: "Teaching CNN (shapes, 64 px)"}


@dataclass(frozen=True)
class Settings:
    """Everything about the view except the object's position."""

    model: str
    layer: str
    object: str
    object_size: int
    background: str
    canvas: int

    @property
    def scene(self) -> Settings:
        """These settings without the layer shown: the key of anything computed from the model's
        outputs as a whole (reference outputs, score maps), so choosing a layer recomputes none of it."""
        return replace(self, layer="")


def column_titles(model: str) -> dict[str, str]:
    """The two columns of the view, variant -> title, in display order."""
    if model == TEACHING:
        return {variant: title for variant, (_, title, _) in TEACHING_VARIANTS.items()}
    return VARIANT_TITLES


def objects_for(model: str) -> tuple[str, ...]:
    """What can be dragged in front of this model: photos for ImageNet models, shapes for the teaching CNN."""
    return NEW_CLASSES if model == TEACHING else OBJECTS


def settings_ui() -> Settings:
    """Draw the sidebar and return the current choices.

    A link may name the model (`?model=resnet18`); it is the starting choice of a new session.
    """
    if st.query_params.get("model") in MODEL_LABELS:
        st.session_state.setdefault("model", st.query_params["model"])
    with st.sidebar:
        st.header("Model")
        model = st.selectbox(
            "Architecture",
            list(MODEL_LABELS),
            format_func=MODEL_LABELS.get,
            key="model",
            help="ImageNet models are shown twice: with pretrained weights, and as their scratch twin (the same "
            "architecture with random weights). The teaching CNN is shown as trained in the CNN lab's experiment.",
        )
        layers = probe_layers(LAB_CONFIG) if model == TEACHING else REGISTRY[model].layers
        layer = st.selectbox(
            "Layer for the feature maps",
            layers,
            index=len(layers) // 2,
            key=f"layer_{model}",
            help="Early layers are near the pixels; later ones see more of the image, more coarsely.",
        )
        st.header("Scene")
        if model == TEACHING:  # the scene the teaching CNNs were trained on: shapes on black, 64 px
            obj = st.selectbox("Shape", NEW_CLASSES, key="shape")
            canvas = LAB_CONFIG.canvas
            st.caption(f"On black, {canvas} × {canvas} px: the teaching CNNs' training scene.")
            return Settings(model, layer, obj, default_style(canvas).size, "black", canvas)
        obj = st.selectbox("Object", OBJECTS, key="object")
        background = st.selectbox("Background", BACKGROUNDS, key="background")
        canvas = st.selectbox(
            "Canvas size (pixels)",
            CANVAS_SIZES,
            key="canvas",
            help="224 is what the ImageNet models were trained on; larger canvases leave more room to move.",
        )
        object_size = st.slider("Object size (pixels)", 32, 160, 96, step=8, key="object_size")
    return Settings(model, layer, obj, object_size, background, canvas)
