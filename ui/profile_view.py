"""Layer profiles over distance (Biscione & Bowers 2021, live): for each model of the view and every probe
layer, the similarities (with their different-object baselines) and the equivariance error against how far
the object moved, averaged over the scene's objects at several sizes, with their spread."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import streamlit as st
import torch

from locales import N_, _, ngettext
from models import Network, run_side_by_side
from models.families import Family, SceneChoices
from probes.layer_profile import MEASURES, SIMILARITIES, Profile, SceneAt, layer_profile
from probes.receptive_field import ReceptiveField
from scene import compose, to_tensor
from ui import resources
from ui.export import Exports, csv_bytes, profiles_png
from ui.figures import legend_html, profile_svg
from ui.notes import how_to_read
from ui.panel import NOTHING, Panel
from ui.results import Job, request_in, results_of
from ui.runner import Progress, Work
from ui.settings import Settings
from ui.state import PROFILE_REQUEST

SIZES = (64, 96, 128)  # the object sizes a profile averages over, where the scene offers them
BATCH = 16  # images per forward pass, as the score maps
STEP = 4  # pixels between the distances: every second one a whole cell of a stride-8 layer, so aliasing shows
MEASURE_TITLES = {
    "pooled": N_("pooled similarity"),
    "whole_maps": N_("whole-map similarity"),
    "equivariance_error": N_("equivariance error"),
}


@dataclass(frozen=True)
class ProfileRequest:
    """*Layer profiles over distance*, as asked for: in this view (the settings without the layer)."""

    view: Settings


def profile_objects(scene: SceneChoices, object_size: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(objects, their different objects): each of the scene's own objects at each size (SIZES where the scene
    offers them, else `object_size`, the view's), paired with the next object at the same size for the baseline."""
    sizes = tuple(size for size in SIZES if size in scene.object_sizes) or (object_size,)
    names = scene.objects
    objects = [(name, size) for name in names for size in sizes]
    others = [(names[(names.index(name) + 1) % len(names)], size) for name, size in objects]
    return objects, others


def distances(canvas: int) -> tuple[int, ...]:
    """0, STEP, 2 STEP, … up to a little less than half the canvas: from the centre to near the border."""
    return tuple(range(0, int(0.47 * canvas) + 1, STEP))


def side_by_side_profiles(
    loaded: Mapping[str, Network],
    fields: Mapping[str, Mapping[str, ReceptiveField]],
    scene_at: SceneAt,
    objects: list[tuple[str, int]],
    others: list[tuple[str, int]],
    canvas: int,
    progress: Callable[[float], None] = lambda fraction: None,
) -> dict[str, Profile]:
    """Every model's profile (fields[variant]: its probe layers' receptive fields), by variant, from the centre of
    the canvas: the models run side by side on each batch, one torch thread each (`models.run_side_by_side`), and
    the probe sees their layers as (variant, layer) pairs, so that it measures all of them at once."""
    pairs = {(variant, layer): field for variant, layers in fields.items() for layer, field in layers.items()}

    def outputs_of(images: torch.Tensor) -> dict[tuple[str, str], torch.Tensor]:  # {(variant, layer): (B, C, h, w)}
        side_by_side = run_side_by_side(loaded, images)
        return {(variant, layer): side_by_side[variant][layer] for variant, layer in pairs}

    base = (canvas // 2, canvas // 2)
    every = layer_profile(
        outputs_of, scene_at, objects, others, distances(canvas), base, pairs, canvas, BATCH, progress
    )
    return {
        variant: Profile(
            every.distances,
            every.objects,
            {layer: every.values[variant, layer] for layer in fields[variant]},
            {layer: every.baselines[variant, layer] for layer in fields[variant]},
        )
        for variant in fields
    }


def view_profiles(
    view: Settings, family: Family, loaded: Mapping[str, Network], progress: Callable[[float], None]
) -> dict[str, Profile]:
    """The profiles of the loaded models, by variant, in the view's scene (on its background and canvas, over
    `profile_objects`), from the centre of the canvas."""
    objects, others = profile_objects(family.scene, view.object_size)
    empty = resources.background(view.background, view.canvas)

    def scene_at(obj: Hashable | None, x: int, y: int) -> torch.Tensor:
        return to_tensor(empty if obj is None else compose(empty, resources.sprite(*obj), x, y))  # (3, H, W)

    fields = {column.key: column.fields() for column in family.columns if column.key in loaded}
    return side_by_side_profiles(loaded, fields, scene_at, objects, others, view.canvas, progress)


def profile_jobs(view: Settings, family: Family, loaded: dict[str, Network]) -> dict[str, Job[dict[str, Profile]]]:
    """Every loaded model's profile, by variant, as one job (under the key "all"), if the sidebar asked for one in
    this view."""
    if (request := request_in(PROFILE_REQUEST, view)) is None or not loaded:
        return {}

    def profiles(progress: Progress) -> dict[str, Profile]:
        return view_profiles(view, family, loaded, progress)

    *others, last = (_(net.title) for net in loaded.values())
    if others:
        label = _("Profiling the {models} and {last} models…").format(models=", ".join(others), last=last)
    else:
        label = _("Profiling the {model} model…").format(model=last)
    keys = tuple(net.cache_key for net in loaded.values())
    return {"all": Job(("profile", keys, request), Work(label, profiles))}


def curves(results: dict[str, Profile], loaded: Mapping[str, Network]) -> dict[str, dict[str, dict[str, tuple]]]:
    """layer -> measure -> model title -> (mean, 10th percentile, 90th percentile, mean baseline or None), as lists."""
    layers = list(next(iter(results.values())).values)
    return {
        layer: {
            measure: {
                _(loaded[variant].title): (
                    profile.mean(layer, measure).tolist(),
                    *(bound.tolist() for bound in profile.spread(layer, measure)),
                    float(profile.baselines[layer][measure].mean()) if measure in profile.baselines[layer] else None,
                )
                for variant, profile in results.items()
            }
            for measure in MEASURES
        }
        for layer in layers
    }


def chart_top(measure: str, highs: list[float]) -> float:
    """The top of a chart's y axis: 1 for a similarity (a cosine, however its rounding lands), else the highest
    value shown rounded up to a whole number, at least 1 (NaN, a layer with no cell clear of the border, left out)."""
    if measure in SIMILARITIES:
        return 1.0
    return float(max(1, math.ceil(max((v for v in highs if v == v), default=1.0) - 1e-9)))


def profile_panel(settings: Settings, family: Family, loaded: dict[str, Network]) -> Panel:
    """The profiles asked for in the sidebar, for the current view: one row of charts per layer."""
    if not (results := results_of(profile_jobs(settings.without_layer, family, loaded)).get("all")):
        return NOTHING
    xs = list(next(iter(results.values())).distances)
    shown = curves(results, loaded)
    objects = profile_objects(family.scene, settings.object_size)[0]
    rows = []
    for layer, measures in shown.items():
        charts = "".join(
            profile_svg(
                {model: curve[:3] for model, curve in models.items()},
                {model: curve[3] for model, curve in models.items() if curve[3] is not None},
                xs,
                chart_top(measure, [v for c in models.values() for v in c[2]]),
                # TRANSLATORS: a chart's title: a layer's name, then what is measured
                _("{layer}: {measure}").format(layer=layer, measure=_(MEASURE_TITLES[measure])),
            )
            for measure, models in measures.items()
        )
        rows.append(f'<div class="profile-row">{charts}</div>')
    names = sorted({name for name, size in objects})
    sizes = sorted({size for name, size in objects})
    text = ngettext(
        "**Layer profiles** from the centre of the {canvas}-px {background} canvas: each model's "
        "similarity to the unmoved object and its equivariance error against how far the object moved (right, left, "
        "down and up), averaged over {n} object ({names}; {sizes} px); "
        "the band holds the middle 80 % of them, the dashed line is the similarity of a different object.",
        "**Layer profiles** from the centre of the {canvas}-px {background} canvas: each model's "
        "similarity to the unmoved object and its equivariance error against how far the object moved (right, left, "
        "down and up), averaged over {n} objects ({names}; {sizes} px); "
        "the band holds the middle 80 % of them, the dashed line is the similarity of a different object.",
        len(objects),
    ).format(
        canvas=settings.canvas,
        background=_(settings.background),
        n=len(objects),
        names=", ".join(names),
        sizes=", ".join(map(str, sizes)),
    )
    labels = [_(loaded[variant].title) for variant in results]
    body = f"{legend_html(labels)}{''.join(rows)}"

    def draw() -> None:
        st.markdown(text)
        st.html(body)
        how_to_read("profiles")

    return Panel(draw, profile_exports(results, loaded, settings.model))


def figure(value: float | None) -> str:
    """A CSV figure to six decimals, as the other columns ("" for none)."""
    return "" if value is None else f"{value:.6f}"


def profile_exports(results: dict[str, Profile], loaded: Mapping[str, Network], model: str) -> Exports:
    """Every model's profiles (by variant) as CSV, a row per layer, measure, model and distance, and as one PNG."""
    shown, xs = curves(results, loaded), list(next(iter(results.values())).distances)
    return {
        "layer_profiles.csv": lambda: csv_bytes(
            ["layer", "measure", "model", "distance_px", "mean", "p10", "p90", "baseline"],
            [
                (layer, measure, title, x, *(f"{v:.6f}" for v in (mean[i], low[i], high[i])), figure(baseline))
                for layer, measures in shown.items()
                for measure, models in measures.items()
                for title, (mean, low, high, baseline) in models.items()
                for i, x in enumerate(xs)
            ],
        ),
        "layer_profiles.png": lambda: profiles_png(shown, xs, _("Layer profiles ({model})").format(model=model)),
    }
