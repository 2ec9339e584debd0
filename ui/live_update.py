"""One update of the live view, computed alike in a script run (ui.live_view) and outside one (ui.drag_route):
the scene at a position, each model's forward pass, the path and measurements it extends, and what the page
shows of it (each model's column as HTML, and one sentence for the screen reader).

A LiveScene is gathered in a script run: the session's choices, the loaded models, everything the process's
caches hold for this scene, and the session's own path and measurements (the very lists in its state, which
every update extends in place). An update from it needs no Streamlit call, so it can run in any thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from threading import Lock

import torch
from PIL import Image

from locales import LANGUAGE, _
from models import Network, run_side_by_side
from models.families import Family
from probes import top_k
from scene import composed_batch
from ui import resources
from ui.announce import ModelChange, sentence
from ui.figures import feature_mosaic, png_data_url, top5_html
from ui.measurements import Comparisons, Measurements, comparisons, readout_html, take_measurements
from ui.settings import Settings
from ui.state import LIVE, MEASURED, TRACKED, path_for, record_path
from ui.uploads import object_choices


@dataclass
class LiveScene:
    """Everything an update needs besides the position, gathered in one script run."""

    settings: Settings
    family: Family
    loaded: dict[str, Network]
    background: Image.Image
    sprite: Image.Image
    shown: dict[str, tuple[list[int], tuple[float, float]]]  # variant -> the channels shown and their colour range
    against: Comparisons  # what a position is measured against
    path: list[dict]  # the session's path since the reference (ui.state.PATH), extended in place
    tracked: dict[str, int]  # the class each model's path follows (ui.state.TRACKED)
    history: list[Measurements]  # the session's measurements (ui.state.MEASURED), extended in place
    live: bool  # measure the chosen layer during a drag too
    object_name: str  # the object as the page names it
    language: str  # the page's language
    lock: Lock = field(default_factory=Lock, repr=False)  # one update at a time extends the session's lists


@dataclass(frozen=True)
class Update:
    """What one position gave: the models' outputs, the measurements so far, and what the page shows of them."""

    position: tuple[int, int]
    outputs: dict[str, dict[str, torch.Tensor]]
    history: list[Measurements]  # as measured up to this update, oldest first
    columns: dict[str, str]  # variant -> its column's HTML: maps, caption, class bars, readout
    sentence: str  # what changed, for the live region


def live_scene(settings: Settings, family: Family, loaded: dict[str, Network], x: int, y: int) -> LiveScene:
    """The session's LiveScene for this script run, with the object at (x, y) (which begins a new path)."""
    path = path_for(settings)
    reference = (path[0]["x"], path[0]["y"]) if path else (x, y)
    names = object_choices(family.scene.objects, uploads=family.scene.uploads)
    return LiveScene(
        settings,
        family,
        loaded,
        resources.background(settings.background, settings.canvas),
        resources.sprite(settings.object, settings.object_size),
        {variant: resources.shown_channels(net, settings) for variant, net in loaded.items()},
        comparisons(settings, family, loaded, reference),
        path,
        TRACKED.get(),
        MEASURED.get(),
        LIVE.get(),
        names.get(settings.object, settings.object),
        LANGUAGE.get(),
    )


def update(scene: LiveScene, x: int, y: int, dragging: bool) -> Update:
    """Compose the scene with the object at (x, y), run every model on it, extend the path and the measurements,
    and make what the page shows of it, in the scene's language."""
    outputs = run_side_by_side(scene.loaded, composed_batch(scene.background, scene.sprite, x, y))  # one forward each
    with scene.lock:
        record_path(scene.path, scene.tracked, x, y, {variant: out["logits"][0] for variant, out in outputs.items()})
        history = list(
            take_measurements(
                scene.history, scene.against, scene.settings, scene.family, outputs, (x, y), dragging, scene.live
            )
        )
        path, tracked = list(scene.path), dict(scene.tracked)
    language = LANGUAGE.set(scene.language)
    try:
        columns = {
            variant: column_html(scene, variant, outputs[variant], (x, y), readout_html(history[-1], variant))
            for variant in scene.loaded
        }
        said = update_sentence(scene, outputs, history[-1], path, tracked)
    finally:
        LANGUAGE.reset(language)
    return Update((x, y), outputs, history, columns, said)


def column_html(
    scene: LiveScene, variant: str, outputs: dict[str, torch.Tensor], position: tuple[int, int], readout: str
) -> str:
    """One model's column as one element: the chosen layer's feature maps, their caption, the top-5 classes and
    the layer's measurements. (Each element an update redraws costs the browser a render: the maps, their
    caption and the bars as three elements cost 28 ms more of its time per update, measured.)"""
    layer = scene.settings.layer
    fmap = outputs[layer][0]  # (C, H, W)
    net, (channels, value_range) = scene.loaded[variant], scene.shown[variant]
    mosaic = feature_mosaic(fmap, channels, value_range)
    alt = _("Feature maps of layer {layer}").format(layer=layer)
    image = f'<img class="feature-maps" src="{png_data_url(mosaic)}" alt="{escape(alt)}">'
    template = _(
        "{layer}, object at x = {x}, y = {y}: {shown} of {channels} maps of {height}×{width}, {low} (dark) to {high}."
    )
    caption = escape(template).format(
        layer=f"<code>{escape(layer)}</code>",
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
    return f'{image}<p class="maps-caption">{caption}</p>{top5_html(classes)}{readout}'


def update_sentence(
    scene: LiveScene,
    outputs: dict[str, dict[str, torch.Tensor]],
    latest: Measurements,
    path: list[dict],
    tracked: dict[str, int],
) -> str:
    """What this update changed, in one sentence for a screen reader: the object's move from the reference,
    each model's chosen layer (where measured) and its first class."""
    layer = scene.settings.layer
    changes = []
    for column in scene.family.columns:
        if (net := scene.loaded.get(column.key)) is None:
            continue
        report = latest.reports.get(column.key, {}).get(layer)
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
    return sentence(scene.object_name, latest.moved, layer, changes)
