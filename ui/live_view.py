"""The live view: scene, feature maps, class scores and the chosen layer's numbers for both models,
redrawn on every move; and below it, what is redrawn whenever the object rests.

The view is one fragment, so a drag reruns only this part of the page, and it holds only what a
projector shows: the fewer elements a drag event redraws, the faster the browser follows (each element
costs it a restyle). When the object comes to rest (release, arrow key, typed position), the fragment
asks for a run of the whole page instead, and the panels below (results, path, every layer's table,
shift plots, download) are drawn from that run's values. Every panel is computed before any is drawn
(see ui/panel.py); the drag canvas is drawn last, so its acknowledgement reaches the browser after the
plots it asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from itertools import accumulate, pairwise
from math import dist

import streamlit as st
import torch

from locales import _
from models import Network, run_side_by_side
from models.families import Column, Family
from probes import top_k
from scene.words import shown
from ui import resources
from ui.announce import ModelChange, announce, sentence
from ui.drag_canvas import drag_canvas
from ui.export import Exports, csv_bytes, export_button, feature_maps_png, line_chart_png
from ui.figures import feature_mosaic, line_svg, png_data_url, top5_html
from ui.language import use_language
from ui.lessons import FREE
from ui.links import follow_view
from ui.measurements import Measurements, measurements_panel, readout_html, take_measurements
from ui.notes import how_to_read
from ui.panel import Panel
from ui.resources import Columns
from ui.score_map_view import results_panel
from ui.settings import Settings
from ui.state import (
    ACK,
    BROWSER,
    LESSON,
    PAGE_RUN,
    PATH,
    PRESENT,
    TRACKED,
    X,
    Y,
    record_path,
    reset_path,
    take_browser_position,
)
from ui.uploads import object_choices


@dataclass(frozen=True)
class LiveView:
    """What the panels below the view need from the event the view just showed."""

    position: tuple[int, int]
    loaded: dict[str, Network]
    history: list[Measurements]  # as measured up to this event
    exports: Exports  # the columns' files (feature maps, top-5)


@st.fragment
def live_view(settings: Settings, family: Family, models: Columns) -> LiveView:
    """Compose the scene at the current position and show what each model of the family makes of it. In a
    run of the whole page, return what the panels below need; at a rest reached in a run of this fragment
    alone, run the whole page instead. (A fragment's own runs reuse the arguments of the last page run.)"""
    use_language()
    x, y, dragging = take_browser_position(settings.canvas)
    page_run = PAGE_RUN.get()
    PAGE_RUN.set(False)
    if not page_run and not dragging:
        st.rerun(scope="app")  # the object rests: redraw the panels below too
    loaded = models.loaded
    outputs = run_side_by_side(loaded, resources.scene_batch(settings, x, y))  # one forward per model
    record_path(settings, x, y, {variant: out["logits"][0] for variant, out in outputs.items()})
    history = take_measurements(settings, family, loaded, outputs, (x, y), dragging)
    panels = {
        column.key: model_panel(
            settings, loaded[column.key], outputs[column.key], (x, y), readout_html(history[-1], column.key)
        )
        if column.key in loaded
        else unavailable_panel(column, models.unavailable[column.key])
        for column in family.columns
    }
    canvas = canvas_panel(settings)
    update = update_sentence(settings, family, loaded, outputs, history[-1])

    widths = [1 if PRESENT.get() else 1.15] + [1] * len(family.columns)  # presenting, the canvas is as tall as fits
    canvas_column, *model_columns = st.columns(widths, gap="medium")
    for column, place in zip(family.columns, model_columns, strict=True):
        with place:
            net = loaded.get(column.key)
            source = f"{shown(net.label)}: {shown(net.source)}" if net else None  # where its weights came from
            st.subheader(_(column.title), anchor=False, help=source)
            panels[column.key].draw()
    with canvas_column:
        announce(update)
        canvas.draw()
    exports = {name: make for panel in panels.values() for name, make in panel.exports.items()}
    return LiveView((x, y), loaded, list(history), exports)


def update_sentence(
    settings: Settings,
    family: Family,
    loaded: dict[str, Network],
    outputs: dict[str, dict[str, torch.Tensor]],
    latest: Measurements,
) -> str:
    """What this update changed, in one sentence for a screen reader: the object's move from the reference,
    each model's chosen layer (where measured) and its first class."""
    path, tracked = PATH.get(), TRACKED.get()
    changes = []
    for column in family.columns:
        if (net := loaded.get(column.key)) is None:
            continue
        report = latest.reports.get(column.key, {}).get(settings.layer)
        ((top, top_p),) = top_k(outputs[column.key]["logits"][0], 1)
        changes.append(
            ModelChange(
                title=_(column.title),
                shift=report.measured_cells if report is not None else None,
                tracked=net.categories[tracked[column.key]],
                before=path[0][column.key],
                now=path[-1][column.key],
                top=net.categories[top],
                top_p=top_p,
            )
        )
    scene = family.scene
    name = object_choices(scene.objects, uploads=scene.uploads).get(settings.object, settings.object)
    return sentence(name, latest.moved, settings.layer, changes)


def below_view(settings: Settings, family: Family, view: LiveView) -> None:
    """The panels under the live view, as of the last rest: results asked for in the sidebar, the path,
    every layer's measurements and the shift plots, and the download of all of it."""
    below = [
        results_panel(settings, family, view.loaded, view.position),
        path_panel(view.loaded),
        measurements_panel(view.history, view.loaded),
    ]
    for panel in below:
        panel.draw()
    exports = view.exports | {name: make for panel in below for name, make in panel.exports.items()}
    x, y = view.position
    export_button(exports, f"shift-lab_{settings.model}_{settings.object}_x{x}_y{y}")
    follow_view(settings, family, x, y)


def model_panel(
    settings: Settings, net: Network, outputs: dict[str, torch.Tensor], position: tuple[int, int], readout: str
) -> Panel:
    """Feature maps of the chosen layer, the top-5 classes and the chosen layer's measurements of one model."""
    fmap = outputs[settings.layer][0]  # (C, H, W)
    channels, value_range = resources.shown_channels(net, settings)
    mosaic = feature_mosaic(fmap, channels, value_range)
    alt = _("Feature maps of layer {layer}").format(layer=settings.layer)
    image = f'<img class="feature-maps" src="{png_data_url(mosaic)}" alt="{escape(alt)}">'
    template = _(
        "{layer}, object at x = {x}, y = {y}: {shown} of {channels} maps of {height}×{width}, {low} (dark) to {high}."
    )
    caption = escape(template).format(
        layer=f"<code>{escape(settings.layer)}</code>",
        x=position[0],
        y=position[1],
        shown=len(channels),
        channels=fmap.shape[0],
        height=fmap.shape[1],
        width=fmap.shape[2],
        low=f"{value_range[0]:.3g}",
        high=f"{value_range[1]:.3g}",
    )
    classes = [(net.categories[i], p) for i, p in top_k(outputs["logits"][0], 5)]
    # One element for all of it: each element a drag event redraws costs the browser a render (measured: the
    # maps, their caption and the bars as three elements cost 28 ms more of the browser's time per update)
    body = f'{image}<p class="maps-caption">{caption}</p>{top5_html(classes)}{readout}'

    def draw() -> None:
        st.html(body)

    rows = [(rank, name, f"{p:.6f}") for rank, (name, p) in enumerate(classes, start=1)]
    # TRANSLATORS: the title of an exported picture of feature maps
    title = _("{model}: {layer}, object at x = {x}, y = {y}").format(
        model=_(net.title), layer=settings.layer, x=position[0], y=position[1]
    )
    return Panel(
        draw,
        {
            f"feature_maps_{net.variant}.png": lambda: feature_maps_png(fmap[channels], channels, value_range, title),
            f"feature_maps_{net.variant}.csv": lambda: feature_maps_csv(fmap[channels], channels),
            f"top5_{net.variant}.csv": lambda: csv_bytes(["rank", "class", "probability"], rows),
        },
    )


def unavailable_panel(column: Column, reason: str) -> Panel:
    """Why this model cannot be shown, and a way to try again once the cause is fixed."""

    def draw() -> None:
        st.warning(reason, icon=":material/cloud_off:")
        if st.button(_("Try again"), key=f"retry_{column.key}"):
            resources.forget(column)
            st.rerun(scope="app")

    return Panel(draw)


def path_panel(loaded: dict[str, Network]) -> Panel:
    """The tracked class's probability along the path dragged so far, for each loaded model."""
    path = list(PATH.get())  # this event's path: later events add to the session's list
    traces = {
        f"{_(loaded[variant].title)}: {loaded[variant].categories[class_index]}": [point.get(variant) for point in path]
        for variant, class_index in TRACKED.get().items()
        if variant in loaded
    }
    moved = path_lengths(path)
    # TRANSLATORS: the x axis of the path chart: how many pixels the object has travelled since the reference
    x_label = _("pixels moved along the path")
    plot = line_svg(traces, moved, x_label)

    def draw() -> None:
        st.markdown(
            _(
                "**Along the dragged path:** how sure each model stays of the class it saw first. "
                "The path begins at the reference position of the measurements below."
            )
        )
        st.html(plot)
        with st.container(horizontal=True):
            st.button(
                _("Pin reference here"),
                on_click=reset_path,
                key="reset_path",
                help=_("Start a new path at the current position; measurements compare against it."),
            )
            how_to_read("path")

    return Panel(
        draw,
        {
            "path.csv": lambda: csv_bytes(
                ["step", "x", "y", "moved_px", *(f"p({name})" for name in traces)],
                [
                    (step, p["x"], p["y"], f"{moved[step]:.1f}", *(values[step] for values in traces.values()))
                    for step, p in enumerate(path)
                ],
            ),
            "path.png": lambda: line_chart_png(traces, moved, x_label, _("probability"), _("Along the dragged path")),
        },
    )


def path_lengths(path: list[dict]) -> list[float]:
    """How far the object had travelled (px, along the path, not as the crow flies) at each point of the path."""
    steps = (dist((a["x"], a["y"]), (b["x"], b["y"])) for a, b in pairwise(path))
    return list(accumulate(steps, initial=0.0))


def feature_maps_csv(maps: torch.Tensor, channels: list[int]) -> bytes:
    """The shown maps (k, H, W) as one row per cell: which channel, which cell, its value."""
    return csv_bytes(
        ["channel", "row", "column", "activation"],
        [
            (channel, i, j, f"{value:.6g}")
            for channel, grid in zip(channels, maps.tolist(), strict=True)
            for i, row in enumerate(grid)
            for j, value in enumerate(row)
        ],
    )


def canvas_panel(settings: Settings) -> Panel:
    """What the models see: the draggable canvas, and the same position as numbers."""
    background = resources.background_url(settings.background, settings.canvas)
    sprite = resources.sprite_url(settings.object, settings.object_size)

    click_moves = LESSON.get() == FREE  # in a lesson, a stray click moves nothing

    def draw() -> None:
        st.container(key="scene_heading").subheader(_("Scene"), anchor=False)
        left, right = st.container(key="scene_position").columns(2)
        left.number_input(_("x (object centre)"), min_value=0, max_value=settings.canvas - 1, step=1, key=X.name)
        right.number_input(_("y (object centre)"), min_value=0, max_value=settings.canvas - 1, step=1, key=Y.name)
        drag_canvas(
            key=BROWSER.name,
            background_url=background,
            sprite_url=sprite,
            canvas=settings.canvas,
            x=X.get(),
            y=Y.get(),
            ack=ACK.get(),
            display_px=max(448, settings.canvas),
            click_moves=click_moves,
            label=_("Scene: drag the object, or use the arrow keys (Shift for bigger steps)"),
            fit=PRESENT.get(),
        )
        st.caption(
            _("Drag the object, or click the canvas and use the arrow keys (Shift: 10 px steps).")
            if click_moves
            else _("Drag the object, or click it and use the arrow keys (Shift: 10 px steps).")
        )
        how_to_read("view")

    return Panel(draw)
