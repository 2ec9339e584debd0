"""The live view: scene, feature maps, class scores and the chosen layer's numbers for both models,
redrawn on every move; and below it, what is redrawn whenever the object rests.

During a drag the page asks the drag route (ui.drag_route) for each update and swaps it into the model
columns itself, with no run of the page; each run of the view leaves the LiveScene the route updates from
(ui.live_update), and draws its columns with the same code. A drag the route refused comes here instead:
the view is one fragment, so such a drag reruns only this part of the page. When the object comes to rest
(release, arrow key, typed position), the fragment asks for a run of the whole page, and the panels below
(results, path, every layer's table, shift plots, download) are drawn from that run's values. Every panel
is computed before any is drawn (see ui/panel.py); the drag canvas is drawn last, so its acknowledgement
reaches the browser after the plots it asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate, pairwise
from math import dist

import streamlit as st
import torch

from locales import _
from models import Network
from models.families import Column, Family
from probes import top_k
from scene.words import shown
from ui import resources
from ui.announce import announce
from ui.drag_canvas import drag_canvas
from ui.drag_route import PATH as DRAG_PATH
from ui.export import Exports, csv_bytes, export_button, feature_maps_png, line_chart_png
from ui.figures import line_svg
from ui.language import use_language
from ui.lessons import FREE
from ui.links import follow_view
from ui.live_update import LiveScene, Update, live_scene, update
from ui.measurements import Measurements, measurements_panel
from ui.notes import how_to_read
from ui.panel import Panel
from ui.resources import Columns
from ui.score_map_view import results_panel
from ui.settings import Settings
from ui.state import (
    ACK,
    BROWSER,
    LESSON,
    LIVE_SCENE,
    PAGE_RUN,
    PATH,
    PRESENT,
    TRACKED,
    X,
    Y,
    drag_route_key,
    reset_path,
    take_browser_position,
)

POSITION_BOXES = "scene_position"  # the key of the container of the x and y boxes (presentation.css hides it)


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
    scene = live_scene(settings, family, loaded, x, y)
    LIVE_SCENE.set(scene)  # what the drag route updates from until the next run
    now = update(scene, x, y, dragging)
    panels = {
        column.key: model_panel(scene, column.key, now)
        if column.key in loaded
        else unavailable_panel(column, models.unavailable[column.key])
        for column in family.columns
    }
    canvas = canvas_panel(settings)

    widths = [1 if PRESENT.get() else 1.15] + [1] * len(family.columns)  # presenting, the canvas is as tall as fits
    canvas_column, *model_columns = st.columns(widths, gap="medium")
    for column, place in zip(family.columns, model_columns, strict=True):
        with place:
            net = loaded.get(column.key)
            source = f"{shown(net.label)}: {shown(net.source)}" if net else None  # where its weights came from
            st.subheader(_(column.title), anchor=False, help=source)
            panels[column.key].draw()
    with canvas_column:
        announce(now.sentence)
        canvas.draw()
    exports = {name: make for panel in panels.values() for name, make in panel.exports.items()}
    return LiveView((x, y), loaded, now.history, exports)


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


def model_panel(scene: LiveScene, variant: str, now: Update) -> Panel:
    """Feature maps of the chosen layer, the top-5 classes and the chosen layer's measurements of one model, in one
    element the drag canvas finds by its column (it swaps in the drag route's answers, ui.drag_route); marked
    with the browser's last position, so that the run at a rest always redraws what a drag swapped in."""
    settings, net, outputs, (x, y) = scene.settings, scene.loaded[variant], now.outputs[variant], now.position
    body = f'<div class="live-column" data-column="{variant}" data-seq="{ACK.get()}">{now.columns[variant]}</div>'

    def draw() -> None:
        st.html(body)

    fmap = outputs[settings.layer][0]  # (C, H, W)
    channels, value_range = scene.shown[variant]
    classes = [(net.categories[i], p) for i, p in top_k(outputs["logits"][0], 5)]
    rows = [(rank, name, f"{p:.6f}") for rank, (name, p) in enumerate(classes, start=1)]
    # TRANSLATORS: the title of an exported picture of feature maps
    title = _("{model}: {layer}, object at x = {x}, y = {y}").format(model=_(net.title), layer=settings.layer, x=x, y=y)
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
        left, right = st.container(key=POSITION_BOXES).columns(2)
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
            route={"path": DRAG_PATH, **drag_route_key()},
            position_boxes=f".st-key-{POSITION_BOXES} input",
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
