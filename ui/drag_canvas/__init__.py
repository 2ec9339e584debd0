"""The drag canvas: a Streamlit component, kept in the repo, that streams positions during a drag.

The browser draws the scene itself (so dragging stays smooth) and sends the object's centre with
back-pressure: during a drag to the drag route (ui.drag_route), whose answers it swaps into the model
columns itself, and at a rest to Python as the component's state, which runs the page; see
drag_canvas.js for the protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import streamlit as st

_HERE = Path(__file__).parent

_component = st.components.v2.component(
    "shiftlab.drag_canvas",
    html='<div class="drag-canvas"></div>',
    css=(_HERE / "drag_canvas.css").read_text(),
    js=(_HERE / "drag_canvas.js").read_text(),
)


class Position(TypedDict):
    """What the browser sends: the object's centre in canvas pixels and a sequence number."""

    x: int
    y: int
    seq: int
    dragging: bool


def drag_canvas(
    *,
    key: str,
    background_url: str,
    sprite_url: str,
    canvas: int,
    x: int,
    y: int,
    ack: int,
    display_px: int = 448,
    big_step: int = 10,
    click_moves: bool = True,
    label: str,
    fit: bool = False,
    route: dict[str, str] | None = None,
    position_boxes: str | None = None,
) -> Position | None:
    """Mount the canvas and return the last position the browser sent (None before any).

    `ack` is the sequence number of the last position Python has used: the browser waits for it
    before sending the next one. Mount this after the plots it drives, so that the ack reaches
    the browser only once they are on the page. click_moves: a click beside the object moves it there
    (otherwise it only selects the canvas for the arrow keys, so that a lesson's position is not lost to
    a stray click). label: what a screen reader says of the canvas, in the page's language. fit: no taller than
    the screen leaves room for (presentation mode). route: where to post positions during a drag, with what
    proves the session ({"path", "session", "token"}); without it, every position goes to Python.
    position_boxes: a CSS selector of the page's x and y boxes, which the canvas fills in itself while the route
    answers a drag (no run of the page updates them then).
    """
    result = _component(
        key=key,
        data={
            "background": background_url,
            "sprite": sprite_url,
            "canvas": canvas,
            "x": x,
            "y": y,
            "ack": ack,
            "display_px": display_px,
            "big_step": big_step,
            "click_moves": click_moves,
            "label": label,
            "fit": fit,
            "route": route,
            "position_boxes": position_boxes,
        },
        on_pos_change=lambda: None,
    )
    return result.pos
