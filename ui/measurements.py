"""The measurements under the live view: per layer, how the feature maps moved and how similar
they stayed, between the reference position (where the path began) and now; and a plot of the
chosen layer's measured shift against the shift perfect equivariance predicts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import streamlit as st
import torch

from models import Network
from probes import LayerReport, estimate_shift, layer_report
from ui import resources
from ui.export import Exports, csv_bytes, shift_chart_png
from ui.figures import legend_html, shift_svg
from ui.notes import how_to_read
from ui.panel import Panel
from ui.settings import Settings, objects_for

BORDER_PX = 16  # the band along the canvas edges that zero padding affects most: left out of equivariance
MEASUREMENTS_KEPT = 500  # per session: the points of the shift plot
LIVE_KEY = "live_measurements"  # the toggle: measure on every drag event too


@dataclass(frozen=True)
class Measurements:
    """Everything measured with the object resting at `position`, against the reference position."""

    reference: tuple[int, int]  # (x, y) where the path began
    position: tuple[int, int]  # (x, y) now
    other: str  # the object whose similarity is the baseline
    layer: str  # the chosen layer, whose shift was measured
    reports: dict[str, dict[str, LayerReport]]  # variant -> probe layer -> report
    shifts: dict[str, tuple[int, int]]  # variant -> the chosen layer's measured (dx, dy) in cells

    @property
    def moved(self) -> tuple[int, int]:
        """(dx, dy) in pixels."""
        return self.position[0] - self.reference[0], self.position[1] - self.reference[1]


def baseline_object(model: str, name: str) -> str:
    """The different object whose similarity is the baseline for invariance (facts: a random net
    finds ANY two inputs similar, so a raw similarity means nothing without it)."""
    return next(other for other in objects_for(model) if other != name)


def measurements_panel(
    settings: Settings,
    loaded: dict[str, Network],
    outputs: dict[str, dict[str, torch.Tensor]],
    position: tuple[int, int],
    dragging: bool,
) -> Panel:
    """The measurements between the reference position and now, redone whenever the object rests,
    and on every drag event too when the user asks for it; they are kept for the shift plot, from
    the reference on.

    By default, while the mouse button is down the last measurements stay on screen unchanged:
    redoing them on every event cost about 40 ms on the server and 100 ms in all per update with
    MobileNetV2 (measured: 4.6 -> 3.3 updates/s).
    """
    history = st.session_state.measured
    if st.session_state.get(LIVE_KEY) or not dragging or not history:  # the toggle drawn below, as last set
        latest = measure(settings, loaded, outputs, position)
        if history and (history[-1].position, history[-1].layer) == (latest.position, latest.layer):
            history.pop()
        history.append(latest)
        del history[:-MEASUREMENTS_KEPT]
    shown = measurements_html(history, loaded)

    def draw() -> None:
        st.toggle(
            "Update the measurements during the drag too (slower updates)",
            key=LIVE_KEY,
            help="Off: the measurements below are redone whenever the object rests (release, arrow key, typed "
            "position). On: on every drag event as well, which makes every update slower.",
        )
        st.html(shown)
        how_to_read("measurements")

    return Panel(draw, measurement_exports(history, loaded))


def measure(
    settings: Settings,
    loaded: dict[str, Network],
    outputs: dict[str, dict[str, torch.Tensor]],
    position: tuple[int, int],
) -> Measurements:
    """Uses this event's forward pass; the reference and baseline outputs are cached per pinned position."""
    x0, y0 = st.session_state.path[0]["x"], st.session_state.path[0]["y"]
    dx, dy = position[0] - x0, position[1] - y0
    other = baseline_object(settings.model, settings.object)
    strides = resources.layer_strides(settings.model)
    reports, shifts = {}, {}
    for variant, net in loaded.items():
        reference = resources.outputs_at(settings.scene, variant, settings.object, x0, y0)
        baseline = resources.outputs_at(settings.scene, variant, other, x0, y0)
        now = outputs[variant]
        reports[variant] = {
            layer: layer_report(
                reference[layer][0], now[layer][0], baseline[layer][0], dx, dy, strides[layer], BORDER_PX
            )
            for layer in net.spec.layers
        }
        measured_dy, measured_dx = estimate_shift(reference[settings.layer][0], now[settings.layer][0])
        shifts[variant] = (measured_dx, measured_dy)
    return Measurements((x0, y0), position, other, settings.layer, reports, shifts)


def measurements_html(history: list[Measurements], loaded: dict[str, Network]) -> str:
    """The latest measurements as text, shift plots and one table per model."""
    latest = history[-1]
    (x0, y0), (x, y), (dx, dy) = latest.reference, latest.position, latest.moved
    header = (
        f"<p><b>Measured between the reference position</b> (x = {x0}, y = {y0}, where the path began) "
        f"<b>and the object's position</b> (x = {x}, y = {y}: moved by Δx = {dx}, Δy = {dy} px). "
        f"Baseline for similarity: the {latest.other} at the reference position. Updated whenever the object rests "
        "(and during a drag, when asked for above). "
        "⚠: the shift is not a whole number of cells at that layer, so part of the error is aliasing.</p>"
    )
    blocks = []
    for variant, reports in latest.reports.items():
        stride = reports[latest.layer].stride
        measured_dx, measured_dy = latest.shifts[variant]
        blocks.append(
            f"<div><p><b>{loaded[variant].title}.</b> Layer <code>{escape(latest.layer)}</code> "
            f"(stride {stride}): its maps moved by ({measured_dx:+d}, {measured_dy:+d}) cells (by "
            f"cross-correlation); perfect equivariance would move them by ({dx / stride:+.2f}, {dy / stride:+.2f}).</p>"
            f"{table_html(reports)}</div>"
        )
    return (
        f'<div class="measurements-panel">{header}{shift_plots_html(history, loaded)}'
        f'<div class="measurements-models">{"".join(blocks)}</div></div>'
    )


def series_label(net: Network) -> str:
    return f"{net.title} ({net.spec.label})"


def shift_points(history: list[Measurements], loaded: dict[str, Network], axis: int) -> dict[str, list]:
    """Per model, (expected, measured) shift in cells along axis 0 (x) or 1 (y) of the chosen
    layer, for every resting position measured since the reference was pinned."""
    layer = history[-1].layer
    return {
        series_label(net): [
            (m.reports[variant][layer].expected_cells[axis], m.shifts[variant][axis])
            for m in history
            if m.layer == layer and variant in m.shifts
        ]
        for variant, net in loaded.items()
    }


def measurement_exports(history: list[Measurements], loaded: dict[str, Network]) -> Exports:
    """The latest table of every model, the shift plot's points and the shift plot."""
    history = list(history)  # as shown now: later events add to the session's list
    latest = history[-1]
    report_header = [
        "model",
        "layer",
        "stride",
        "expected_dx_cells",
        "expected_dy_cells",
        "equivariance_error",
        "whole_cells",
        "whole_maps_same",
        "whole_maps_baseline",
        "whole_maps_normalised",
        "pooled_same",
        "pooled_baseline",
        "pooled_normalised",
    ]
    report_rows = [
        (
            variant,
            layer,
            r.stride,
            *r.expected_cells,
            r.equivariance_error,
            r.whole_cells,
            r.flat.same,
            r.flat.baseline,
            r.flat.normalised,
            r.pooled.same,
            r.pooled.baseline,
            r.pooled.normalised,
        )
        for variant, reports in latest.reports.items()
        for layer, r in reports.items()
    ]
    shift_rows = [
        (m.layer, variant, *m.reference, *m.position, *report.expected_cells, *m.shifts[variant])
        for m in history
        for variant, reports in m.reports.items()
        for layer, report in reports.items()
        if layer == m.layer
    ]
    context = f"reference x={latest.reference[0]} y={latest.reference[1]}, baseline object {latest.other}"
    return {
        "measurements.csv": lambda: csv_bytes(
            ["reference_x", "reference_y", "x", "y", *report_header],
            [(*latest.reference, *latest.position, *row) for row in report_rows],
        ),
        "feature_shift.csv": lambda: csv_bytes(
            [
                "layer",
                "model",
                "reference_x",
                "reference_y",
                "x",
                "y",
                "expected_dx_cells",
                "expected_dy_cells",
                "measured_dx_cells",
                "measured_dy_cells",
            ],
            shift_rows,
        ),
        "feature_shift.png": lambda: shift_chart_png(
            {name: shift_points(history, loaded, axis) for axis, name in enumerate(("horizontal", "vertical"))},
            f"Shift of {latest.layer}: measured against expected ({context})",
        ),
    }


def shift_plots_html(history: list[Measurements], loaded: dict[str, Network]) -> str:
    """Measured against expected shift of the chosen layer, horizontally and vertically."""
    layer = history[-1].layer
    labels = [series_label(net) for net in loaded.values()]
    plots = "".join(
        shift_svg(shift_points(history, loaded, axis), f"{name} shift of {layer} (cells)")
        for axis, name in enumerate(("horizontal", "vertical"))
    )
    return (
        f"<p>Each dot: one resting position since the reference, the maps' measured shift against Δ/s. "
        "On the dashed line y = x the layer is perfectly equivariant.</p>"
        f'{legend_html(labels)}<div class="shift-plots">{plots}</div>'
    )


HEADERS = [
    "layer",
    "stride s",
    "expected shift Δ/s (cells)",
    "equivariance error",
    "similarity, whole maps (normalised)",
    "similarity, pooled: same vs other → normalised",
]


def table_html(reports: dict[str, LayerReport]) -> str:
    """One row per probe layer, shallow to deep."""
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row_cells(layer, report)) + "</tr>"
        for layer, report in reports.items()
    )
    return f'<table class="measurements"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def equivariance_cell(report: LayerReport) -> str:
    if math.isnan(report.equivariance_error):
        return "— (no cells away from the border)"
    return f"{report.equivariance_error:.3f}" + ("" if report.whole_cells else " ⚠")


def row_cells(layer: str, report: LayerReport) -> list[str]:
    expected_x, expected_y = report.expected_cells
    return [
        f"<code>{escape(layer)}</code>",
        str(report.stride),
        f"({expected_x:+.2f}, {expected_y:+.2f})",
        equivariance_cell(report),
        f"{report.flat.normalised:.2f}",
        f"{report.pooled.same:.3f} vs {report.pooled.baseline:.3f} → {report.pooled.normalised:.2f}",
    ]
