"""Downloads: the data behind the plots as CSV files and the figures as PNG files, in one ZIP.

Each panel describes its files as `Exports` (file name -> a function that makes the contents);
nothing is made until the user clicks the button, so the drag stays fast. The printable figures
are drawn with matplotlib's object API (no pyplot: its global state would be shared between
sessions) and carry axis labels and titles, unlike the lean live pictures.

Streamlit makes the files in a thread of its own, outside the page's run, so the button carries the page's
language there: the figures are labelled in the language of the page the download was clicked on.
"""

from __future__ import annotations

import contextvars
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence

import streamlit as st
import torch
from matplotlib import font_manager, rcParams
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from PIL import Image

from locales import LANGUAGE, _, ngettext
from probes import ScoreMap
from probes.accuracy_map import AccuracyMap
from ui.figures import COLOUR_MAP, NOW_COLOUR, TILES_PER_ROW, TRACE_COLOURS

# Chinese titles need a font with CJK glyphs: matplotlib falls back, glyph by glyph, along font.family, so the CJK
# fonts this machine has follow its own DejaVu Sans (`make test` installs WenQuanYi Micro Hei; README, Languages).
CJK_FILES = re.compile(r"wqy|NotoSansCJK|NotoSerifCJK|SourceHanSans|msyh|PingFang", re.IGNORECASE)


def cjk_fonts() -> list[str]:
    """The families of the CJK fonts installed, added to matplotlib's list if its cache predates them."""
    for path in font_manager.findSystemFonts():
        if CJK_FILES.search(path) and path not in {font.fname for font in font_manager.fontManager.ttflist}:
            font_manager.fontManager.addfont(path)
    found = font_manager.fontManager.ttflist
    return sorted({font.name for font in found if CJK_FILES.search(font.fname) and "Mono" not in font.name})


rcParams["font.family"] = ["DejaVu Sans", *cjk_fonts()]  # once for the process, the same for every session

Exports = dict[str, Callable[[], bytes]]
# Accuracy maps by title, each with its training region (x_min, y_min, x_max, y_max of the object centres), if known.
AccuracyMaps = dict[str, tuple[AccuracyMap, tuple[int, int, int, int] | None]]


def export_button(files: Exports, name: str) -> None:
    """One button that downloads every file in `files` as `<name>.zip`, made on click."""
    language = LANGUAGE.get()  # this run's: the files are made later, in a thread of Streamlit's own

    def in_language() -> bytes:
        context = contextvars.copy_context()
        context.run(LANGUAGE.set, language)
        return context.run(zip_bytes, files)

    st.download_button(
        ngettext(
            "Download data (CSV) and figures (PNG): {n} file",
            "Download data (CSV) and figures (PNG): {n} files",
            len(files),
        ).format(n=len(files)),
        data=in_language,
        file_name=f"{name}.zip",
        mime="application/zip",
        on_click="ignore",
        key="export",
        icon=":material/download:",
    )


def zip_bytes(files: Exports) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file_name, make in files.items():
            archive.writestr(file_name, make())
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def png_bytes(image: Image.Image | Figure) -> bytes:
    buffer = io.BytesIO()
    if isinstance(image, Figure):
        image.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def line_chart_png(
    traces: dict[str, list[float | None]],
    xs: Sequence[float],
    x_label: str,
    y_label: str,
    title: str,
    now: float | None = None,
    dots: Sequence[Sequence[float]] = (),
) -> bytes:
    """Each trace against xs, y from 0 to 1 (None leaves a gap), as ui.figures.line_svg draws it live: a dashed
    line at `now` (where the object is) and, for trace i, a ring at each x of dots[i] (where its class changed)."""
    figure = Figure(figsize=(9, 3.4), layout="constrained")
    axes = figure.add_subplot()
    if now is not None:
        now_label = _("object now (x = {x})").format(x=now)
        axes.axvline(now, color=NOW_COLOUR, linestyle="--", linewidth=1.2, label=now_label)
    for i, ((label, values), colour) in enumerate(zip(traces.items(), TRACE_COLOURS, strict=False)):
        ys = [float("nan") if v is None else v for v in values]
        axes.plot(xs, ys, label=label, color=colour, linewidth=1.8)
        at = dict(zip(xs, ys, strict=True))
        if changed := [x for x in (dots[i] if i < len(dots) else ()) if x in at]:
            axes.scatter(changed, [at[x] for x in changed], s=22, facecolors="white", edgecolors=colour, zorder=3)
    axes.set(xlabel=x_label, ylabel=y_label, title=title, ylim=(0, 1))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize="small")
    return png_bytes(figure)


def feature_maps_png(
    maps: torch.Tensor, channels: Sequence[int], value_range: tuple[float, float], title: str
) -> bytes:
    """The shown maps (k, H, W), one small chart per channel with its cells as axes, on the live view's one colour
    scale (value_range), with that scale beside them."""
    columns = min(TILES_PER_ROW, len(channels))
    rows = -(-len(channels) // columns)
    figure = Figure(figsize=(2.3 * columns + 1.2, 2.3 * rows + 0.7), layout="constrained")
    figure.suptitle(title)
    grid = figure.subplots(rows, columns, squeeze=False)
    for axes in grid.flat[len(channels) :]:
        axes.set_axis_off()
    for axes, channel, values in zip(grid.flat, channels, maps.float().numpy(), strict=False):
        shown = axes.imshow(values, cmap=COLOUR_MAP, vmin=value_range[0], vmax=value_range[1], interpolation="nearest")
        axes.set_title(_("channel {channel}").format(channel=channel), fontsize="small")
        axes.tick_params(labelsize="x-small")
        axes.xaxis.set_major_locator(MaxNLocator(5, integer=True))  # whole cells
        axes.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    grid[-1][0].set(xlabel=_("column (cell)"), ylabel=_("row (cell)"))
    figure.colorbar(shown, ax=grid, label=_("activation"), shrink=0.8)
    return png_bytes(figure)


def shift_chart_png(points_by_axis: dict[str, dict[str, list[tuple[float, float]]]], title: str) -> bytes:
    """One scatter per axis of (expected, measured) shifts per series, with the line y = x."""
    figure = Figure(figsize=(4.2 * len(points_by_axis), 4.4))
    figure.suptitle(title)
    for axes, (axis_name, series) in zip(figure.subplots(1, len(points_by_axis)), points_by_axis.items(), strict=True):
        values = [abs(v) for points in series.values() for point in points for v in point]
        limit = max([1.0, *values]) * 1.1
        axes.plot([-limit, limit], [-limit, limit], "--", color="grey", label=_("y = x: perfectly equivariant"))
        for (label, points), colour in zip(series.items(), TRACE_COLOURS, strict=False):
            if points:
                axes.scatter(*zip(*points, strict=True), color=colour, alpha=0.75, label=label)
        axes.set(xlabel=_("expected shift Δ/s (cells)"), ylabel=_("measured shift (cells)"), title=axis_name)
        axes.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal")
        axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    return png_bytes(figure)


def score_maps_png(maps: dict[str, ScoreMap], canvas: int, position: tuple[int, int]) -> bytes:
    """Each map over the canvas, with crosses where the class is no longer first and a ring at the
    object's position."""
    figure = Figure(figsize=(4.6 * len(maps), 4.2), layout="constrained")
    for axes, (label, scores) in zip(figure.subplots(1, len(maps), squeeze=False)[0], maps.items(), strict=True):
        positions = _grid_image(axes, scores.probability, scores.positions, canvas, label, _("probability"))
        rows, cols = (~scores.top1_kept).nonzero(as_tuple=True)
        axes.scatter([positions[j] for j in cols], [positions[i] for i in rows], marker="x", color="black", s=12)
        axes.scatter(*position, s=160, facecolors="none", edgecolors="white", linewidths=2)
    return png_bytes(figure)


def accuracy_maps_png(maps: AccuracyMaps, canvas: int) -> bytes:
    """Each accuracy map over the canvas, with its training region, when known, outlined in red."""
    figure = Figure(figsize=(4.6 * len(maps), 4.2), layout="constrained")
    for axes, (label, (accuracy, box)) in zip(
        figure.subplots(1, len(maps), squeeze=False)[0], maps.items(), strict=True
    ):
        _grid_image(axes, accuracy.accuracy, accuracy.positions, canvas, label, _("accuracy"))
        if box is not None:
            x_min, y_min, x_max, y_max = box
            axes.add_patch(
                Rectangle((x_min - 2, y_min - 2), x_max - x_min + 4, y_max - y_min + 4, fill=False, color="red")
            )
    return png_bytes(figure)


def _grid_image(
    axes: Axes, values: torch.Tensor, positions: Sequence[int], canvas: int, title: str, value_label: str
) -> Sequence[int]:
    """values (N, N) in [0, 1] at the grid of object centres positions x positions, in viridis over
    the canvas's pixel coordinates, with a colour bar; returns the positions."""
    half = (positions[1] - positions[0]) / 2 if len(positions) > 1 else canvas / 2
    extent = (positions[0] - half, positions[-1] + half, positions[-1] + half, positions[0] - half)
    shown = axes.imshow(values.numpy(), cmap=COLOUR_MAP, vmin=0, vmax=1, extent=extent)
    axes.set(title=title, xlabel=_("object centre x (px)"), ylabel=_("object centre y (px)"))
    axes.figure.colorbar(shown, ax=axes, label=value_label, shrink=0.85)
    return positions


def profiles_png(
    curves: dict[str, dict[str, dict[str, tuple[list[float], list[float], list[float], float | None]]]],
    xs: list[int],
    title: str,
) -> bytes:
    """A grid of charts, one row per layer and one column per measure: curves[layer][measure][model] =
    (mean, low, high, baseline or None) at each distance in xs; each model's mean, its spread as a band and its
    baseline dashed."""
    layers = list(curves)
    measures = list(next(iter(curves.values())))
    figure = Figure(figsize=(3.6 * len(measures), 2.4 * len(layers) + 0.6), layout="constrained")
    figure.suptitle(title)
    grid = figure.subplots(len(layers), len(measures), squeeze=False)
    for row, layer in zip(grid, layers, strict=True):
        for axes, measure in zip(row, measures, strict=True):
            for (model, (mean, low, high, baseline)), colour in zip(
                curves[layer][measure].items(), TRACE_COLOURS, strict=False
            ):
                axes.plot(xs, mean, color=colour, label=model)
                axes.fill_between(xs, low, high, color=colour, alpha=0.2)
                if baseline is not None:
                    axes.axhline(baseline, color=colour, linestyle="--", linewidth=1)
            axes.set(title=f"{layer}: {measure}", xlabel=_("distance moved (px)"))
            axes.grid(alpha=0.3)
    grid[0][0].legend(loc="lower left", fontsize="small")
    return png_bytes(figure)
