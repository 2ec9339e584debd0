"""The measurements under the live view: per layer, how the feature maps moved and how similar
they stayed, between the reference position (where the path began) and now."""

from __future__ import annotations

import math
from html import escape

import streamlit as st
import torch

from models import Network
from probes import aligned, equivariance_error, estimate_shift, invariance
from scene import OBJECTS
from ui import resources
from ui.settings import VARIANT_TITLES, Settings

BORDER_PX = 16  # the band along the canvas edges that zero padding affects most: left out of equivariance


def baseline_object(name: str) -> str:
    """The different object whose similarity is the baseline for invariance (facts: a random net
    finds ANY two inputs similar, so a raw similarity means nothing without it)."""
    return next(other for other in OBJECTS if other != name)


def measurements_panel(
    settings: Settings,
    loaded: dict[str, Network],
    outputs: dict[str, dict[str, torch.Tensor]],
    position: tuple[int, int],
    dragging: bool,
) -> None:
    """The measurements between the reference position and now, redone whenever the object rests.

    While the mouse button is down the last table stays on screen unchanged (an unchanged element
    costs the browser nothing), so the drag itself stays fast; it is redone on release.
    """
    if not dragging or st.session_state.measurements is None:
        st.session_state.measurements = measurements_html(settings, loaded, outputs, position)
    st.html(st.session_state.measurements)


def measurements_html(
    settings: Settings,
    loaded: dict[str, Network],
    outputs: dict[str, dict[str, torch.Tensor]],
    position: tuple[int, int],
) -> str:
    """Per model: the chosen layer's measured shift, then every probe layer's equivariance error
    and invariance. Uses this event's forward pass; the reference and baseline outputs are cached
    per pinned position."""
    x0, y0 = st.session_state.path[0]["x"], st.session_state.path[0]["y"]
    dx, dy = position[0] - x0, position[1] - y0
    other = baseline_object(settings.object)
    strides = resources.layer_strides(settings.model)
    stride = strides[settings.layer]
    blocks = []
    for variant, net in loaded.items():
        reference = resources.outputs_at(settings.scene, variant, settings.object, x0, y0)
        baseline = resources.outputs_at(settings.scene, variant, other, x0, y0)
        rows = [
            layer_row(
                layer, strides[layer], reference[layer][0], outputs[variant][layer][0], baseline[layer][0], dx, dy
            )
            for layer in net.spec.layers
        ]
        measured_dy, measured_dx = estimate_shift(reference[settings.layer][0], outputs[variant][settings.layer][0])
        blocks.append(
            f"<div><p><b>{VARIANT_TITLES[variant]}.</b> Layer <code>{escape(settings.layer)}</code> "
            f"(stride {stride}): its maps moved by ({measured_dx:+d}, {measured_dy:+d}) cells (by "
            f"cross-correlation); perfect equivariance would move them by ({dx / stride:+.2f}, {dy / stride:+.2f}).</p>"
            f"{table_html(rows)}</div>"
        )
    header = (
        f"<p><b>Measured between the reference position</b> (x = {x0}, y = {y0}, where the path began) "
        f"<b>and the object's position</b> (x = {position[0]}, y = {position[1]}: moved by Δx = {dx}, Δy = {dy} px). "
        f"Baseline for similarity: the {other} at the reference position. Updated whenever the object rests. "
        "⚠: the shift is not a whole number of cells at that layer, so part of the error is aliasing.</p>"
    )
    return f'<div class="measurements-panel">{header}<div class="measurements-models">{"".join(blocks)}</div></div>'


def layer_row(
    layer: str, stride: int, reference: torch.Tensor, now: torch.Tensor, other: torch.Tensor, dx: int, dy: int
) -> list[str]:
    """The table cells of one layer; feature maps are (C, H, W)."""
    cells = (round(dy / stride), round(dx / stride))
    error = equivariance_error(reference, now, cells, margin=math.ceil(BORDER_PX / stride))
    whole_cells = aligned(dx, stride) and aligned(dy, stride)
    pooled = invariance(reference, now, other, pooled=True)
    flat = invariance(reference, now, other, pooled=False)
    return [
        f"<code>{escape(layer)}</code>",
        str(stride),
        f"({dx / stride:+.2f}, {dy / stride:+.2f})",
        f"{error:.3f}" + ("" if whole_cells else " ⚠"),
        f"{flat.normalised:.2f}",
        f"{pooled.same:.3f} vs {pooled.baseline:.3f} → {pooled.normalised:.2f}",
    ]


HEADERS = [
    "layer",
    "stride s",
    "expected shift Δ/s (cells)",
    "equivariance error",
    "similarity, whole maps (normalised)",
    "similarity, pooled: same vs other → normalised",
]


def table_html(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="measurements"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
