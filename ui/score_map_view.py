"""The score maps: how sure each model is of its class with the object at every grid position."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import streamlit as st
import torch
from streamlit.delta_generator import DeltaGenerator

from locales import _, ngettext
from models import Network
from models.families import Family
from probes import (
    ScoreMap,
    flip_rate,
    flips,
    grid_positions,
    random_shift_pairs,
    score_map,
    scores_at,
    shift_consistency,
)
from ui import resources
from ui.export import Exports, csv_bytes, line_chart_png, score_maps_png
from ui.figures import heat_map_html, line_svg, score_map_image
from ui.notes import how_to_read
from ui.panel import NOTHING, Panel
from ui.position_view import readout_button, readout_jobs, readout_panel
from ui.profile_view import ProfileRequest, profile_jobs, profile_panel
from ui.results import Job, compute_all, request_in, results_of
from ui.runner import Work
from ui.scroll import scroll_here
from ui.settings import Settings
from ui.state import (
    CONSISTENCY_REQUEST,
    PROFILE_REQUEST,
    READOUT_REQUEST,
    RESULTS,
    RESULTS_COMPUTED,
    SCORE_MAP_CANVAS,
    SCORE_MAP_REQUEST,
    SCORE_MAP_STEP,
    SWEEP_REQUEST,
    TRACKED,
    X,
    Y,
)

GRID_STEPS = (32, 16, 8, 4)
MAX_GRID_POINTS = 56 * 56  # at ~15 images/s, one model's map takes at most ~3.5 min of one core
CONSISTENCY_PAIRS = 100
# Models within this factor of MobileNetV2's time are offered every grid: a measured ratio varies by about that
# much from run to run on these shared machines (MobileNetV2 against itself: 0.8-1.2).
COST_TOLERANCE = 1.5
MIN_GRID_SIDE = 14  # the default grid step's positions along each side at least (16 on the small CNNs' 64 px)


@dataclass(frozen=True)
class ScoreMapRequest:
    """*Compute score maps*, as asked for: in this view (the settings without the layer), every `step` px."""

    view: Settings
    step: int


@dataclass(frozen=True)
class SweepRequest:
    """*Sweep 1 px along x*, as asked for: in this view (the settings without the layer), at the object's height."""

    view: Settings
    y: int


@dataclass(frozen=True)
class ConsistencyRequest:
    """*Shift consistency*, as asked for: in this view (the settings without the layer), around the object then."""

    view: Settings
    x: int
    y: int


REQUESTS = (SCORE_MAP_REQUEST, SWEEP_REQUEST, CONSISTENCY_REQUEST, PROFILE_REQUEST, READOUT_REQUEST)


def steps_for(canvas: int, cost: float = 1.0) -> tuple[int, ...]:
    """The grid steps whose score map stays within the time of COST_TOLERANCE x MAX_GRID_POINTS forward passes of
    MobileNetV2 on this canvas, for a model whose pass takes `cost` times MobileNetV2's, and within
    MAX_GRID_POINTS positions; the coarsest step at least."""
    budget = MAX_GRID_POINTS * COST_TOLERANCE / max(cost, COST_TOLERANCE)
    steps = tuple(step for step in GRID_STEPS if len(grid_positions(canvas, step)) ** 2 <= budget)
    return steps or GRID_STEPS[:1]


def compute_requests(settings: Settings, family: Family, loaded: dict[str, Network], slot: DeltaGenerator) -> bool:
    """Compute what the sidebar asked for and is not ready yet, showing progress in `slot` (under the
    sidebar's buttons); whether anything was computed. Called after the live view is drawn, so the scene,
    maps and class bars stay on screen meanwhile, and outside its fragment: a click inside a fragment
    never interrupts a run (Streamlit lets it finish), so only from out here can Stop stop it."""
    view = settings.without_layer
    kinds = (
        score_map_jobs(view, loaded),
        sweep_jobs(view, loaded),
        consistency_jobs(view, loaded),
        profile_jobs(view, family, loaded),
        readout_jobs(request_in(READOUT_REQUEST, view), loaded),
    )
    return compute_all([job for jobs in kinds for job in jobs.values()], slot, REQUESTS)


def tracked_networks(loaded: dict[str, Network]) -> list[tuple[str, Network, int]]:
    """(variant, network, the class it tracks along the path) for each loaded model that tracks one."""
    tracked = TRACKED.get()
    return [(variant, net, tracked[variant]) for variant, net in loaded.items() if variant in tracked]


def logits_and_scene(view: Settings, net: Network) -> tuple[Callable, Callable]:
    """The two functions the probes need: images -> logits, and (x, y) -> the scene image."""
    return (lambda images: net(images)["logits"]), (lambda x, y: resources.scene_batch(view, x, y)[0])


def tracked_name(net: Network, index: int) -> str:
    """The name of a model's series: the model and the class it tracks, "ImageNet-pretrained: umbrella"."""
    return f"{net.title}: {net.categories[index]}"


def top1_names(results: Mapping[str, tuple[torch.Tensor, torch.Tensor]], loaded: Mapping[str, Network]) -> dict:
    """Each model's top-1 class names at every point, by model title, from its (probability, top-1) results."""
    return {loaded[v].title: [loaded[v].categories[i] for i in top1.tolist()] for v, (_p, top1) in results.items()}


def sweep_series(
    results: Mapping[str, tuple[torch.Tensor, torch.Tensor]], loaded: Mapping[str, Network], tracked: Mapping[str, int]
) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """(traces, top1s) of a sweep: each model's tracked-class probability at every x, by `tracked_name`, and its
    top-1 class names, by title."""
    traces = {tracked_name(loaded[v], tracked[v]): probability.tolist() for v, (probability, _t) in results.items()}
    return traces, top1_names(results, loaded)


def cost_words(cost: float) -> str:
    """What the models' cost means for a student, in plain words."""
    if cost >= COST_TOLERANCE:  # beyond it, the finest grids are not offered
        return _(
            "A forward pass of this model takes {times} times as long as MobileNetV2's on this server (measured "
            "here). A drag update and every result below take longer in proportion; only grids that finish in "
            "reasonable time are offered."
        ).format(times=f"{cost:.1f}")
    if cost >= 0.7:
        return _("A forward pass of this model takes about as long as MobileNetV2's on this server (measured here).")
    return _("A forward pass of this model takes less time than MobileNetV2's on this server (measured here).")


def default_step(steps: tuple[int, ...], canvas: int) -> int:
    """The coarsest of `steps` that still puts at least MIN_GRID_SIDE positions along each side of the canvas."""
    return next((step for step in steps if len(grid_positions(canvas, step)) >= MIN_GRID_SIDE), steps[-1])


def score_map_controls(settings: Settings, cost: float | None) -> DeltaGenerator:
    """Sidebar controls; outside the live view, so they cost nothing while the object is dragged. `cost`: how many
    times MobileNetV2's time the models' forward pass takes (resources.drag_cost). Returns the place under them
    where a computation shows its progress."""
    with st.sidebar:
        # TRANSLATORS: the heading of the sidebar's section that computes score maps, sweeps and profiles
        st.header(_("Score maps"))
        if cost is not None:
            st.caption(cost_words(cost))
        steps = steps_for(settings.canvas, cost or 1.0)
        if SCORE_MAP_CANVAS.get() != settings.canvas:  # each canvas starts at its own default
            SCORE_MAP_CANVAS.set(settings.canvas)
            SCORE_MAP_STEP.set(default_step(steps, settings.canvas))
        step = st.selectbox(
            _("Grid step (pixels)"),
            steps,
            key=SCORE_MAP_STEP.name,
            help=_(
                "Smaller steps show finer detail (aliasing!) but take longer: 4 px on the 224 px canvas means "
                "56 × 56 positions. Steps that would take longer than {points} positions with MobileNetV2 "
                "are not offered."
            ).format(points=MAX_GRID_POINTS),
        )
        if st.button(_("Compute score maps"), key="compute_score_maps", width="stretch"):
            SCORE_MAP_REQUEST.set(ScoreMapRequest(settings.without_layer, step))
        if st.button(
            _("Sweep 1 px along x"),
            key="compute_sweep",
            width="stretch",
            help=_("The object at every x, one pixel apart, at its current height: how jagged is the score?"),
        ):
            SWEEP_REQUEST.set(SweepRequest(settings.without_layer, Y.get()))
        if st.button(
            _("Shift consistency ({pairs} pairs)").format(pairs=CONSISTENCY_PAIRS),
            key="compute_consistency",
            width="stretch",
            help=_(
                "Zhang (2019): place the object at two random positions up to 31 px apart around where it is "
                "now; how often do both get the same top-1 class?"
            ),
        ):
            CONSISTENCY_REQUEST.set(ConsistencyRequest(settings.without_layer, X.get(), Y.get()))
        if st.button(
            _("Layer profiles over distance"),
            key="compute_profiles",
            width="stretch",
            help=_(
                "Biscione & Bowers (2021): every layer's similarity and equivariance error against how far the "
                "object moved, averaged over many objects and sizes, for both models."
            ),
        ):
            PROFILE_REQUEST.set(ProfileRequest(settings.without_layer))
        if (readout := readout_button(settings.without_layer)) is not None:
            READOUT_REQUEST.set(readout)
        return st.empty()


def score_map_jobs(view: Settings, loaded: dict[str, Network]) -> dict[str, Job[ScoreMap]]:
    """Each model's score map, if the sidebar asked for one in this scene."""
    if (request := request_in(SCORE_MAP_REQUEST, view)) is None:
        return {}
    positions = grid_positions(view.canvas, request.step)
    return {
        variant: Job(
            ("score map", net.cache_key, request, index),
            Work(
                _("Computing the {model} map…").format(model=net.title),
                lambda progress, net=net, index=index: score_map(
                    *logits_and_scene(view, net), positions, index, progress=progress
                ),
            ),
        )
        for variant, net, index in tracked_networks(loaded)
    }


def score_map_panel(settings: Settings, loaded: dict[str, Network], position: tuple[int, int]) -> Panel:
    """The maps asked for in the sidebar, for the current scene, with the object's position marked."""
    if not (results := results_of(score_map_jobs(settings.without_layer, loaded))):
        return NOTHING
    step = SCORE_MAP_REQUEST.get().step
    tracked = TRACKED.get()
    maps, images, captions = {}, [], []
    for variant, scores in results.items():
        net = loaded[variant]
        maps[tracked_name(net, tracked[variant])] = scores
        images.append(score_map_image(scores, settings.canvas, position))
        count = scores.top1_kept.numel()
        captions.append(
            ngettext(
                "{model}: “{label}” stays first at {share} of {count} position; probability {low} to {high}.",
                "{model}: “{label}” stays first at {share} of {count} positions; probability {low} to {high}.",
                count,
            ).format(
                model=net.title,
                label=net.categories[tracked[variant]],
                share=f"{float(scores.top1_kept.float().mean()):.0%}",
                count=count,
                low=f"{float(scores.probability.min()):.2f}",
                high=f"{float(scores.probability.max()):.2f}",
            )
        )
    # TRANSLATORS: the alternative text of a score map's picture, read by screen readers
    alt = _("score map")

    def draw() -> None:
        st.markdown(
            _(
                "**Score maps** (every {step} px): the probability of each model's first class with the object "
                "centred at each point of a grid (bright = sure). Dots mark where that class is no longer ranked "
                "first; the ring is the object now."
            ).format(step=step)
        )
        for image, caption, column in zip(images, captions, st.columns(len(images)), strict=True):
            column.html(heat_map_html(image, alt, _("probability")))
            column.caption(caption)
        how_to_read("score_maps")

    return Panel(draw, score_map_exports(maps, settings.canvas, position))


def score_map_exports(maps: dict[str, ScoreMap], canvas: int, position: tuple[int, int]) -> Exports:
    """The score maps (by "model: class") as CSV, every grid point, and as one PNG with `position` marked."""
    return {
        "score_maps.csv": lambda: csv_bytes(
            ["model_and_class", "x", "y", "probability", "still_first"],
            [
                (name, x, y, f"{float(scores.probability[i, j]):.6f}", bool(scores.top1_kept[i, j]))
                for name, scores in maps.items()
                for i, y in enumerate(scores.positions)
                for j, x in enumerate(scores.positions)
            ],
        ),
        "score_maps.png": lambda: score_maps_png(maps, canvas, position),
    }


def sweep_jobs(view: Settings, loaded: dict[str, Network]) -> dict[str, Job[tuple[torch.Tensor, torch.Tensor]]]:
    """Each model's 1-pixel sweep, if the sidebar asked for one in this scene."""
    if (request := request_in(SWEEP_REQUEST, view)) is None:
        return {}
    points = [(x, request.y) for x in range(view.canvas)]
    return {
        variant: Job(
            ("sweep", net.cache_key, request, index),
            Work(
                _("Sweeping with the {model} model…").format(model=net.title),
                lambda progress, net=net, index=index: scores_at(
                    *logits_and_scene(view, net), points, index, progress=progress
                ),
            ),
        )
        for variant, net, index in tracked_networks(loaded)
    }


def sweep_panel(settings: Settings, loaded: dict[str, Network]) -> Panel:
    """The 1-pixel sweep asked for in the sidebar, at the object's height when asked: each model's
    first-class probability with the object at every x."""
    if not (results := results_of(sweep_jobs(settings.without_layer, loaded))):
        return NOTHING
    y = SWEEP_REQUEST.get().y
    tracked = TRACKED.get()
    traces, top1s = sweep_series(results, loaded, tracked)
    rates = [f"{loaded[variant].title} {flip_rate(top1):.1%}" for variant, (_p, top1) in results.items()]
    changes = [flips(top1) for _p, top1 in results.values()]  # in the order of traces
    x_label = _("object centre x (px)")
    plot = line_svg(traces, range(settings.canvas), x_label, now=X.get(), dots=changes)

    def draw() -> None:
        st.markdown(
            _(
                "**One-pixel sweep** at y = {y}: each model's first-class probability with the object at x = 0 to "
                "{last}. How often one pixel of movement changes the top-1 class (flip rate, over {moves} moves): "
                "{flips}."
            ).format(y=y, last=settings.canvas - 1, moves=settings.canvas - 1, flips=", ".join(rates))
        )
        st.html(plot)
        st.caption(
            _(
                "The red dashed line is where the object is now (x = {x}); a ring marks each x where a model's "
                "first class changes."
            ).format(x=X.get())
        )
        how_to_read("sweep")

    return Panel(draw, sweep_exports(traces, top1s, y, X.get(), changes))


def sweep_exports(
    traces: dict[str, list[float]], top1s: dict[str, list[str]], y: int, now: int, changes: list[list[int]]
) -> Exports:
    """The sweep at height y: each model's first-class probability (`traces`, by "model: class") and top-1 class
    (`top1s`, by model) at every x, as CSV and PNG (with the object's x `now` and where each model's first class
    changes)."""
    xs = range(len(next(iter(traces.values()))))
    # Translated now, in the page's run: the figure is drawn later, when the download is clicked.
    # TRANSLATORS: the axis labels of the exported sweep chart
    x_label, y_label = _("object centre x (px)"), _("probability")
    title = _("One-pixel sweep at y = {y}").format(y=y)
    return {
        "sweep.csv": lambda: csv_bytes(
            ["x", "y", *(f"p({name})" for name in traces), *(f"top1({name})" for name in top1s)],
            [(x, y, *(v[x] for v in traces.values()), *(t[x] for t in top1s.values())) for x in xs],
        ),
        "sweep.png": lambda: line_chart_png(traces, xs, x_label, y_label, title, now, changes),
    }


def consistency_jobs(view: Settings, loaded: dict[str, Network]) -> dict[str, Job[tuple[torch.Tensor, torch.Tensor]]]:
    """Each model's top-1 classes over the random pairs, if the sidebar asked for shift consistency in this scene."""
    if (request := request_in(CONSISTENCY_REQUEST, view)) is None:
        return {}
    pairs = random_shift_pairs((request.x, request.y), CONSISTENCY_PAIRS)
    points = [position for pair in pairs for position in pair]  # first, second, first, second, ...
    return {
        variant: Job(
            ("consistency", net.cache_key, request),
            Work(
                _("Shifting with the {model} model…").format(model=net.title),
                lambda progress, net=net: scores_at(*logits_and_scene(view, net), points, 0, progress=progress),
            ),
        )
        for variant, net in loaded.items()
    }


def consistency_panel(settings: Settings, loaded: dict[str, Network]) -> Panel:
    """Zhang's shift consistency around the position where it was asked for, per model."""
    if not (results := results_of(consistency_jobs(settings.without_layer, loaded))):
        return NOTHING
    request = CONSISTENCY_REQUEST.get()
    centre = request.x, request.y
    pairs = random_shift_pairs(centre, CONSISTENCY_PAIRS)
    top1s = top1_names(results, loaded)
    agreement = [f"{loaded[v].title} {shift_consistency(t[0::2], t[1::2]):.0%}" for v, (_p, t) in results.items()]
    summary = _(
        "**Shift consistency** around x = {x}, y = {y}: in how many of {pairs} random pairs of positions "
        "(offsets up to 31 px, as in Zhang 2019) the top-1 class is the same: {agreement}. Zhang measured 85% for "
        "an ImageNet ResNet-18 on natural photos; a scratch twin scores high because it gives every input the "
        "same class."
    ).format(x=centre[0], y=centre[1], pairs=len(pairs), agreement=", ".join(agreement))
    return Panel(lambda: st.markdown(summary), consistency_exports(pairs, top1s))


def consistency_exports(pairs: list, top1s: dict[str, list[str]]) -> Exports:
    """Every pair of positions with each model's top-1 class at both (`top1s`, by model: first, second, first, …)
    and whether they agree, as CSV."""
    return {
        "shift_consistency.csv": lambda: csv_bytes(
            ["pair", "x1", "y1", "x2", "y2", *(f"{m}: top1 {k}" for m in top1s for k in (1, 2)), *top1s],
            [
                (
                    n,
                    *first,
                    *second,
                    *(t[i] for t in top1s.values() for i in (2 * n, 2 * n + 1)),
                    *(t[2 * n] == t[2 * n + 1] for t in top1s.values()),
                )
                for n, (first, second) in enumerate(pairs)
            ],
        ),
    }


def results_panel(settings: Settings, family: Family, loaded: dict[str, Network], position: tuple[int, int]) -> Panel:
    """Score maps, sweep, shift consistency, layer profiles and the position read-out, whichever are ready; the
    page scrolls once to the newest of them when new ones arrive, since the buttons that asked for them are in
    the sidebar."""
    view = settings.without_layer
    panels = [
        (kind, p)
        for kind, p in (
            ("score map", score_map_panel(settings, loaded, position)),
            ("sweep", sweep_panel(settings, loaded)),
            ("consistency", consistency_panel(settings, loaded)),
            ("profile", profile_panel(settings, family, loaded)),
            ("position readout", readout_panel(request_in(READOUT_REQUEST, view), loaded)),
        )
        if p is not NOTHING
    ]
    if not panels:
        return NOTHING
    newest = next(reversed(RESULTS.get()))[0]  # the kind of the last result computed (a job key starts with it)
    goes_to = next((kind for kind, _panel in panels if kind == newest), panels[0][0])

    def draw() -> None:
        for kind, panel in panels:
            if kind == goes_to:
                scroll_here(key="results_scroll", token=RESULTS_COMPUTED.get())
            panel.draw()

    return Panel(draw, {name: make for _kind, panel in panels for name, make in panel.exports.items()})
