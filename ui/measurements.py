"""The measurements of the live view, between the reference position (where the path began) and now:
a compact readout of the chosen layer beside each model's maps, and below, one table per model with
every probe layer and plots of the chosen layer's measured shift against the shift perfect
equivariance predicts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape

import streamlit as st
import torch

from locales import N_, _
from models import Network
from models.families import Family
from probes import Invariance, LayerReport, ReceptiveField, ShiftReference, layer_report
from ui import resources
from ui.export import Exports, csv_bytes, shift_chart_png
from ui.figures import legend_html, shift_svg
from ui.notes import how_to_read
from ui.panel import Panel
from ui.settings import Settings
from ui.state import CANVAS, LIVE

MEASUREMENTS_KEPT = 500  # per session: the points of the shift plot
BETWEEN_CELLS = "†"  # marks an equivariance error measured against a shift interpolated between whole cells
AXES = (N_("horizontal"), N_("vertical"))  # the shift plots' axes, x then y: the exported figure's panel titles
AXIS_TITLES = (N_("horizontal shift of {layer} (cells)"), N_("vertical shift of {layer} (cells)"))  # the live plots


@dataclass(frozen=True)
class Measurements:
    """What was measured with the object at `position`, against the reference position."""

    reference: tuple[int, int]  # (x, y) where the path began
    position: tuple[int, int]  # (x, y) now
    other: str  # the object whose similarity is the baseline
    layer: str  # the chosen layer
    canvas: int  # the canvas side in pixels
    reports: dict[str, dict[str, LayerReport]]  # variant -> layer -> report: every probe layer at rest,
    # only the chosen one during a drag
    fields: dict[str, Mapping[str, ReceptiveField]]  # variant -> every probe layer's receptive field and stride
    layers: tuple[str, ...]  # every probe layer
    canvases: tuple[int, ...]  # the canvas sizes the family offers

    @property
    def moved(self) -> tuple[int, int]:
        """(dx, dy) in pixels."""
        return self.position[0] - self.reference[0], self.position[1] - self.reference[1]

    @property
    def complete(self) -> bool:
        """Whether every probe layer was measured (the object rested), not only the chosen one."""
        return all(len(reports) == len(self.layers) for reports in self.reports.values())


def baseline_object(family: Family, name: str) -> str:
    """The different object whose similarity is the baseline for invariance (facts: a random net
    finds ANY two inputs similar, so a raw similarity means nothing without it)."""
    return next(other for other in family.scene.objects if other != name)


def take_measurements(
    history: list[Measurements],
    against: Comparisons,
    settings: Settings,
    family: Family,
    outputs: dict[str, dict[str, torch.Tensor]],
    position: tuple[int, int],
    dragging: bool,
    live: bool,
) -> list[Measurements]:
    """Measure this event, add it to the session's `history` (in place), and return the history (oldest first).

    Every probe layer is measured whenever the object rests (release, arrow key, typed position); during
    a drag only the chosen layer, and only when measuring `live` is on, so that dragging stays fast.
    """
    if dragging and history and not live:
        return history
    layers = (settings.layer,) if dragging and any(m.complete for m in history) else None  # a table to show
    latest = measure_against(against, settings, family, outputs, position, layers)
    if history and (history[-1].position, history[-1].layer) == (latest.position, latest.layer):
        history.pop()  # the same rest measured again, e.g. after another layer's table
    history.append(latest)
    del history[:-MEASUREMENTS_KEPT]
    return history


@dataclass(frozen=True)
class Comparisons:
    """What every position is measured against, for each loaded model: its outputs for the object at the
    reference position, for the other object there and for the empty canvas, and every probe layer's reference
    spectrum and receptive field. Looked up in the process's caches once per script run, so that measuring a
    position needs none of Streamlit (ui.drag_route measures outside a script run)."""

    reference: tuple[int, int]  # (x, y)
    other: str  # the object whose similarity is the baseline
    outputs: dict[str, tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, torch.Tensor]]]
    spectra: dict[str, dict[str, ShiftReference]]  # variant -> layer -> the reference's prepared spectrum
    fields: dict[str, Mapping[str, ReceptiveField]]  # variant -> every probe layer's receptive field and stride


def comparisons(
    settings: Settings, family: Family, loaded: dict[str, Network], reference: tuple[int, int]
) -> Comparisons:
    """The Comparisons of `reference` (x, y) in this scene (cached per scene and pinned position)."""
    x0, y0 = reference
    other = baseline_object(family, settings.object)
    view = settings.without_layer
    return Comparisons(
        reference,
        other,
        {
            variant: (
                resources.outputs_at(net, view, settings.object, x0, y0),
                resources.outputs_at(net, view, other, x0, y0),
                resources.empty_canvas_outputs(net, view),
            )
            for variant, net in loaded.items()
        },
        {
            variant: {
                layer: resources.reference_spectrum(net, view, settings.object, x0, y0, layer)
                for layer in family.layers
            }
            for variant, net in loaded.items()
        },
        {column.key: column.fields() for column in family.columns if column.key in loaded},
    )


def measure(
    settings: Settings,
    family: Family,
    loaded: dict[str, Network],
    outputs: dict[str, dict[str, torch.Tensor]],
    reference: tuple[int, int],
    position: tuple[int, int],
    layers: tuple[str, ...] | None = None,
) -> Measurements:
    """`layers` (default every probe layer) of each loaded model, with the object at `position` (this event's
    forward pass, `outputs`) against `reference` (x, y)."""
    return measure_against(
        comparisons(settings, family, loaded, reference), settings, family, outputs, position, layers
    )


def measure_against(
    against: Comparisons,
    settings: Settings,
    family: Family,
    outputs: dict[str, dict[str, torch.Tensor]],
    position: tuple[int, int],
    layers: tuple[str, ...] | None = None,
) -> Measurements:
    """measure(), given what the position is measured against. The models are measured at once, one thread each
    (torch releases the GIL): on two cores in the time of one."""
    x0, y0 = against.reference
    dx, dy = position[0] - x0, position[1] - y0
    measured = layers or family.layers
    variants = list(against.outputs)

    def reports_of(variant: str) -> dict[str, LayerReport]:
        reference, other, empty = against.outputs[variant]
        return {
            layer: layer_report(
                reference[layer][0],
                outputs[variant][layer][0],
                other[layer][0],
                empty[layer][0],
                dx,
                dy,
                against.fields[variant][layer],
                settings.canvas,
                against.spectra[variant][layer],
            )
            for layer in measured
        }

    with ThreadPoolExecutor(max_workers=max(len(variants), 1)) as pool:
        reports = dict(zip(variants, pool.map(reports_of, variants), strict=True))
    return Measurements(
        against.reference,
        position,
        against.other,
        settings.layer,
        settings.canvas,
        reports,
        against.fields,
        family.layers,
        family.scene.canvases,
    )


def tenths(value: float) -> str:
    """value with one decimal and its sign, halves rounded away from zero (0.05 → +0.1, 0.95 → +1.0, as a
    student would round; float formatting would give +0.9 for 0.95, stored as 0.9499…)."""
    rounded = Decimal(repr(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{rounded:+}" if rounded else "+0.0"


def cells(values: tuple[float, float] | None) -> str:
    """A shift in cells with one decimal, e.g. (+20.0, −0.5); a dash when there was nothing to measure."""
    return "—" if values is None else f"({tenths(values[0])}, {tenths(values[1])})"


def in_cells(values: tuple[float, float] | None) -> str:
    """cells(values) with its unit, e.g. (+20.0, −0.5) cells."""
    # TRANSLATORS: {shift} is a shift in feature-map cells, e.g. (+2.0, −0.5), or a dash
    return _("{shift} cells").format(shift=cells(values))


def similarity_text(similarity: Invariance) -> str:
    """same vs baseline, and the normalised value only where the baseline leaves room for one."""
    same, baseline = f"{similarity.same:.3f}", f"{similarity.baseline:.3f}"
    if similarity.has_room:
        return _("{same} vs {baseline} → {normalised}").format(
            same=same, baseline=baseline, normalised=f"{similarity.normalised:.2f}"
        )
    return _("{same} vs {baseline} (alike)").format(same=same, baseline=baseline)


def clear_canvas(field: ReceptiveField, canvas: int, canvases: tuple[int, ...]) -> int | None:
    """The smallest of `canvases` larger than `canvas` on which some cell of the layer sees no border."""
    return next((size for size in canvases if size > canvas and field.fits(size)), None)


def equivariance_text(report: LayerReport, latest: Measurements, variant: str, layer: str, short: bool = False) -> str:
    """The error, marked when Δ is not a whole number of cells; or why there is none (in a few words if
    `short`, the whole reason in the tooltip)."""
    field, canvas = latest.fields[variant][layer], latest.canvas
    if report.cells_compared == 0:
        larger = clear_canvas(field, canvas, latest.canvases)
        if larger:
            reason = _(
                "every cell's field ({size} px) reaches the {canvas}-px canvas's border; "
                "on a {larger}-px canvas some are clear"
            ).format(size=field.size, canvas=canvas, larger=larger)
        else:
            reason = _("every cell's field ({size} px) reaches the {canvas}-px canvas's border").format(
                size=field.size, canvas=canvas
            )
        if short:
            title = escape(reason, quote=False).replace('"', "&quot;")
            short_reason = _("all cells see the border")
            return f'<span title="{title}">— {short_reason}</span>'
        return f"— {reason}"
    if math.isnan(report.equivariance_error):
        return "— " + _("the object's response is gone from the cells clear of the border")
    return f"{report.equivariance_error:.3f}" + ("" if report.whole_cells else f" {BETWEEN_CELLS}")


def readout_html(latest: Measurements, variant: str) -> str:
    """The chosen layer's numbers for one model, compact, for beside its maps."""
    report = latest.reports.get(variant, {}).get(latest.layer)
    if report is None:
        return ""
    pooled = report.pooled
    same, other = f"{pooled.same:.3f}", f"{pooled.baseline:.3f}"
    rows = (
        # TRANSLATORS: Δ is the move in pixels, s the layer's stride
        (_("expected Δ/s (s = {stride})").format(stride=report.stride), in_cells(report.expected_cells)),
        (_("maps moved"), in_cells(report.measured_cells)),
        (_("equivariance error"), equivariance_text(report, latest, variant, latest.layer, short=True)),
        (
            _("pooled similarity"),
            # TRANSLATORS: the similarity of the moved object, then that of the other (different) object
            _("{same}, other {other}").format(same=same, other=other)
            if pooled.has_room
            else _("{same}, other {other} (alike)").format(same=same, other=other),
        ),
    )
    body = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    label = escape(_("measurements of {layer}").format(layer=latest.layer))
    return f'<table class="readout" aria-label="{label}">{body}</table>'


def use_canvas(size: int) -> None:
    CANVAS.set(size)  # a callback: before the sidebar's canvas choice is drawn


def measurements_panel(history: list[Measurements], loaded: dict[str, Network]) -> Panel:
    """The latest complete measurements as one table per model, and the shift plots; where the chosen
    layer has no cell clear of the border, a button to the smallest canvas of its family on which it has."""
    tables, plots = measurements_html(history, loaded), shift_plots_html(history, loaded)
    latest = history[-1]
    blocked = [  # the models whose chosen layer has no cell clear of the border: a canvas on which each has
        clear_canvas(latest.fields[variant][latest.layer], latest.canvas, latest.canvases)
        for variant, reports in latest.reports.items()
        if reports[latest.layer].cells_compared == 0
    ]
    larger = max(blocked) if blocked and None not in blocked else None

    def draw() -> None:
        st.toggle(
            _("Measure during the drag too (slower updates)"),
            key=LIVE.name,
            help=_(
                "Off: the measurements are redone whenever the object rests (release, arrow key, typed position). "
                "On: the chosen layer's numbers beside the maps and the shift plots follow every drag event as well."
            ),
        )
        if larger:
            st.button(
                _("Use the {size}-px canvas: some cells of {layer} are clear of its border there").format(
                    size=larger, layer=latest.layer
                ),
                key="clear_canvas",
                on_click=use_canvas,
                args=(larger,),
                icon=":material/open_in_full:",
            )
        st.html(tables)  # the same during a drag: apart from the plots, so the browser has less to redraw
        st.html(plots)
        how_to_read("measurements")

    return Panel(draw, measurement_exports(history, loaded))


def measurements_html(history: list[Measurements], loaded: dict[str, Network]) -> str:
    """The latest complete measurements as text and one table per model."""
    latest = next(m for m in reversed(history) if m.complete)
    (x0, y0), (x, y), (dx, dy) = latest.reference, latest.position, latest.moved
    text = _(
        "<b>Every layer, between the reference position</b> (x = {x0}, y = {y0}, where the path began) "
        "<b>and x = {x}, y = {y}</b> (moved by Δx = {dx}, Δy = {dy} px; redone whenever the object rests). "
        "Maps moved: the shift of the object's response (the maps minus those of the empty canvas), by "
        "cross-correlation. Equivariance error: only on cells whose receptive field stays clear of the canvas "
        "border at both positions; {mark}: Δ is not a whole number of cells, so the maps are compared "
        "with the reference maps moved by Δ/s, interpolated between the whole-cell shifts either side. "
        "Baseline for similarity: the {other} at the reference position; <i>alike</i>: this "
        "network finds the other object about as similar here (1 − baseline < 0.05), so the similarity says "
        "nothing about the move."
    ).format(x0=x0, y0=y0, x=x, y=y, dx=dx, dy=dy, mark=BETWEEN_CELLS, other=escape(latest.other))
    header = f"<p>{text}</p>"
    blocks = "".join(
        f"<div><p><b>{escape(_(loaded[variant].title))}</b></p>{table_html(variant, reports, latest)}</div>"
        for variant, reports in latest.reports.items()
        if variant in loaded
    )
    return f'<div class="measurements-panel">{header}<div class="measurements-models">{blocks}</div></div>'


def series_label(net: Network) -> str:
    return f"{_(net.title)} ({net.label})"


def shift_points(history: list[Measurements], loaded: dict[str, Network], axis: int) -> dict[str, list]:
    """Per model, (expected, measured) shift in cells along axis 0 (x) or 1 (y) of the chosen
    layer, for every position measured since the reference was pinned."""
    layer = history[-1].layer
    return {
        series_label(net): [
            (report.expected_cells[axis], report.measured_cells[axis])
            for m in history
            if (report := m.reports.get(variant, {}).get(layer)) is not None and report.measured_cells is not None
        ]
        for variant, net in loaded.items()
    }


def measurement_exports(history: list[Measurements], loaded: dict[str, Network]) -> Exports:
    """The latest complete table of every model, the shift plot's points and the shift plot."""
    history = list(history)  # as shown now: later events add to the session's list
    latest = next(m for m in reversed(history) if m.complete)
    report_header = [
        "model",
        "layer",
        "stride",
        "receptive_field_px",
        "expected_dx_cells",
        "expected_dy_cells",
        "measured_dx_cells",
        "measured_dy_cells",
        "equivariance_error",
        "cells_compared",
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
            latest.fields[variant][layer].size,
            *r.expected_cells,
            *(r.measured_cells or ("", "")),
            r.equivariance_error,
            r.cells_compared,
            r.whole_cells,
            r.flat.same,
            r.flat.baseline,
            "" if math.isnan(r.flat.normalised) else r.flat.normalised,
            r.pooled.same,
            r.pooled.baseline,
            "" if math.isnan(r.pooled.normalised) else r.pooled.normalised,
        )
        for variant, reports in latest.reports.items()
        for layer, r in reports.items()
    ]
    shift_rows = [
        (m.layer, variant, *m.reference, *m.position, *report.expected_cells, *report.measured_cells)
        for m in history
        for variant, reports in m.reports.items()
        if (report := reports.get(m.layer)) is not None and report.measured_cells is not None
    ]
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
            {_(name): shift_points(history, loaded, axis) for axis, name in enumerate(AXES)},
            _("Shift of {layer}: measured against expected (reference x={x} y={y}, baseline object {other})").format(
                layer=latest.layer, x=latest.reference[0], y=latest.reference[1], other=latest.other
            ),
        ),
    }


def shift_plots_html(history: list[Measurements], loaded: dict[str, Network]) -> str:
    """Measured against expected shift of the chosen layer, horizontally and vertically."""
    layer = history[-1].layer
    labels = [series_label(net) for net in loaded.values()]
    plots = "".join(
        shift_svg(shift_points(history, loaded, axis), _(title).format(layer=layer))
        for axis, title in enumerate(AXIS_TITLES)
    )
    text = _(
        "Each dot: one measured position since the reference, the maps' measured shift against Δ/s. "
        "On the dashed line y = x the layer is perfectly equivariant."
    )
    return (
        f'<div class="shift-plots-panel"><p>{text}</p>{legend_html(labels)}<div class="shift-plots">{plots}</div></div>'
    )


HEADERS = [
    N_("layer"),
    N_("stride s"),
    N_("expected shift Δ/s (cells)"),
    N_("maps moved (cells)"),
    N_("equivariance error"),
    N_("similarity, whole maps: same vs other → normalised"),
    N_("similarity, pooled: same vs other → normalised"),
]


def table_html(variant: str, reports: dict[str, LayerReport], latest: Measurements) -> str:
    """One row per probe layer, shallow to deep."""
    head = "".join(f"<th>{escape(_(h))}</th>" for h in HEADERS)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row_cells(variant, layer, report, latest)) + "</tr>"
        for layer, report in reports.items()
    )
    return f'<table class="measurements"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def row_cells(variant: str, layer: str, report: LayerReport, latest: Measurements) -> list[str]:
    return [
        f"<code>{escape(layer)}</code>",
        str(report.stride),
        cells(report.expected_cells),
        cells(report.measured_cells),
        equivariance_text(report, latest, variant, layer),
        similarity_text(report.flat),
        similarity_text(report.pooled),
    ]
