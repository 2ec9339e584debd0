"""The CNN lab: small CNNs a class can build and train in a lesson, and the Biscione & Bowers
experiment that shows translation invariance is learned."""

from __future__ import annotations

import io
import math

import streamlit as st
import torch

from models.lab_experiments import (
    FAR,
    LAB_CONFIG,
    NEW_CLASSES,
    PRESETS,
    LabResult,
    evaluate,
    lab_shift_consistency,
    load_teaching_model,
    run_preset,
    trained_location,
)
from models.small_cnn import (
    DOWNSAMPLES,
    HEADS,
    PADDINGS,
    SmallCNN,
    SmallCNNConfig,
    build_small_cnn,
    cumulative_stride,
    feature_size,
    receptive_field,
)
from models.training import ModelFileError, Progress, TrainSettings, load_weights, train
from probes.accuracy_map import AccuracyMap
from scene.shapes import REGIONS, make_dataset, region_box
from ui.export import AccuracyMaps, Exports, accuracy_maps_png, csv_bytes, export_button
from ui.families import LabModel
from ui.figures import accuracy_map_image, png_data_url
from ui.notes import how_to_read

LAB_CLASSES = NEW_CLASSES  # the classes of the experiment and of the drag view's teaching CNNs
CANVASES = (48, 64, 96)
MAX_PER_CLASS, MAX_EPOCHS = 200, 20  # bounds: one student's training must not hold the server for long
DOWNSAMPLE_NAMES = {
    "max": "max pool",
    "avg": "average pool",
    "blur": "blur pool (anti-aliased)",
    "stride": "strided convolution",
    "none": "none",
}
HEAD_NAMES = {
    "flatten": "flatten + fully connected",
    "gap": "global average pool + linear",
    "conv": "fully convolutional (1×1 conv, max over positions)",
}


def lab_page() -> None:
    st.title("CNN lab", anchor=False)
    st.markdown(
        "Small CNNs that train in seconds on drawn shapes and letters. Are they translation-invariant because "
        "of their **architecture**, or because of their **training**? Build one, choose where its training "
        "objects may appear, and test it everywhere."
    )
    st.session_state.setdefault("lab_model", None)
    st.session_state.setdefault("lab_experiment", {})
    exports = experiment_panel()
    st.divider()
    exports |= build_panel()
    if exports:
        export_button(exports, "shift-lab_cnn-lab")


SHIPPED_PRESETS = {"a": "scratch", "b": "transferred", "c": "fine_tuned"}  # preset -> shipped model file
# What each preset shows, in one sentence; the numbers under each map say how far this run bears it out.
PRESET_LESSONS = {
    "a": "Trained from scratch with every object at the red square: there it is right; elsewhere it mostly "
    "guesses. The architecture alone does not make it invariant.",
    "b": "First trained on other shapes all over the canvas, then only its last layer taught the new shapes at "
    "the red square: it recognises them far away too. Invariance was learnt, and it carries over to new objects.",
    "c": "The same start as (b), but the whole network learns the new shapes at the red square: the invariance "
    "it had learnt wears away.",
}


@st.cache_resource(show_spinner=False)
def shipped_pretrained() -> SmallCNN | str:
    """The shipped teaching model trained on other shapes over the whole canvas (shared, never changed:
    the presets copy it), or why it cannot be loaded."""
    try:
        return load_teaching_model("pretrained")
    except ModelFileError as error:
        return f"The shipped teaching model could not be loaded ({error}). Reinstall the app's assets folder."


@st.cache_resource(show_spinner="Testing the shipped teaching models at every position…")
def shipped_results() -> dict[str, LabResult] | str:
    """The presets' results with the shipped models that `scripts/train_teaching_models.py` made from
    the same recipes: shown at once, with no training (shared read-only); or why they cannot be loaded."""
    results = {}
    for name, file_name in SHIPPED_PRESETS.items():
        try:
            model = load_teaching_model(file_name)
        except ModelFileError as error:
            return f"The shipped model of preset ({name}) could not be loaded ({error}). Train all three instead."
        recipe = PRESETS[name]
        results[name] = LabResult(recipe, model, *evaluate(model, recipe.classes), stopped=False, seconds=math.nan)
    return results


def experiment_panel() -> Exports:
    """The three presets as accuracy maps side by side: the shipped models, or the user's own run."""
    st.subheader("Is invariance built in, or learnt? (Biscione & Bowers 2021)", anchor=False)
    st.markdown(
        "A small VGG-like CNN (max pooling, zero padding, a flatten + fully-connected head) is taught ten shapes "
        "and letters with every training object at **one location**, then tested with the objects at every "
        "position. The maps show its accuracy with the object centred at each point (bright = always right, "
        "dark = always wrong; chance is 10%); the red square is the training location."
    )
    pretrained = shipped_pretrained()
    if isinstance(pretrained, str):
        st.error(pretrained, icon=":material/error:")
        return {}
    own: dict[str, LabResult] = st.session_state.lab_experiment
    if st.button("Train all three again, here (about a minute)", key="lab_run_experiment"):
        own.clear()
        bar = st.progress(0.0)
        for name, recipe in PRESETS.items():
            label = f"Training {recipe.title}…"
            own[name] = run_preset(
                name, pretrained, on_progress=lambda p, label=label: bar.progress(p.step / p.total_steps, label)
            )
        bar.empty()
    results = own if own else shipped_results()
    if isinstance(results, str):
        st.warning(results, icon=":material/warning:")
        return {}
    st.caption("Your own run, just now." if own else "The shipped models, trained with the same recipes.")
    x, y = trained_location()
    for column, (name, result) in zip(st.columns(len(PRESETS)), results.items(), strict=False):
        image = accuracy_map_image(result.accuracy, (x, y, x, y))
        column.markdown(f"**{result.recipe.title}**")
        column.html(f'<img class="score-map" src="{png_data_url(image)}" alt="accuracy at each position">')
        timing = "" if math.isnan(result.seconds) else f"; trained in {result.seconds:.0f} s"
        column.markdown(
            f"Accuracy **{result.at_location:.0%}** at the training location, **{result.far_from_location:.0%}** "
            f"at least {FAR:.0f} px from it{timing}."
        )
        column.caption(PRESET_LESSONS[name])
    how_to_read("accuracy_maps")
    maps = {result.recipe.title: (result.accuracy, (x, y, x, y)) for result in results.values()}
    summary = [(r.recipe.title, f"{r.at_location:.4f}", f"{r.far_from_location:.4f}") for r in results.values()]
    return {
        "experiment_summary.csv": lambda: csv_bytes(
            ["preset", "accuracy_at_location", f"accuracy_far_{FAR:.1f}px"], summary
        ),
        "experiment_accuracy.csv": lambda: accuracy_csv(maps),
        "experiment_accuracy.png": lambda: accuracy_maps_png(maps, LAB_CONFIG.canvas),
    }


def architecture_ui() -> SmallCNNConfig | None:
    """The architecture controls; None, with the reason shown, when the choice cannot be built."""
    left, middle, right = st.columns(3)
    depth = left.slider("Blocks (conv → ReLU → downsampling)", 1, 6, 3, key="lab_depth")
    width = left.select_slider("Channels per block", (4, 8, 16, 32, 64), 16, key="lab_width")
    downsample = middle.selectbox("Downsampling", DOWNSAMPLES, format_func=DOWNSAMPLE_NAMES.get, key="lab_downsample")
    blur_size = middle.slider(
        "Blur filter size", 1, 5, 3, key="lab_blur", disabled=downsample != "blur", help="1 = no blur at all"
    )
    padding = middle.selectbox("Padding", PADDINGS, key="lab_padding")
    head = right.selectbox("Head", HEADS, format_func=HEAD_NAMES.get, key="lab_head")
    canvas = right.selectbox("Canvas (pixels)", CANVASES, index=1, key="lab_canvas")
    try:
        config = SmallCNNConfig(
            depth, width, downsample, blur_size, padding, head, classes=len(LAB_CLASSES), canvas=canvas
        )
    except ValueError as error:
        st.error(f"This network cannot be built: {error}.", icon=":material/block:")
        return None
    parameters = sum(p.numel() for p in build_small_cnn(config).parameters())
    st.caption(
        f"Receptive field of the last block: **{receptive_field(config)} px** of the {canvas}-px canvas; "
        f"cumulative stride **{cumulative_stride(config)}**; last maps {feature_size(config)}×{feature_size(config)} "
        f"cells; {parameters:,} weights."
    )
    return config


def build_panel() -> Exports:
    """Build a CNN, train it on objects from one region, and test it at every position."""
    st.subheader("Build and train your own", anchor=False)
    config = architecture_ui()
    if config is None:
        return {}
    left, middle, right = st.columns(3)
    region = left.selectbox("Training objects appear at", tuple(REGIONS), key="lab_region")
    per_class = middle.slider("Training objects per class", 20, MAX_PER_CLASS, 100, step=20, key="lab_per_class")
    epochs = right.slider("Epochs", 1, MAX_EPOCHS, 5, key="lab_epochs")
    seed = left.number_input("Seed", 0, 9999, 0, key="lab_seed", help="Same seed, same data, same network.")
    if st.button("Train", key="lab_train", type="primary", icon=":material/play_arrow:"):
        train_in_session(config, region, per_class, epochs, seed)
    lab = st.session_state.lab_model
    exports = trained_panel(lab) if lab is not None else {}
    upload_panel(config)
    return exports


def train_in_session(config: SmallCNNConfig, region: str, per_class: int, epochs: int, seed: int) -> None:
    """Train a new model with a progress bar and live curves. It is kept in the session from the
    start, so clicking anything (which stops this run) keeps the part trained so far."""
    with st.spinner("Drawing the training objects…"):
        data = make_dataset(LAB_CLASSES, per_class, REGIONS[region], config.canvas, seed)
    lab = LabModel(build_small_cnn(config, seed), region)
    st.session_state.lab_model = lab
    bar, chart, stop = st.progress(0.0, "Training…"), st.empty(), st.empty()
    with stop.container():
        st.caption("Click anywhere (for example on Stop) to stop; the model keeps what it has learnt so far.")
        st.button("Stop", key="lab_stop", icon=":material/stop:")

    def on_progress(progress: Progress) -> None:
        lab.history.append(progress)
        bar.progress(progress.step / progress.total_steps, f"Epoch {progress.epoch}, loss {progress.loss:.3f}")
        if progress.step % 5 == 0 or progress.step == progress.total_steps:
            chart.line_chart(curves(lab.history), height=200)

    train(lab.model, data.images, data.labels, TrainSettings(epochs=epochs, seed=seed), on_progress)
    lab.finished = True
    for placeholder in (bar, chart, stop):  # training is over: no progress, and nothing left to stop
        placeholder.empty()


def curves(history: list[Progress]) -> dict[str, list[float]]:
    """Loss and accuracy per step, each smoothed over the last 10 steps (batches are noisy)."""

    def smooth(values: list[float]) -> list[float]:
        return [sum(values[max(0, i - 9) : i + 1]) / len(values[max(0, i - 9) : i + 1]) for i in range(len(values))]

    return {"loss": smooth([p.loss for p in history]), "accuracy": smooth([p.accuracy for p in history])}


def trained_panel(lab: LabModel) -> Exports:
    """The model trained in this session: its curves, its accuracy everywhere, and a download."""
    config = lab.model.config
    st.markdown(f"**Your model** ({lab.status}; {lab.origin}).")
    if lab.history:
        st.line_chart(curves(lab.history), height=200, x_label="step")
        how_to_read("training")
    if lab.accuracy is None:
        lab.accuracy = test_everywhere(lab.model)
    left, right = st.columns([1, 2])
    box = region_box(REGIONS[lab.region], config.canvas) if lab.region else None
    image = accuracy_map_image(lab.accuracy, box)
    left.html(f'<img class="score-map" src="{png_data_url(image)}" alt="accuracy at each position">')
    right.markdown(
        "**Accuracy at each position** of the object's centre (bright = right every time, dark = never; chance "
        f"is {1 / len(LAB_CLASSES):.0%}). The red box is where the training objects were. A network that has "
        "learnt to ignore position is bright everywhere."
    )
    if lab.consistency is None:
        with st.spinner("Showing new objects at random pairs of places…"):
            lab.consistency = lab_shift_consistency(lab.model.eval(), LAB_CLASSES, config.canvas)
    consistency = lab.consistency
    right.markdown(
        f"**Shift consistency:** {consistency.agree:.0%} of {consistency.pairs} new objects, each shown at two "
        "random places anywhere on the canvas, get the same top class at both (Zhang 2019); "
        f"{consistency.accuracy:.0%} of those scenes are classified right. Read the two together: a network "
        "that always answers the same class is 100% consistent."
    )
    right.download_button(
        "Download the weights (state_dict, .pt)",
        data=lambda: state_dict_bytes(lab.model),
        file_name=f"shift-lab_cnn_{config.depth}x{config.width}_{config.downsample}_{config.padding}_"
        f"{config.head}_{config.canvas}px.pt",
        on_click="ignore",
        key="lab_download",
        icon=":material/download:",
    )
    right.caption(
        "It is also in the drag view's *Architecture* list, as *Your CNN lab model*: drag a shape in front of it."
    )
    maps = {"Your model": (lab.accuracy, box)}
    history = [(p.step, p.epoch, f"{p.loss:.6f}", f"{p.accuracy:.4f}") for p in lab.history]
    return {
        "your_model_accuracy.csv": lambda: accuracy_csv(maps),
        "your_model_accuracy.png": lambda: accuracy_maps_png(maps, config.canvas),
        "your_model_training.csv": lambda: csv_bytes(["step", "epoch", "batch_loss", "batch_accuracy"], history),
        "your_model_shift_consistency.csv": lambda: csv_bytes(
            ["pairs", "shift_consistency", "accuracy"],
            [(consistency.pairs, f"{consistency.agree:.4f}", f"{consistency.accuracy:.4f}")],
        ),
    }


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
    bar = st.progress(0.0, "Testing at every position…")
    accuracy, _, _ = evaluate(model, LAB_CLASSES, lambda f: bar.progress(f, "Testing at every position…"))
    bar.empty()
    return accuracy


def state_dict_bytes(model: SmallCNN) -> bytes:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def upload_panel(config: SmallCNNConfig) -> None:
    """Load weights saved from this app into the architecture chosen above."""
    st.file_uploader(
        "Load saved weights into the architecture above (.pt)",
        type=["pt"],
        key="lab_upload",
        on_change=take_weights,
        args=(config,),
        help="Choose the same architecture and canvas as when the weights were saved.",
    )
    if error := st.session_state.get("lab_upload_error"):
        st.error(error, icon=":material/error:")


def take_weights(config: SmallCNNConfig) -> None:
    """When a file arrives: load it into a new model of this architecture, which becomes the
    session's model; if it does not fit, say why and keep the model the session has."""
    upload = st.session_state.lab_upload
    if upload is None:  # the file was removed from the uploader: the model stays
        return
    model = build_small_cnn(config)
    try:
        load_weights(model, io.BytesIO(upload.getvalue()))
    except ModelFileError as error:
        st.session_state.lab_upload_error = f"{upload.name} was not loaded, and your model is unchanged: {error}"
        return
    st.session_state.lab_upload_error = None
    st.session_state.lab_model = LabModel(model.eval(), region=None, finished=True)
