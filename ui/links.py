"""Shareable views: the page's URL carries what is on screen (lesson, model, layer, object,
background, canvas, object size, position), so a teacher can send a link to an exact view.

A link is read once, when a session starts (ui.lessons.open_link); from then on the URL follows
the view. A value that is not valid (an old or mistyped link) is ignored: the app keeps its default.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from models.lab_experiments import NEW_CLASSES
from scene import BACKGROUNDS, CANVAS_SIZES, OBJECTS, clamp_position
from ui.families import LAB_PREFIX, families
from ui.settings import OBJECT_SIZES, Settings
from ui.uploads import is_upload


def show_view(link: Mapping[str, str]) -> None:
    """Set the sidebar's choices and the object's position to the link's (a link, or a lesson's
    view); call it before the sidebar is drawn, or from a widget's callback."""
    choices = families()
    if link.get("model") in choices:
        st.session_state.model = link["model"]
    model = st.session_state.get("model", next(iter(choices)))
    family = choices[model]
    if link.get("layer") in family.layers:
        st.session_state[f"layer_{model}"] = link["layer"]
    if family.small_cnn:
        if link.get("object") in NEW_CLASSES:
            st.session_state.shape = link["object"]
        canvas = family.small_cnn.canvas
    else:
        if link.get("object") in OBJECTS:
            st.session_state.object = link["object"]
        if link.get("background") in BACKGROUNDS:
            st.session_state.background = link["background"]
        if (size := _number(link.get("size"))) in OBJECT_SIZES:
            st.session_state.object_size = size
        if (canvas := _number(link.get("canvas"))) in CANVAS_SIZES:
            st.session_state.canvas = canvas
        canvas = st.session_state.get("canvas", CANVAS_SIZES[0])
    x, y = _number(link.get("x")), _number(link.get("y"))
    if x is not None and y is not None:
        st.session_state.position_canvas = canvas  # so that init_state does not recentre it
        st.session_state.x, st.session_state.y = clamp_position(x, y, canvas)


def follow_view(settings: Settings, x: int, y: int) -> None:
    """Make the URL the link to this view. A model trained in the lab and an uploaded object live
    in this session only, so they are left out of the link."""
    view = {"lesson": st.session_state.get("lesson"), "layer": settings.layer, "x": x, "y": y}
    if not settings.model.startswith(LAB_PREFIX):
        view["model"] = settings.model
    if not is_upload(settings.object):
        view["object"] = settings.object
    if not families()[settings.model].small_cnn:
        view |= {"background": settings.background, "canvas": settings.canvas, "size": settings.object_size}
    st.query_params.from_dict({key: str(value) for key, value in view.items() if value is not None})


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None
