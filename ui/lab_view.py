"""The CNN lab: small CNNs a class can build and train in a lesson, and the Biscione & Bowers
experiment that shows translation invariance is learned."""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import streamlit as st
import torch

from locales import N_, _
from models.families import LabModel
from models.lab_experiments import (
    ANTI_ALIASING,
    ANTI_ALIASING_BASE,
    ANTI_ALIASING_CLAIMS,
    ANTI_ALIASING_SEEDS,
    CONSISTENCY_PAIRS,
    FAR,
    LAB_CONFIG,
    MAX_EPOCHS,
    MAX_PER_CLASS,
    NEW_CLASSES,
    POOLING_CLAIMS,
    POOLING_COMPARISON,
    POOLING_SEEDS,
    PRESET_B_FAR,
    PRESETS,
    PRETRAINED_FILES,
    PRETRAINING,
    QUICK_TRAINING,
    SHIFT_WINDOW,
    LabControls,
    LabResult,
    Recipe,
    ShiftConsistency,
    ShiftPairScenes,
    Spread,
    anti_aliasing_recipes,
    anti_aliasing_title,
    by_network,
    consistency_on,
    evaluate,
    lab_shift_consistency,
    load_teaching_model,
    pooling_figures,
    pooling_title,
    run_preset,
    shift_pair_scenes,
    starting_model,
    train_on,
    train_recipe,
    trained_location,
    training_data,
)
from models.small_cnn import (
    DOWNSAMPLES,
    HEADS,
    PADDING_NAMES,
    PADDINGS,
    SmallCNN,
    SmallCNNConfig,
    build_small_cnn,
    cumulative_stride,
    feature_size,
    receptive_field,
)
from models.training import ModelFileError, Progress, load_weights
from probes.accuracy_map import AccuracyMap
from scene.shapes import REGIONS, region_box
from ui.export import AccuracyMaps, Exports, accuracy_maps_png, csv_bytes, export_button
from ui.figures import accuracy_map_image, heat_map_html
from ui.language import use_language
from ui.location_lab import location_section
from ui.notes import how_to_read
from ui.runner import Progress as RunnerProgress
from ui.runner import Work, run_all
from ui.state import (
    LAB_BLUR,
    LAB_CANVAS,
    LAB_DEPTH,
    LAB_DOWNSAMPLE,
    LAB_EPOCHS,
    LAB_EXPERIMENT,
    LAB_HEAD,
    LAB_MODEL,
    LAB_PADDING,
    LAB_PER_CLASS,
    LAB_POOLING,
    LAB_POOLING_SEED,
    LAB_REGION,
    LAB_SEED,
    LAB_UPLOAD,
    LAB_UPLOAD_ERROR,
    LAB_WIDTH,
    Key,
)
from ui.uploads import sized_uploader

LAB_CLASSES = NEW_CLASSES  # the classes of the experiment and of the drag view's teaching CNNs
CANVASES = (48, 64, 96)
DOWNSAMPLE_NAMES = {
    "max": N_("max pool"),
    "avg": N_("average pool"),
    "blur": N_("blur pool (anti-aliased)"),
    "aps": N_("adaptive polyphase sampling (APS)"),
    "stride": N_("strided convolution"),
    # TRANSLATORS: no downsampling at all (a choice of the Downsampling list)
    "none": N_("none"),
}
HEAD_NAMES = {
    "flatten": N_("flatten + fully connected"),
    "gap": N_("global average pool + linear"),
    "conv": N_("fully convolutional (1×1 conv, max over positions)"),
}
REGION_NAMES = {  # where the training objects may appear (the keys of scene.shapes.REGIONS), as the list shows them
    # TRANSLATORS: where the training objects appear: all at one place on the canvas
    "one location": N_("one location"),
    "left half": N_("left half"),
    "whole canvas": N_("whole canvas"),
}


def lab_page() -> None:
    st.title(_("CNN lab"), anchor=False)
    st.markdown(
        _(
            "Small CNNs that train in seconds on drawn shapes and letters. Are they translation-invariant because "
            "of their **architecture**, or because of their **training**? Build one, choose where its training "
            "objects may appear, and test it everywhere."
        )
    )
    exports = experiment_panel()
    st.divider()
    exports |= pooling_panel()
    st.divider()
    exports |= build_panel()
    st.divider()
    exports |= location_section()
    if exports:
        export_button(exports, "shift-lab_cnn-lab")


SHIPPED_PRESETS = {"a": "scratch", "b": "transferred", "c": "fine_tuned"}  # preset -> shipped model file
# What each preset shows, in one sentence; the numbers under each map say how far this run bears it out.
PRESET_LESSONS = {
    "a": N_(
        "Trained from scratch with every object at the red square: there it is right; elsewhere it mostly "
        "guesses. The architecture alone does not make it invariant."
    ),
    "b": N_(
        "First trained on other shapes all over the canvas, then only its last layer taught the new shapes at "
        "the red square: it recognises them far away too. Invariance was learnt, and it carries over to new objects."
    ),
    "c": N_(
        "The same start as (b), but the whole network learns the new shapes at the red square: the invariance "
        "it had learnt wears away."
    ),
}


def in_words(items: list[str]) -> str:
    """The items as a sentence says them, in the page's language: "a", "a and b", "a, b and c"."""
    if len(items) < 2:
        return "".join(items)
    # TRANSLATORS: what separates the items of a list but the last two, as in "2, 3 and 4" (Chinese: "、")
    separator = _(", ")
    # TRANSLATORS: the end of a list, as in "2, 3 and 4": {items} is "2, 3" and {last} is "4"
    return _("{items} and {last}").format(items=separator.join(items[:-1]), last=items[-1])


def pretraining_seed_note() -> str:
    """Under preset (b): which pretraining data seed its start is from, how that seed was chosen, and the
    spread over the seeds tried (`PRESET_B_FAR`)."""
    shipped, others = PRETRAINING.data_seed, [str(seed) for seed in PRETRAINED_FILES if seed != PRETRAINING.data_seed]
    far = in_words(
        [
            _("{share} with seed {seed}").format(share=f"{PRESET_B_FAR[seed]:.0%}", seed=seed)
            for seed in PRETRAINED_FILES
        ]
    )
    low, high = min(PRESET_B_FAR.values()), max(PRESET_B_FAR.values())
    return _(
        "Its start is the shipped network pretrained with data seed {shipped}, one of {count} pretraining seeds "
        "tried. Seed {shipped} was fixed first, when the lab was built, and the pretraining was tuned on it; seeds "
        "{others} were tried afterwards, and seed {shipped} is the best of the {count}. Far from the red square, "
        "(b)'s accuracy is {far}: expect {low} to {high}, not always {shipped_far}."
    ).format(
        shipped=shipped,
        count=len(PRETRAINED_FILES),
        others=in_words(others),
        far=far,
        low=f"{low:.0%}",
        high=f"{high:.0%}",
        shipped_far=f"{PRESET_B_FAR[shipped]:.0%}",
    )


# preset -> a further caption under its map, written when it is shown (in the page's language)
PRESET_NOTES: dict[str, Callable[[], str]] = {"b": pretraining_seed_note}


@st.cache_resource(show_spinner=False)
def shipped_pretrained() -> SmallCNN:
    """The shipped teaching model trained on other shapes over the whole canvas (shared, never changed:
    the presets copy it). Raises ModelFileError (not cached: the next run tries again)."""
    return load_teaching_model("pretrained")


@st.cache_resource(show_spinner=False)  # the caller shows the spinner, in the page's language
def shipped_results() -> dict[str, LabResult]:
    """The presets' results with the shipped models that `scripts/train_teaching_models.py` made from
    the same recipes: shown at once, with no training (shared read-only). Raises ModelFileError."""
    results = {}
    for name, file_name in SHIPPED_PRESETS.items():
        model = load_teaching_model(file_name)
        recipe = PRESETS[name]
        results[name] = LabResult(recipe, model, *evaluate(model, recipe.classes), stopped=False, seconds=math.nan)
    return results


def experiment_panel() -> Exports:
    """The three presets as accuracy maps side by side: the shipped models, or the user's own run."""
    st.subheader(_("Is invariance built in, or learnt? (Biscione & Bowers 2021)"), anchor=False)
    st.markdown(
        _(
            "A small VGG-like CNN (max pooling, zero padding, a flatten + fully-connected head) is taught ten shapes "
            "and letters with every training object at **one location**, then tested with the objects at every "
            "position. The maps show its accuracy with the object centred at each point (bright = always right, "
            "dark = always wrong; chance is 10%); the red square is the training location."
        )
    )
    try:
        pretrained = shipped_pretrained()
    except ModelFileError as error:
        st.error(
            _("The shipped teaching model could not be loaded ({error}). Reinstall the app's assets folder.").format(
                error=error
            ),
            icon=":material/error:",
        )
        return {}
    own: dict[str, LabResult] = LAB_EXPERIMENT.get()
    if st.button(_("Train all three again, here (about a minute)"), key="lab_run_experiment"):
        own.clear()
        works = [
            Work(
                _("Training {model}…").format(model=_(recipe.title)),
                lambda progress, name=name: run_preset(name, pretrained, on_progress=steps_of(progress)),
            )
            for name, recipe in PRESETS.items()
        ]
        own.update(zip(PRESETS, run_all(works, st.empty()), strict=True))
    try:
        if own:
            results = own
        else:
            with st.spinner(_("Testing the shipped teaching models at every position…")):
                results = shipped_results()
    except ModelFileError as error:
        st.warning(
            _("A shipped model of the presets could not be loaded ({error}). Train all three instead.").format(
                error=error
            )
        )
        return {}
    st.caption(_("Your own run, just now.") if own else _("The shipped models, trained with the same recipes."))
    x, y = trained_location()
    for column, (name, result) in zip(st.columns(len(PRESETS)), results.items(), strict=False):
        image = accuracy_map_image(result.accuracy, (x, y, x, y))
        column.markdown(f"**{_(result.recipe.title)}**")
        column.html(heat_map_html(image, _("accuracy at each position"), _("accuracy")))
        figures = {
            "at": f"{result.at_location:.0%}",
            "far": f"{result.far_from_location:.0%}",
            "distance": f"{FAR:.0f}",
        }
        if math.isnan(result.seconds):
            column.markdown(
                _("Accuracy **{at}** at the training location, **{far}** at least {distance} px from it.").format(
                    **figures
                )
            )
        else:
            column.markdown(
                _(
                    "Accuracy **{at}** at the training location, **{far}** at least {distance} px from it; trained "
                    "in {seconds} s."
                ).format(**figures, seconds=f"{result.seconds:.0f}")
            )
        column.caption(_(PRESET_LESSONS[name]))
        if note := PRESET_NOTES.get(name):
            column.caption(note())
    how_to_read("accuracy_maps")
    maps = {_(result.recipe.title): (result.accuracy, (x, y, x, y)) for result in results.values()}
    summary = [(_(r.recipe.title), f"{r.at_location:.4f}", f"{r.far_from_location:.4f}") for r in results.values()]
    return {
        "experiment_summary.csv": lambda: csv_bytes(
            ["preset", "accuracy_at_location", f"accuracy_far_{FAR:.1f}px"], summary
        ),
        "experiment_accuracy.csv": lambda: accuracy_csv(maps),
        "experiment_accuracy.png": lambda: accuracy_maps_png(maps, LAB_CONFIG.canvas),
    }


def percent_spread(figure: Spread) -> str:
    """A figure over seeds as the page writes it: mean ± standard deviation (range), in percent; one seed's alone."""
    if figure.low == figure.high:
        return f"{figure.mean:.1%}"
    return f"{figure.mean:.1%} ± {100 * figure.sd:.1f} ({figure.low:.1%}–{figure.high:.1%})"


def pooling_table(
    results: Mapping[str, Sequence[ShiftConsistency]], title: Callable[[str], str] = pooling_title
) -> str:
    """A markdown table: one row per network of a comparison (by key, named by `title`), its accuracy and its two
    consistencies over the seeds of its results, and how many seeds."""
    rows = [(title(name), len(seeds), pooling_figures(seeds)) for name, seeds in results.items()]
    header = [
        # TRANSLATORS: a column of a table: the network of each row
        _("network"),
        # TRANSLATORS: a column of a table: the fraction of objects classified right
        _("accuracy"),
        _("consistency given a correct first answer"),
        _("consistency, all pairs"),
        # TRANSLATORS: a column of a table: how many seeds (trainings) each row is over
        _("seeds"),
    ]
    return "\n".join(
        [
            f"| {' | '.join(header)} |",
            "|---|---|---|---|---|",
            *(
                f"| {name} | {percent_spread(f.accuracy)} | **{percent_spread(f.agree_given_correct)}** | "
                f"{percent_spread(f.agree)} | {seeds} |"
                for name, seeds, f in rows
            ),
        ]
    )


ACCURACY_GAP = 3.0  # points: below this gap between the networks' mean accuracies, they are "about as accurate"


def accuracy_note(results: Mapping[str, Sequence[ShiftConsistency]], title: Callable[[str], str]) -> str:
    """Whether the networks are about as accurate, and so whether their consistencies compare fairly, in words: the
    widest gap between their mean accuracies, and which are about as accurate as the first (max pool)."""
    accuracy = {name: pooling_figures(seeds).accuracy.mean for name, seeds in results.items()}
    low, high = min(accuracy, key=accuracy.get), max(accuracy, key=accuracy.get)
    gap = 100 * (accuracy[high] - accuracy[low])
    if gap < ACCURACY_GAP:
        return _(
            "The networks are about as accurate (within {gap} points on average), so their consistencies compare "
            "fairly."
        ).format(gap=f"{gap:.1f}")
    first, *others = accuracy
    close = [title(name) for name in others if 100 * abs(accuracy[name] - accuracy[first]) < ACCURACY_GAP]
    figures = {
        "gap": f"{gap:.1f}",
        "low_share": f"{accuracy[low]:.1%}",
        "low": title(low),
        "high_share": f"{accuracy[high]:.1%}",
        "high": title(high),
    }
    if not close:
        return _(
            "Their accuracies differ, by up to {gap} points on average ({low_share} for {low}, {high_share} for "
            "{high}), and a more accurate network is more consistent anyway: compare the consistency given a correct "
            "first answer, and read the accuracy beside it."
        ).format(**figures)
    return _(
        "Their accuracies differ, by up to {gap} points on average ({low_share} for {low}, {high_share} for {high}), "
        "and a more accurate network is more consistent anyway: compare the consistency given a correct first "
        "answer, and read the accuracy beside it. About as accurate as {first} (within {margin} points): {close}."
    ).format(**figures, first=title(first), margin=f"{ACCURACY_GAP:.0f}", close=in_words(close))


# The one-click button of the anti-aliasing comparison. "About a minute": 62–80 s measured on the project's 2-core VM
# (2026-12-02, one thread, with other jobs running: load average 3–4; benchmarks/lab_training.py prints it).
def train_all_label() -> str:
    """The one-click button's label, in the page's language."""
    return _("Train all {count} here with seeds {seeds}, smaller (about a minute)").format(
        count=len(ANTI_ALIASING), seeds=in_words([str(s) for s in ANTI_ALIASING_SEEDS])
    )


@dataclass
class PoolingRun:
    """The anti-aliasing comparison trained in this session (QUICK_TRAINING): what is measured so far, network by
    network and seed by seed, kept as it comes so that a Stop keeps it."""

    measured: list[tuple[str, int, ShiftConsistency]]  # (network: a key of ANTI_ALIASING, seed, consistency)
    total: int  # networks × seeds asked for
    seconds: float = math.nan  # the whole run, once finished


def pooling_panel() -> Exports:
    """Max pool, blur pool with two filters, APS, and circular padding with APS, nothing else changed (ANTI_ALIASING):
    the shipped networks over several seeds at once; all of them trained here, smaller, with one click; each set up in
    the controls below. Then the first comparison (POOLING_COMPARISON: a flatten head, max pool against blur pool)."""
    st.subheader(
        _("Does anti-aliasing help? Max pool, blur pool, APS (Zhang 2019; Chaman & Dokmanic 2021)"), anchor=False
    )
    base = ANTI_ALIASING_BASE
    blur_sizes = [str(c.config.blur_size) for c in ANTI_ALIASING.values() if c.config.downsample == "blur"]
    st.markdown(
        _(
            "The network of the next section ({depth} blocks of {width} channels; {per_class} objects per class, "
            "{epochs} epochs) with a **global-average-pool head**, trained with the objects **anywhere on the "
            "canvas**, {count} times, differing only in the downsampling and the padding: **max pool**; **blur "
            "pool** (max pool with stride 1, then a binomial blur with stride 2) with filters {filters}; **APS**, "
            "adaptive polyphase sampling (max pool with stride 1, then of the four grids of every second cell the "
            "one with the most energy, image by image); and **circular padding + APS**, which is exactly invariant "
            "to circular shifts by construction, as moving a whole object on black is. Each is then shown {pairs} "
            "new objects, each at a place and again moved by up to {shift} px along each axis (Zhang's small "
            "shifts): is its answer the same at both? A network that gives the same answer everywhere is always "
            "consistent, so read the accuracy beside it, and the consistency of its right answers: of the objects "
            "it classifies right at the first place, how many it still gets right after the shift."
        ).format(
            depth=base.config.depth,
            width=base.config.width,
            per_class=base.per_class,
            epochs=base.epochs,
            count=len(ANTI_ALIASING),
            filters=in_words(blur_sizes),
            pairs=CONSISTENCY_PAIRS,
            shift=SHIFT_WINDOW - 1,
        )
    )
    quick = QUICK_TRAINING
    runs = len(ANTI_ALIASING) * len(ANTI_ALIASING_SEEDS)
    if st.button(
        train_all_label(),
        key="lab_pooling_train",
        icon=":material/play_arrow:",
        help=_(
            "{runs} trainings, each with {width} channels per block, {per_class} objects per class and {epochs} "
            "epochs (batches of {batch_size}, learning rate {learning_rate}), then the {pairs} shift pairs: 62–80 s "
            "on the lab's 2-core server, longer when it is busy."
        ).format(
            runs=runs,
            width=quick.width,
            per_class=quick.per_class,
            epochs=quick.epochs,
            batch_size=quick.batch_size,
            learning_rate=f"{quick.learning_rate:g}",
            pairs=CONSISTENCY_PAIRS,
        ),
    ):
        train_pooling()
    st.markdown(pooling_table(ANTI_ALIASING_CLAIMS, anti_aliasing_title))
    shipped = _(
        "The shipped networks ({files}), trained with these settings and seeds {seeds}: mean ± standard deviation "
        "over the seeds (range in brackets)."
    ).format(files="`assets/teaching_models/antialiasing_*`", seeds=in_words([str(s) for s in ANTI_ALIASING_SEEDS]))
    st.caption(
        f"{shipped} {accuracy_note(ANTI_ALIASING_CLAIMS, anti_aliasing_title)} " + exactness_note(ANTI_ALIASING_CLAIMS)
    )
    how_to_read("anti_aliasing")
    own: PoolingRun | None = LAB_POOLING.get()
    if own is not None and own.measured:
        results = by_network(own.measured)
        st.markdown(your_run_heading(own))
        st.markdown(pooling_table(results, anti_aliasing_title))
        smaller = _(
            "{width} channels per block, {per_class} objects per class, {epochs} epochs: less accurate than the "
            "shipped networks."
        ).format(width=quick.width, per_class=quick.per_class, epochs=quick.epochs)
        st.caption(f"{smaller} {accuracy_note(results, anti_aliasing_title)}")
    left, right = st.columns([1, 3], vertical_alignment="bottom")
    seed = int(left.number_input(_("Seed"), 0, 9999, key=LAB_POOLING_SEED.name))
    right.markdown(_("Or put one of them into the controls of the next section, with this seed, and change it there:"))
    put_in_controls(ANTI_ALIASING, anti_aliasing_title, seed, "lab_antialiasing_set")
    with st.expander(_("The first comparison: a flatten head, max pool against blur pool")):
        first = POOLING_COMPARISON["max"]
        st.markdown(
            _(
                "The same network with its first head, **flatten + fully connected** ({per_class} objects per class, "
                "{epochs} epochs): max pool, blur pool (filter {filter}), and blur pool stopped at {early} epochs, "
                "when it is about as accurate as max pool at 20."
            ).format(
                per_class=first.per_class,
                epochs=first.epochs,
                filter=POOLING_COMPARISON["blur"].config.blur_size,
                early=POOLING_COMPARISON["blur early"].epochs,
            )
        )
        st.markdown(pooling_table(POOLING_CLAIMS))
        st.caption(
            _(
                "The shipped networks ({files}), seeds {seeds}. With the same 20 epochs, blur pool also learns the "
                "shapes better, and a more accurate network is more consistent anyway; stopped at 8 epochs, it is "
                "about as accurate as max pool at 20, which makes that row the fair comparison. A flatten head gives "
                "every cell of the last map its own weights, so no downsampling can make this network exactly "
                "consistent."
            ).format(files="`assets/teaching_models/pooling_*`", seeds=in_words([str(s) for s in POOLING_SEEDS]))
        )
        put_in_controls(POOLING_COMPARISON, pooling_title, seed, "lab_pooling_set")
    # the models of each row of the file, as the page names them
    # TRANSLATORS: in the downloaded table: the networks shipped with the app
    shipped_models, your_models = _("shipped"), _("your run, smaller")
    rows = [
        (shipped_models, anti_aliasing_title(name), seed, result)
        for name, results in ANTI_ALIASING_CLAIMS.items()
        for seed, result in zip(ANTI_ALIASING_SEEDS, results, strict=True)
    ]
    rows += [(your_models, anti_aliasing_title(n), s, r) for n, s, r in own.measured] if own is not None else []
    flatten_models = _("shipped, flatten head")
    rows += [
        (flatten_models, pooling_title(name), seed, result)
        for name, results in POOLING_CLAIMS.items()
        for seed, result in zip(POOLING_SEEDS, results, strict=True)
    ]
    header = ["models", "network", "seed", "accuracy", "consistency_given_correct", "first_correct", "consistency"]
    return {
        "pooling_comparison.csv": lambda: csv_bytes(
            [*header, "pairs"],
            [
                (
                    source,
                    name,
                    seed,
                    f"{r.accuracy:.4f}",
                    f"{r.agree_given_correct:.4f}",
                    r.first_correct,
                    f"{r.agree:.4f}",
                    r.pairs,
                )
                for source, name, seed, r in rows
            ],
        )
    }


def your_run_heading(run: PoolingRun) -> str:
    """The heading of the anti-aliasing comparison trained here: how far it got, and how long it took."""
    stopped, timed = len(run.measured) != run.total, not math.isnan(run.seconds)
    figures = {"done": len(run.measured), "total": run.total, "seconds": f"{run.seconds:.0f}"}
    if stopped and timed:
        return _("**Your run** (the smaller training, stopped after {done} of {total}, in {seconds} s):").format(
            **figures
        )
    if stopped:
        return _("**Your run** (the smaller training, stopped after {done} of {total}):").format(**figures)
    if timed:
        return _("**Your run** (the smaller training, in {seconds} s):").format(**figures)
    return _("**Your run** (the smaller training):")


def exactness_note(results: Mapping[str, Sequence[ShiftConsistency]]) -> str:
    """What the circular + APS row shows: exact consistency, by construction, with the accuracy it has."""
    circular = pooling_figures(results["circular aps"])
    if circular.agree.low < 1:
        return ""
    return _(
        "Circular padding + APS gives the same answer at both places for every pair with every seed (100%), while "
        "{share} of its answers are right: exact by construction, not by luck."
    ).format(share=f"{circular.accuracy.mean:.1%}")


def put_in_controls(
    comparison: Mapping[str, LabControls], title: Callable[[str], str], seed: int, key_prefix: str
) -> None:
    """A button for each network of a comparison: it puts it, with `seed`, into the *Build and train your own*
    controls."""
    for column, (name, controls) in zip(st.columns(len(comparison)), comparison.items(), strict=True):
        column.button(
            title(name),
            key=f"{key_prefix}_{name}",
            on_click=set_controls,
            args=(replace(controls, seed=seed),),
            icon=":material/tune:",
        )


def train_pooling() -> PoolingRun:
    """Train every network of the anti-aliasing comparison with every seed, smaller (QUICK_TRAINING), with a progress
    bar, and measure each on the same new objects as it is trained. The run is kept in the session from the start."""
    recipes = anti_aliasing_recipes(quick=True)
    run = PoolingRun([], total=len(recipes))
    LAB_POOLING.set(run)
    start = time.perf_counter()
    scenes: list[ShiftPairScenes] = []

    def trained_and_measured(name: str, seed: int, recipe: Recipe, progress: RunnerProgress) -> None:
        model, _stopped = train_recipe(recipe, on_progress=steps_of(progress))
        run.measured.append((name, seed, consistency_on(model, scenes[0])))

    works = [Work(_("Drawing the test objects at nearby places…"), lambda progress: scenes.append(shift_pair_scenes()))]
    works += [
        Work(
            _("Training {network}, seed {seed} ({index} of {total})…").format(
                network=anti_aliasing_title(name), seed=seed, index=index, total=len(recipes)
            ),
            lambda progress, name=name, seed=seed, recipe=recipe: trained_and_measured(name, seed, recipe, progress),
        )
        for index, (name, seed, recipe) in enumerate(recipes, start=1)
    ]
    run_all(works, st.empty())
    run.seconds = time.perf_counter() - start
    return run


def widget_values(controls: LabControls) -> dict[Key, object]:
    """The value of every *Build and train your own* widget, by its key, that makes the page train `controls`."""
    config = controls.config
    return {
        LAB_DEPTH: config.depth,
        LAB_WIDTH: config.width,
        LAB_DOWNSAMPLE: config.downsample,
        LAB_BLUR: config.blur_size,
        LAB_PADDING: config.padding,
        LAB_HEAD: config.head,
        LAB_CANVAS: config.canvas,
        LAB_REGION: controls.region,
        LAB_PER_CLASS: controls.per_class,
        LAB_EPOCHS: controls.epochs,
        LAB_SEED: controls.seed,
    }


def set_controls(controls: LabControls) -> None:
    """Put `controls` into the *Build and train your own* widgets (a button's on_click, before they are drawn)."""
    for key, value in widget_values(controls).items():
        key.set(value)


def architecture_ui() -> SmallCNNConfig | None:
    """The architecture controls; None, with the reason shown, when the choice cannot be built."""
    left, middle, right = st.columns(3)
    depth = left.slider(_("Blocks (conv → ReLU → downsampling)"), 1, 6, key=LAB_DEPTH.name)
    width = left.select_slider(_("Channels per block"), (4, 8, 16, 32, 64), key=LAB_WIDTH.name)
    downsample = middle.selectbox(
        _("Downsampling"), DOWNSAMPLES, format_func=lambda name: _(DOWNSAMPLE_NAMES[name]), key=LAB_DOWNSAMPLE.name
    )
    blur_size = middle.slider(
        _("Blur filter size"), 1, 5, key=LAB_BLUR.name, disabled=downsample != "blur", help=_("1 = no blur at all")
    )
    padding = middle.selectbox(
        _("Padding"), PADDINGS, format_func=lambda name: _(PADDING_NAMES.get(name, name)), key=LAB_PADDING.name
    )
    # TRANSLATORS: the last part of a network, after its blocks, that gives the class scores
    head = right.selectbox(_("Head"), HEADS, format_func=lambda name: _(HEAD_NAMES[name]), key=LAB_HEAD.name)
    canvas = right.selectbox(_("Canvas (pixels)"), CANVASES, key=LAB_CANVAS.name)
    try:
        config = SmallCNNConfig(
            depth, width, downsample, blur_size, padding, head, classes=len(LAB_CLASSES), canvas=canvas
        )
    except ValueError as error:
        st.error(_("This network cannot be built: {reason}.").format(reason=error), icon=":material/block:")
        return None
    parameters = sum(p.numel() for p in build_small_cnn(config).parameters())
    st.caption(
        _(
            "Receptive field of the last block: **{field} px** of the {canvas}-px canvas; cumulative stride "
            "**{stride}**; last maps {size}×{size} cells; {weights} weights."
        ).format(
            field=receptive_field(config),
            canvas=canvas,
            stride=cumulative_stride(config),
            size=feature_size(config),
            weights=f"{parameters:,}",
        )
    )
    return config


def controls_ui() -> LabControls | None:
    """Every *Build and train your own* control (first shown as LAB_DEFAULTS, the keys' defaults); None when
    the network cannot be built."""
    config = architecture_ui()
    if config is None:
        return None
    left, middle, right = st.columns(3)
    region = left.selectbox(
        _("Training objects appear at"),
        tuple(REGIONS),
        format_func=lambda name: _(REGION_NAMES.get(name, name)),
        key=LAB_REGION.name,
    )
    per_class = middle.slider(_("Training objects per class"), 20, MAX_PER_CLASS, step=20, key=LAB_PER_CLASS.name)
    epochs = right.slider(_("Epochs"), 1, MAX_EPOCHS, key=LAB_EPOCHS.name)
    seed = left.number_input(_("Seed"), 0, 9999, key=LAB_SEED.name, help=_("Same seed, same data, same network."))
    return LabControls(config, region, per_class, epochs, int(seed))


def build_panel() -> Exports:
    """Build a CNN, train it on objects from one region, and test it at every position."""
    st.subheader(_("Build and train your own"), anchor=False)
    controls = controls_ui()
    if controls is None:
        return {}
    if st.button(_("Train"), key="lab_train", type="primary", icon=":material/play_arrow:"):
        train_in_session(controls)
    lab = LAB_MODEL.get()
    exports = trained_panel(lab) if lab is not None else {}
    upload_panel(controls.config)
    return exports


def train_in_session(controls: LabControls) -> None:
    """Train a new model as `controls` (the training asked for) say, with a progress bar and live curves. It is
    kept in the session from the start, so a Stop (or any click, which also stops this run) keeps the part
    trained so far."""
    recipe = controls.recipe()
    with st.spinner(_("Drawing the training objects…")):
        data = training_data(recipe)
    lab = LabModel(starting_model(recipe), recipe.region)
    LAB_MODEL.set(lab)
    where, chart = st.empty(), st.empty()

    def train(progress: RunnerProgress) -> None:
        def on_progress(step: Progress) -> None:
            lab.history.append(step)
            progress(
                step.step / step.total_steps,
                _("Epoch {epoch}, loss {loss}").format(epoch=step.epoch, loss=f"{step.loss:.3f}"),
            )
            if step.step % 5 == 0 or step.step == step.total_steps:
                chart.line_chart(shown_curves(lab.history), height=200)

        train_on(lab.model, recipe, data, on_progress)

    run_all([Work(_("Training…"), train)], where)
    lab.finished = True
    chart.empty()  # the curves are drawn again with the model below


def steps_of(progress: RunnerProgress) -> Callable[[Progress], None]:
    """A training's on_progress that moves the runner's bar: the fraction of its steps done."""
    return lambda step: progress(step.step / step.total_steps)


def curves(history: list[Progress]) -> dict[str, list[float]]:
    """Loss and accuracy per step, each smoothed over the last 10 steps (batches are noisy)."""

    def smooth(values: list[float]) -> list[float]:
        return [sum(values[max(0, i - 9) : i + 1]) / len(values[max(0, i - 9) : i + 1]) for i in range(len(values))]

    return {"loss": smooth([p.loss for p in history]), "accuracy": smooth([p.accuracy for p in history])}


# TRANSLATORS: a curve of the training chart: the training's loss (its error measure)
CURVE_NAMES = {"loss": N_("loss"), "accuracy": N_("accuracy")}


def shown_curves(history: list[Progress]) -> dict[str, list[float]]:
    """The curves as the chart names them, in the page's language."""
    return {_(CURVE_NAMES[name]): values for name, values in curves(history).items()}


def trained_panel(lab: LabModel) -> Exports:
    """The model trained in this session: its curves, its accuracy everywhere, and a download."""
    config = lab.model.config
    st.markdown(_("**Your model** ({status}; {origin}).").format(status=lab.status, origin=lab.origin))
    if lab.history:
        # TRANSLATORS: the x axis of the training chart: training steps (batches)
        st.line_chart(shown_curves(lab.history), height=200, x_label=_("step"))
        how_to_read("training")
    if lab.accuracy is None:
        lab.accuracy = test_everywhere(lab.model)
    left, right = st.columns([1, 2])
    box = region_box(REGIONS[lab.region], config.canvas) if lab.region else None
    image = accuracy_map_image(lab.accuracy, box)
    left.html(heat_map_html(image, _("accuracy at each position"), _("accuracy")))
    right.markdown(
        _(
            "**Accuracy at each position** of the object's centre (bright = right every time, dark = never; chance "
            "is {chance}). The red box is where the training objects were. A network that has learnt to ignore "
            "position is bright everywhere."
        ).format(chance=f"{1 / len(LAB_CLASSES):.0%}")
    )
    if lab.consistency is None:
        with st.spinner(_("Showing new objects at nearby pairs of places…")):
            lab.consistency = lab_shift_consistency(lab.model.eval(), LAB_CLASSES, config.canvas)
    right.markdown(consistency_text(lab.consistency))
    right.download_button(
        _("Download the weights ({format})").format(format="state_dict, .pt"),
        data=lambda: state_dict_bytes(lab.model),
        file_name=f"shift-lab_cnn_{config.depth}x{config.width}_{config.downsample}_{config.padding}_"
        f"{config.head}_{config.canvas}px.pt",
        on_click="ignore",
        key="lab_download",
        icon=":material/download:",
    )
    right.caption(
        _("It is also in the drag view's *Architecture* list, as *Your CNN lab model*: drag a shape in front of it.")
    )
    maps, c = {_("Your model"): (lab.accuracy, box)}, lab.consistency
    history = [(p.step, p.epoch, f"{p.loss:.6f}", f"{p.accuracy:.4f}") for p in lab.history]
    return {
        "your_model_accuracy.csv": lambda: accuracy_csv(maps),
        "your_model_accuracy.png": lambda: accuracy_maps_png(maps, config.canvas),
        "your_model_training.csv": lambda: csv_bytes(["step", "epoch", "batch_loss", "batch_accuracy"], history),
        "your_model_shift_consistency.csv": lambda: csv_bytes(
            ["pairs", "max_offset_px", "shift_consistency", "first_correct", "consistency_given_correct", "accuracy"],
            [
                (
                    c.pairs,
                    SHIFT_WINDOW - 1,
                    f"{c.agree:.4f}",
                    c.first_correct,
                    f"{c.agree_given_correct:.4f}",
                    f"{c.accuracy:.4f}",
                )
            ],
        ),
    }


def consistency_text(consistency: ShiftConsistency) -> str:
    """A lab model's shift consistency in words, with the accuracy beside it."""
    return _(
        "**Shift consistency** (Zhang 2019): {pairs} new objects, each shown at a place and again moved by up to "
        "{shift} px along each axis. Of the {first_correct} classified right at the first place, **{kept}** are "
        "still right after the shift; over all the objects, {agree} get the same top class at both places, and "
        "{accuracy} of the scenes are classified right. A network that always answers the same class is 100% "
        "consistent over all the objects: the first figure counts only its right answers."
    ).format(
        pairs=consistency.pairs,
        shift=SHIFT_WINDOW - 1,
        first_correct=consistency.first_correct,
        kept=f"{consistency.agree_given_correct:.0%}",
        agree=f"{consistency.agree:.0%}",
        accuracy=f"{consistency.accuracy:.0%}",
    )


def accuracy_csv(maps: AccuracyMaps) -> bytes:
    """One row per model and grid point: the accuracy with the test objects centred there."""
    return csv_bytes(
        ["model", "x", "y", "accuracy"],
        [
            (label, x, y, f"{float(accuracy.accuracy[i, j]):.4f}")
            for label, (accuracy, _) in maps.items()
            for i, y in enumerate(accuracy.positions)
            for j, x in enumerate(accuracy.positions)
        ],
    )


def test_everywhere(model: SmallCNN) -> AccuracyMap:
    """The model's accuracy with test objects centred at every point of a grid over the canvas."""
    label = _("Testing at every position…")
    bar = st.progress(0.0, label)
    accuracy, *_measured = evaluate(model, LAB_CLASSES, lambda f: bar.progress(f, label))
    bar.empty()
    return accuracy


def state_dict_bytes(model: SmallCNN) -> bytes:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


LAB_UPLOAD_MB = 32  # the lab's largest networks (a flatten head of at most 4 million weights) save under 20 MB


def upload_panel(config: SmallCNNConfig) -> None:
    """Load weights saved from this app into the architecture chosen above."""
    sized_uploader(
        _("Load saved weights into the architecture above (.pt)"),
        LAB_UPLOAD_MB,
        type=["pt"],
        key=LAB_UPLOAD.name,
        on_change=take_weights,
        args=(config,),
        help=_("Choose the same architecture and canvas as when the weights were saved."),
    )
    if error := LAB_UPLOAD_ERROR.get():
        st.error(error, icon=":material/error:")


def take_weights(config: SmallCNNConfig) -> None:
    """When a file arrives: load it into a new model of this architecture, which becomes the
    session's model; if it does not fit, say why and keep the model the session has."""
    use_language()  # a callback runs before the page: its messages are in the session's language too
    upload = LAB_UPLOAD.get()
    if upload is None:  # the file was removed from the uploader: the model stays
        return
    model = build_small_cnn(config)
    try:
        load_weights(model, io.BytesIO(upload.getvalue()))
    except ModelFileError as error:
        LAB_UPLOAD_ERROR.set(
            _("{file} was not loaded, and your model is unchanged: {reason}").format(file=upload.name, reason=error)
        )
        return
    LAB_UPLOAD_ERROR.set(None)
    LAB_MODEL.set(LabModel(model.eval(), region=None, finished=True))
