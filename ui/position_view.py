"""*Where is it?* in the drag view: how well each model's pooled maps, layer by layer, tell where the object is.

For the view's scene, the object is placed at PLACEMENTS seeded places where it is whole on the canvas; every
probe layer's maps are averaged over all positions (what a global-average-pool head keeps) and a linear read-out
(ridge regression, `probes.position_readout`) is fitted on TRAIN of the places and tested on the others. Both
models run side by side on each batch, one torch thread each (`models.run_side_by_side`), as in the live view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

import streamlit as st
from matplotlib.figure import Figure

from locales import _
from models import Network, run_side_by_side
from probes.position_readout import (
    LayerReadout,
    PositionReadout,
    pooled_activations,
    position_readout,
    whole_placements,
)
from ui import resources
from ui.export import Exports, csv_bytes, png_bytes
from ui.figures import TRACE_COLOURS, legend_html, svg_img
from ui.notes import how_to_read
from ui.panel import NOTHING, Panel
from ui.results import Job, results_of
from ui.runner import Progress, Work
from ui.settings import Settings

PLACEMENTS, TRAIN, SEED = 300, 200, 0  # a few hundred places, two thirds to fit on and a third to test on
BATCH = 16  # images per forward pass, as the score maps
NOTE = "position_readout"  # the topic of its "How to read" note (ui.notes)


@dataclass(frozen=True)
class ReadoutRequest:
    """*Where is it?*, as asked for: in this view (the settings without the layer)."""

    view: Settings


def readout_button(view: Settings) -> ReadoutRequest | None:
    """The button that asks for the read-out (where the caller puts it, e.g. the sidebar); the request on the run
    it was clicked in, else None. `view` is the settings without the layer."""
    clicked = st.button(
        _("Where is it? (position read-out)"),
        key="compute_position_readout",
        width="stretch",
        help=_(
            "Put the object at {places} places and ask each layer's maps, averaged over all positions, where it "
            "is: a straight-line read-out, learnt on two thirds of the places and tested on the rest."
        ).format(places=PLACEMENTS),
    )
    return ReadoutRequest(view) if clicked else None


def compute_readouts(view: Settings, loaded: Mapping[str, Network], progress: Progress) -> dict[str, PositionReadout]:
    """Every loaded model's read-out of every probe layer, by variant, in the view's scene."""
    size = resources.sprite(view.object, view.object_size).width
    positions = whole_placements(view.canvas, size, PLACEMENTS, SEED)  # (P, 2)
    features = pooled_activations(
        lambda images: run_side_by_side(loaded, images),
        lambda x, y: resources.scene_batch(view, x, y)[0],
        positions,
        BATCH,
        progress,
    )
    return {variant: position_readout(features[variant], positions, TRAIN) for variant in loaded}


Readouts = dict[str, PositionReadout]  # by variant


def readout_jobs(request: ReadoutRequest | None, loaded: dict[str, Network]) -> dict[str, Job[Readouts]]:
    """The read-out of every loaded model at once (side by side, one job under the key "all"), if it was asked for
    (`request`, for this view: `ui.results.request_in`); {} otherwise. Its result is {variant: PositionReadout}."""
    if request is None or not loaded:
        return {}
    keys = tuple(net.cache_key for net in loaded.values())
    *others, last = (_(net.title) for net in loaded.values())
    if others:
        label = _("Placing the object at {places} places for the {models} and {last} models…").format(
            places=PLACEMENTS, models=", ".join(others), last=last
        )
    else:
        label = _("Placing the object at {places} places for the {model} model…").format(places=PLACEMENTS, model=last)
    return {
        "all": Job(
            ("position readout", keys, request),
            Work(label, lambda progress: compute_readouts(request.view, loaded, progress)),
        )
    }


def readout_panel(request: ReadoutRequest | None, loaded: dict[str, Network]) -> Panel:
    """The read-out asked for, once it is ready: per layer, each model's held-out error in px and R² of x and y."""
    readouts = results_of(readout_jobs(request, loaded)).get("all")
    if not readouts:
        return NOTHING
    return position_panel(request.view, {_(loaded[v].title): r for v, r in readouts.items() if v in loaded})


def position_panel(view: Settings, readouts: Mapping[str, PositionReadout]) -> Panel:
    """The read-outs of the models (by title) in `view`: a table of every layer, a chart of the errors, exports."""
    first = next(iter(readouts.values()))
    layers = list(first.layers)
    tested = len(first.positions) - first.train
    baseline = first.layers[layers[0]].baseline_px
    deepest = layers[-1]
    # TRANSLATORS: separates the models' results in a list ("Pretrained: 3 px off at `layer4`; Scratch twin: …")
    summary = _("; ").join(
        _("{model}: {error} px off at `{layer}`").format(
            model=title, error=f"{readout.layers[deepest].error_px:.0f}", layer=deepest
        )
        for title, readout in readouts.items()
    )
    text = _(
        "**Where is it?** Each layer's maps averaged over all positions, as a global-average-pool head sees them, "
        "and a straight-line read-out of the object's centre from them (ridge regression), learnt on {train} "
        "places of the object and tested on {tested} others. Guessing the middle every time is off by "
        "{baseline} px on average (R² = 0); R² = 1 is exact. {summary}."
    ).format(train=first.train, tested=tested, baseline=f"{baseline:.0f}", summary=summary)
    table, chart = readout_table(readouts), error_svg(readouts)

    def draw() -> None:
        st.markdown(text)
        st.html(f"{legend_html(list(readouts))}{chart}{table}")
        how_to_read(NOTE)

    return Panel(draw, readout_exports(view, readouts))


def r2_text(r2: float) -> str:
    """R² to two decimals, without a minus sign on a value that rounds to zero."""
    return f"{r2:.2f}" if round(r2, 2) != 0 else "0.00"


def readout_table(readouts: Mapping[str, PositionReadout]) -> str:
    """One row per layer, one group of columns per model: held-out error (px) and R² of x and y."""
    titles = list(readouts)
    head = "".join(f'<th colspan="3">{escape(title)}</th>' for title in titles)
    error, layer_title = escape(_("error (px)")), escape(_("layer"))
    sub = "".join(f"<th>{error}</th><th>R² x</th><th>R² y</th>" for title in titles)
    rows = "".join(
        f"<tr><td><code>{escape(layer)}</code></td>"
        + "".join(
            f"<td>{r.error_px:.1f}</td><td>{r2_text(r.r2[0])}</td><td>{r2_text(r.r2[1])}</td>"
            for r in (readouts[title].layers[layer] for title in titles)
        )
        + "</tr>"
        for layer in next(iter(readouts.values())).layers
    )
    return (
        '<table class="measurements position-readout">'
        f'<thead><tr><th rowspan="2">{layer_title}</th>{head}</tr><tr>{sub}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def error_svg(readouts: Mapping[str, PositionReadout], width: int = 520, height: int = 190) -> str:
    """Each model's held-out error (px) at each layer, shallow to deep, with the baseline of guessing the middle
    dashed: a line far below it means the layer knows where the object is."""
    layers = list(next(iter(readouts.values())).layers)
    baseline = next(iter(readouts.values())).layers[layers[0]].baseline_px
    top = max([baseline, *(r.error_px for readout in readouts.values() for r in readout.layers.values())]) * 1.1
    left, right, upper, lower = 44, 52, 22, 34
    x_step = (width - left - right) / max(len(layers) - 1, 1)

    def y_of(error: float) -> float:
        return upper + (1 - error / top) * (height - upper - lower)

    text = 'font-family="sans-serif" font-size="11" fill="#808080"'
    guess = escape(_("guessing the middle"))
    # TRANSLATORS: the y axis of a chart: how many pixels the read-out is off
    off = escape(_("px off"))
    parts = [
        f'<line x1="{left}" x2="{width - right}" y1="{y_of(baseline):.1f}" y2="{y_of(baseline):.1f}" '
        'stroke="#808080" stroke-dasharray="5 4"/>',
        f'<text x="{width - right}" y="{y_of(baseline) - 4:.1f}" text-anchor="end" {text}>{guess}</text>',
        f'<text x="4" y="11" {text}>{off}</text>',
    ]
    for level in (0, round(top / 2), round(top)):
        y = y_of(level)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#8080804d"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {text}>{level}</text>')
    for i, layer in enumerate(layers):
        parts.append(
            f'<text x="{left + i * x_step:.1f}" y="{height - 8}" text-anchor="middle" {text}>{escape(layer)}</text>'
        )
    for readout, colour in zip(readouts.values(), TRACE_COLOURS, strict=False):
        points = [(left + i * x_step, y_of(readout.layers[layer].error_px)) for i, layer in enumerate(layers)]
        parts.append(
            f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" fill="none" stroke="{colour}" '
            'stroke-width="2.5"/>'
        )
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>' for x, y in points]
    alt = _("line chart: the position read-out's error at each layer, against guessing the middle")
    return f'<div class="readout-plot">{svg_img(parts, width, height, alt)}</div>'


READOUT_COLUMNS = ("layer", "channels", "ridge_lambda", "error_px", "baseline_px", "r2_x", "r2_y")


def readout_row(layer: str, r: LayerReadout) -> tuple:
    """One layer's read-out as a CSV row under READOUT_COLUMNS."""
    return (
        layer,
        r.channels,
        f"{r.ridge:.6g}",
        f"{r.error_px:.3f}",
        f"{r.baseline_px:.3f}",
        f"{r.r2[0]:.4f}",
        f"{r.r2[1]:.4f}",
    )


def readout_exports(view: Settings, readouts: Mapping[str, PositionReadout]) -> Exports:
    """The per-layer figures, every held-out prediction, and the figure, for the download."""
    return {
        "position_readout.csv": lambda: csv_bytes(
            ["model", *READOUT_COLUMNS, "train", "test"],
            [
                (title, *readout_row(layer, r), readout.train, len(readout.tested))
                for title, readout in readouts.items()
                for layer, r in readout.layers.items()
            ],
        ),
        "position_readout_predictions.csv": lambda: csv_bytes(
            ["model", "layer", "x", "y", "predicted_x", "predicted_y"],
            [
                (title, layer, x, y, f"{px:.2f}", f"{py:.2f}")
                for title, readout in readouts.items()
                for layer, r in readout.layers.items()
                for (x, y), (px, py) in zip(readout.tested.tolist(), r.predicted.tolist(), strict=True)
            ],
        ),
        "position_readout.png": lambda: readout_png(
            readouts,
            _("Where is it? Position read-out ({object}, {size} px, on {background}, {canvas}-px canvas)").format(
                object=view.object, size=view.object_size, background=_(view.background), canvas=view.canvas
            ),
        ),
    }


def readout_png(readouts: Mapping[str, PositionReadout], title: str) -> bytes:
    """Two charts against the layer: each model's held-out error with the baseline dashed, and R² of x and y."""
    layers = list(next(iter(readouts.values())).layers)
    baseline = next(iter(readouts.values())).layers[layers[0]].baseline_px
    figure = Figure(figsize=(11, 4), layout="constrained")
    figure.suptitle(title)
    errors, fits = figure.subplots(1, 2)
    for (model, readout), colour in zip(readouts.items(), TRACE_COLOURS, strict=False):
        values = list(readout.layers.values())
        errors.plot(layers, [r.error_px for r in values], "o-", color=colour, label=model)
        fits.plot(layers, [r.r2[0] for r in values], "o-", color=colour, label=f"{model}: x")
        fits.plot(layers, [r.r2[1] for r in values], "s--", color=colour, label=f"{model}: y")
    errors.axhline(baseline, color="grey", linestyle="--", label=_("guessing the middle"))
    errors.set(ylabel=_("held-out error (px)"), ylim=(0, None), title=_("How far off"))
    lowest = min(0.0, *(min(r.r2) for readout in readouts.values() for r in readout.layers.values()))
    fits.set(ylabel=_("R² (held-out placements)"), ylim=(max(lowest, -1.0) - 0.05, 1.05), title=_("R² of x and y"))
    for axes in (errors, fits):
        axes.set_xlabel(_("layer (shallow → deep)"))
        axes.tick_params(axis="x", labelrotation=90)  # upright names, one beside the next
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    return png_bytes(figure)
