"""The sidebar: which model, layer and scene. Returns the user's choices as one plain value."""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from models.lab_experiments import NEW_CLASSES
from scene import BACKGROUNDS, CANVAS_SIZES, OBJECTS
from scene.shapes import default_style
from ui.families import LAB_PREFIX, families
from ui.uploads import object_choices, upload_ui

OBJECT_SIZES = tuple(range(32, 161, 8))


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


def objects_for(model: str) -> tuple[str, ...]:
    """What can be dragged in front of this model: photos for ImageNet models, shapes for small CNNs."""
    return NEW_CLASSES if families()[model].small_cnn else OBJECTS


def settings_ui() -> Settings:
    """Draw the sidebar and return the current choices (a link's were adopted before: ui.links)."""
    choices = families()
    if (chosen := st.session_state.get("model")) not in choices and chosen is not None:
        # A lab model replaced by a newer one (models are named anew): show the newer one.
        newer = [name for name in choices if name.startswith(LAB_PREFIX)] if chosen.startswith(LAB_PREFIX) else []
        st.session_state.model = (newer or list(choices))[0]
    with st.sidebar:
        st.header("Model")
        model = st.selectbox(
            "Architecture",
            list(choices),
            format_func=lambda name: choices[name].label,
            key="model",
            help="ImageNet models are shown twice: with pretrained weights, and as their scratch twin (the same "
            "architecture with random weights). The teaching CNN is shown as trained in the CNN lab's experiment; "
            "a model you train in the CNN lab appears here too.",
        )
        family = choices[model]
        st.session_state.setdefault(f"layer_{model}", family.layers[len(family.layers) // 2])  # unless a link chose
        layer = st.selectbox(
            "Layer for the feature maps",
            family.layers,
            key=f"layer_{model}",
            help="Early layers are near the pixels; later ones see more of the image, more coarsely.",
        )
        st.header("Scene")
        if family.small_cnn:  # the scene small CNNs are trained on: shapes on black
            obj = st.selectbox("Shape", NEW_CLASSES, key="shape")
            canvas = family.small_cnn.canvas
            st.caption(f"On black, {canvas} × {canvas} px: the small CNNs' training scene.")
            return Settings(model, layer, obj, default_style(canvas).size, "black", canvas)
        objects = object_choices()
        obj = st.selectbox("Object", list(objects), format_func=objects.get, key="object")
        upload_ui()
        background = st.selectbox("Background", BACKGROUNDS, key="background")
        canvas = st.selectbox(
            "Canvas size (pixels)",
            CANVAS_SIZES,
            key="canvas",
            help="224 is what the ImageNet models were trained on; larger canvases leave more room to move.",
        )
        st.session_state.setdefault("object_size", 96)
        object_size = st.select_slider("Object size (pixels)", OBJECT_SIZES, key="object_size")
    return Settings(model, layer, obj, object_size, background, canvas)
