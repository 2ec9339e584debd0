"""The sidebar: which model, layer and scene. Returns the user's choices as one plain value."""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from models import REGISTRY
from scene import BACKGROUNDS, CANVAS_SIZES, OBJECTS

# Each architecture is shown twice: these are the two variants, in display order.
VARIANT_TITLES = {"pretrained": "ImageNet-pretrained", "scratch": "Scratch twin"}


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


def settings_ui() -> Settings:
    """Draw the sidebar and return the current choices.

    A link may name the model (`?model=resnet18`); it is the starting choice of a new session.
    """
    if st.query_params.get("model") in REGISTRY:
        st.session_state.setdefault("model", st.query_params["model"])
    with st.sidebar:
        st.header("Model")
        model = st.selectbox(
            "Architecture",
            list(REGISTRY),
            format_func=lambda name: REGISTRY[name].label,
            key="model",
            help="Shown twice: with ImageNet-pretrained weights, and as its scratch twin "
            "(the same architecture with random weights).",
        )
        layers = REGISTRY[model].layers
        layer = st.selectbox(
            "Layer for the feature maps",
            layers,
            index=len(layers) // 2,
            key=f"layer_{model}",
            help="Early layers are near the pixels; later ones see more of the image, more coarsely.",
        )
        st.header("Scene")
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
