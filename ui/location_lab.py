"""The CNN lab's *Where is it?* section: Kayhan & van Gemert's location task with each padding mode, and how well
a lab net's pooled maps, untrained, tell where a shape is (models.location_task)."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st
import torch
from matplotlib.figure import Figure
from PIL import Image

from locales import N_, _
from models.location_task import (
    LOCATION_CONFIG,
    LOCATION_SETTINGS,
    LOCATION_TASK,
    QUADRANTS,
    READOUT_CONFIG,
    READOUT_SHAPE,
    LocationResult,
    lab_readouts,
    location_data,
    location_results,
)
from probes.position_readout import PositionReadout
from ui.export import Exports, csv_bytes, png_bytes
from ui.figures import COLOUR_MAP, TRACE_COLOURS, png_data_url
from ui.notes import how_to_read
from ui.position_view import READOUT_COLUMNS, r2_text, readout_row

NOTE = "location_task"  # the topic of its "How to read" note (ui.notes)
PADDING_WORDS = {
    "zeros": N_("zeros (the usual)"),
    "reflect": N_("reflect (mirrored)"),
    "circular": N_("circular (wraps round)"),
    "valid": N_("valid (no padding)"),
}
POOLING_WORDS = {  # the downsampling of the read-out's network (READOUT_CONFIG), in words
    "max": N_("max pooling"),
    "avg": N_("average pooling"),
    "blur": N_("blur pooling"),
}
EXAMPLE_SCALE = 3  # each example canvas drawn this many times larger, cell for pixel


@st.cache_resource(show_spinner=False)  # the caller shows the spinner, in the page's language
def shipped_location() -> tuple[dict[str, LocationResult], dict[str, PositionReadout]]:
    """The location task with every padding mode, and the untrained lab net's read-out with every padding mode:
    seeded, so the same for every session; computed once per process and shared read-only."""
    return location_results(), lab_readouts()


def location_section() -> Exports:
    """The section, drawn where it is called; its files for the page's download."""
    st.subheader(
        _("Where is it? Identical patches, classed by where they are (Kayhan & van Gemert 2020)"), anchor=False
    )
    task, config = LOCATION_TASK, LOCATION_CONFIG
    st.markdown(
        _(
            "Every image is the same {patch} × {patch} patch on a black {canvas}-px canvas; its class is the "
            "**quadrant** it is in. The network ({depth} strided-convolution blocks of {width} channels) ends in a "
            "**global average pool**, so it cannot read where a response is from its maps: only what the border "
            "does to them can tell it. It is trained with each padding mode, nothing else changed ({epochs} "
            "epochs), and tested on placements it never saw. Chance is {chance}."
        ).format(
            patch=task.patch,
            canvas=task.canvas,
            depth=config.depth,
            width=config.width,
            epochs=LOCATION_SETTINGS.epochs,
            chance=f"{1 / len(QUADRANTS):.0%}",
        )
    )
    with st.spinner(_("Training the location task's four small networks (once, a few seconds)…")):
        results, readouts = shipped_location()
    left, right = st.columns([1, 2])
    left.html(f'<img class="score-map" src="{png_data_url(examples_image())}" alt="{_("one image of each class")}">')
    left.caption(
        _("One held-out image of each class ({classes}): the same patch at the same place within its quadrant.").format(
            classes=_(", ").join(_(quadrant) for quadrant in QUADRANTS)
        )
    )
    right.markdown(accuracy_table(results))
    right.caption(
        _(
            "Circular padding wraps the border round: moving the patch by half the canvas moves the network's maps "
            "by whole cells and leaves their average unchanged, so the four placements of the patch, one per "
            "quadrant, get the same answer, and at most one of them is right. Zero padding shows the border, and the "
            "network uses it."
        )
    )
    st.markdown(readout_text(readouts))
    st.markdown(readout_table(readouts))
    how_to_read(NOTE)
    return location_exports(results, readouts)


def examples_image() -> Image.Image:
    """The first held-out image of each class, side by side, each canvas enlarged EXAMPLE_SCALE times."""
    test = location_data(LOCATION_TASK)[1]
    first = [int((test.labels == k).nonzero()[0]) for k in range(len(QUADRANTS))]
    canvases = test.images[first]  # (4, 3, H, W)
    gap = torch.ones(3, canvases.shape[2], 2)  # a white gap between the canvases
    row = torch.cat([part for image in canvases for part in (image, gap)][:-1], dim=2)  # (3, H, 4W + 6)
    pixels = (row.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    image = Image.fromarray(pixels)
    return image.resize((image.width * EXAMPLE_SCALE, image.height * EXAMPLE_SCALE), Image.Resampling.NEAREST)


def accuracy_table(results: Mapping[str, LocationResult]) -> str:
    """A markdown table: each padding mode's accuracy on the held-out and on the training placements."""
    rows = [
        f"| {_(PADDING_WORDS.get(p, p))} | **{r.test_accuracy:.0%}** | {r.train_accuracy:.0%} | {r.seconds:.1f} s |"
        for p, r in results.items()
    ]
    # TRANSLATORS: a column of a table: the padding mode of each row
    header = [_("padding"), _("held-out placements"), _("training placements"), _("training time")]
    return "\n".join([f"| {' | '.join(header)} |", "|---|---|---|---|", *rows])


def readout_text(readouts: Mapping[str, PositionReadout]) -> str:
    """What the read-out table shows, in words."""
    readout = next(iter(readouts.values()))
    config = READOUT_CONFIG
    pooling = POOLING_WORDS.get(config.downsample)
    return _(
        "**Before any training:** the page's first network ({depth} blocks, {pooling}) with **random weights**, "
        "each padding mode. The drawn *{shape}* is put at {places} places on the {canvas}-px canvas; each block's "
        "maps are averaged over all positions, and a straight-line read-out of the shape's centre (ridge "
        "regression) is learnt on {train} places and tested on the other {tested}. R² = 1: it knows exactly where "
        "the shape is; R² = 0: no better than guessing the middle. This is the architecture alone: what the border "
        "does to the maps."
    ).format(
        depth=config.depth,
        pooling=_(pooling) if pooling else f"{config.downsample} pooling",
        shape=READOUT_SHAPE,
        places=len(readout.positions),
        canvas=config.canvas,
        train=readout.train,
        tested=len(readout.tested),
    )


def readout_table(readouts: Mapping[str, PositionReadout]) -> str:
    """A markdown table: one row per padding mode, each block's R² of x and y and its held-out error."""
    layers = list(next(iter(readouts.values())).layers)
    head = " | ".join(_("{layer}: R² x, y (error)").format(layer=f"`{layer}`") for layer in layers)
    rows = [
        f"| {_(PADDING_WORDS.get(padding, padding))} | "
        + " | ".join(
            f"{r2_text(r.r2[0])}, {r2_text(r.r2[1])} ({r.error_px:.0f} px)"
            for r in (readout.layers[layer] for layer in layers)
        )
        + " |"
        for padding, readout in readouts.items()
    ]
    baseline = next(iter(readouts.values())).layers[layers[0]].baseline_px
    return "\n".join(
        [
            "| " + _("padding (guessing the middle: {error} px off)").format(error=f"{baseline:.0f}") + f" | {head} |",
            "|---" * (len(layers) + 1) + "|",
            *rows,
        ]
    )


def location_exports(results: Mapping[str, LocationResult], readouts: Mapping[str, PositionReadout]) -> Exports:
    """The accuracies, the read-outs of every block and the figure, for the page's download."""
    train_set, test_set = location_data(LOCATION_TASK)
    words = figure_words()  # now, in the page's language: the download makes the figure later, outside the page's run
    return {
        "location_task.csv": lambda: csv_bytes(
            ["padding", "held_out_accuracy", "training_accuracy", "held_out_images", "training_images", "seconds"],
            [
                (
                    p,
                    f"{r.test_accuracy:.4f}",
                    f"{r.train_accuracy:.4f}",
                    len(test_set.labels),
                    len(train_set.labels),
                    f"{r.seconds:.2f}",
                )
                for p, r in results.items()
            ],
        ),
        "location_readout.csv": lambda: csv_bytes(
            ["padding", *READOUT_COLUMNS],
            [(p, *readout_row(layer, r)) for p, readout in readouts.items() for layer, r in readout.layers.items()],
        ),
        "location_task.png": lambda: location_png(results, readouts, words),
    }


def figure_words() -> dict[str, str]:
    """The words of the figure (location_png), in the page's language."""
    return {
        # TRANSLATORS: the dashed line of a chart: the accuracy of guessing at random
        "chance": _("chance"),
        "accuracy": _("accuracy, held-out placements"),
        "accuracy_title": _("Location task: which quadrant?"),
        "fits": _("R² of the read-out (mean of x and y)"),
        "fits_title": _("Untrained lab net: where is the shape?"),
        "blocks": _("block (shallow → deep)"),
    }


def location_png(
    results: Mapping[str, LocationResult],
    readouts: Mapping[str, PositionReadout],
    words: Mapping[str, str] | None = None,
) -> bytes:
    """Left: each padding mode's held-out accuracy on the location task, chance dashed. Right: the untrained lab
    net's read-out R² (mean of x and y) at each block, one line per padding mode. `words`: figure_words(), by
    default in the language of the page running this."""
    words = words if words is not None else figure_words()
    figure = Figure(figsize=(11, 4), layout="constrained")
    accuracy, fits = figure.subplots(1, 2)
    paddings = list(results)
    accuracy.bar(paddings, [results[p].test_accuracy for p in paddings], color=TRACE_COLOURS[0])
    accuracy.axhline(1 / len(QUADRANTS), color="grey", linestyle="--", label=words["chance"])
    accuracy.set(ylim=(0, 1.05), ylabel=words["accuracy"], title=words["accuracy_title"])
    accuracy.legend(loc="upper right")
    for index, (padding, readout) in enumerate(readouts.items()):
        colour = COLOUR_MAP(0.9 * index / max(len(readouts) - 1, 1))  # viridis, dark to light
        values = [sum(r.r2) / 2 for r in readout.layers.values()]
        fits.plot(list(readout.layers), values, marker="osD^v"[index % 5], color=colour, label=padding)
    fits.axhline(0, color="grey", linewidth=1)
    fits.set(ylabel=words["fits"], title=words["fits_title"])
    fits.set_xlabel(words["blocks"])
    fits.legend(loc="upper left")
    for axes in (accuracy, fits):
        axes.grid(alpha=0.3)
    return png_bytes(figure)
