"""Per-session state: the object's position and the dragged path. Lives only in st.session_state."""

from __future__ import annotations

import streamlit as st
import torch

from probes import class_probability
from scene import clamp_position
from ui.settings import Settings

CANVAS_KEY = "drag_canvas"
MAX_PATH_POINTS = 2000


def init_state(canvas: int) -> None:
    """Set every session key this app uses, once per session; a new canvas size starts at its centre."""
    if st.session_state.get("position_canvas") != canvas:
        st.session_state.position_canvas = canvas
        st.session_state.x = st.session_state.y = canvas // 2
    st.session_state.setdefault("ack", 0)  # sequence number of the last browser position used
    st.session_state.setdefault("path", [])  # [{"x", "y", variant: probability of its tracked class}]
    st.session_state.setdefault("tracked", {})  # variant -> class index whose probability the path follows
    st.session_state.setdefault("path_scene", None)
    st.session_state.setdefault("measured", [])  # ui.measurements.Measurements at each rest since the reference
    st.session_state.setdefault("score_map_request", None)  # (scene, grid step) asked for in the sidebar
    st.session_state.setdefault("sweep_request", None)  # (scene, y) of the 1-pixel sweep asked for
    st.session_state.setdefault("consistency_request", None)  # (scene, x, y) of the shift consistency asked for
    st.session_state.setdefault("score_maps", {})  # computed score maps and sweeps by their inputs, newest last
    st.session_state.setdefault("results_computed", 0)  # how many times new results were computed: the scroll token


def take_browser_position(canvas: int) -> tuple[int, int, bool]:
    """Adopt the newest position the drag canvas sent, clamped to the canvas; return (x, y, whether
    the mouse button is still down).

    Sent positions carry a sequence number; one already used (same seq as `ack`) is ignored, so
    coordinates typed in afterwards are not overwritten by an old drag.
    """
    pos = (st.session_state.get(CANVAS_KEY) or {}).get("pos")
    if pos and pos["seq"] != st.session_state.ack:
        st.session_state.x, st.session_state.y = pos["x"], pos["y"]
        st.session_state.ack = pos["seq"]
    st.session_state.x, st.session_state.y = clamp_position(st.session_state.x, st.session_state.y, canvas)
    return st.session_state.x, st.session_state.y, bool(pos and pos["dragging"])


def reset_path() -> None:
    """Start a new path at the next position: it becomes the measurements' reference."""
    st.session_state.path = []
    st.session_state.tracked = {}
    st.session_state.measured = []


def record_path(settings: Settings, x: int, y: int, logits: dict[str, torch.Tensor]) -> None:
    """Add the current position to the path, with each model's probability for its tracked class.

    Each model tracks the class it ranked first where the path began. A new scene starts a new
    path; changing only the layer keeps it.
    """
    if st.session_state.path_scene != settings.scene:
        st.session_state.path_scene = settings.scene
        reset_path()
    tracked = st.session_state.tracked
    for variant, variant_logits in logits.items():
        tracked.setdefault(variant, int(variant_logits.argmax()))
    path = st.session_state.path
    if path and (path[-1]["x"], path[-1]["y"]) == (x, y):
        return
    path.append({"x": x, "y": y} | {v: class_probability(lg, tracked[v]) for v, lg in logits.items()})
    del path[:-MAX_PATH_POINTS]
