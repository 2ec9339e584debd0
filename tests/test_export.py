"""The downloads: CSV and PNG files made on click, zipped together."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from itertools import combinations

import numpy as np
import pytest
import torch
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from locales import LANGUAGE, _
from models.location_task import LocationResult
from probes import ScoreMap
from probes.accuracy_map import AccuracyMap
from probes.position_readout import LayerReadout, PositionReadout
from ui import export, location_lab, position_view
from ui.export import (
    accuracy_maps_png,
    csv_bytes,
    feature_maps_png,
    line_chart_png,
    png_bytes,
    profiles_png,
    score_maps_png,
    shift_chart_png,
    zip_bytes,
)
from ui.figures import heatmap_image
from ui.position_view import readout_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    return Image.open(io.BytesIO(data)).size


def test_csv_holds_the_header_and_rows_as_given():
    data = csv_bytes(["x", "name"], [(1, "Egyptian cat"), (2, 'a "quoted", name')])
    assert list(csv.reader(io.StringIO(data.decode()))) == [
        ["x", "name"],
        ["1", "Egyptian cat"],
        ["2", 'a "quoted", name'],
    ]


def test_zip_holds_every_file_made_once():
    calls = []

    def make(text: str):
        return lambda: calls.append(text) or text.encode()

    archive = zipfile.ZipFile(io.BytesIO(zip_bytes({"a.csv": make("a"), "b.png": make("b")})))
    assert archive.namelist() == ["a.csv", "b.png"]
    assert archive.read("b.png") == b"b"
    assert calls == ["a", "b"]


def test_line_chart_is_a_png_and_leaves_gaps_for_missing_values():
    data = line_chart_png({"Pretrained: cat": [0.2, None, 0.9], "Scratch": [0.0, 0.1, 0.0]}, range(3), "x", "p", "t")
    width, height = png_size(data)
    assert width > 600 and height > 200


def test_shift_chart_draws_even_a_series_without_points():
    points = {"horizontal": {"Pretrained": [(0.0, 0), (4.0, 4)], "Scratch": []}, "vertical": {"Pretrained": []}}
    width, height = png_size(shift_chart_png(points, "Shift of features.6.add"))
    assert width > height  # two panels side by side


def test_score_maps_draw_one_panel_per_model():
    scores = ScoreMap((16, 48, 80), torch.rand(3, 3), torch.rand(3, 3) > 0.5)
    one = png_size(score_maps_png({"Pretrained": scores}, 96, (48, 48)))
    two = png_size(score_maps_png({"Pretrained": scores, "Scratch": scores}, 96, (48, 48)))
    assert two[0] > 1.5 * one[0]


def test_live_and_exported_pictures_use_one_colour_table():
    # the live table came from plotly's viridis and differed from matplotlib's, used for exports, by up to 16/255
    values = torch.linspace(0, 1, 256).view(16, 16)  # (16, 16)
    live = np.asarray(heatmap_image(values, size=16)).reshape(-1, 3).astype(int)  # (256, 3)
    exported = (colormaps["viridis"](values.flatten().numpy())[:, :3] * 255).round().astype(int)  # (256, 3)
    assert np.abs(live - exported).max() <= 1  # rounding of the 256 levels only


def test_a_chinese_figure_has_every_glyph(recwarn):
    token = LANGUAGE.set("zh")
    try:
        png = line_chart_png(
            {"模型": [0.5, 0.6]}, range(2), _("step of the dragged path"), _("probability"), "沿拖动路径"
        )
    finally:
        LANGUAGE.reset(token)
    assert png.startswith(b"\x89PNG")
    assert not [str(w.message) for w in recwarn if "missing from font" in str(w.message)]


def drawn_figures(monkeypatch, make: Callable[[], bytes]) -> list[Figure]:
    """The matplotlib figures `make` saves as PNG (ui.export.png_bytes, wherever it is imported), drawn."""
    figures = []

    def keep(image):
        figures.append(image)
        return png_bytes(image)

    for module in (export, location_lab, position_view):
        monkeypatch.setattr(module, "png_bytes", keep)
    make()
    for figure in figures:
        FigureCanvasAgg(figure).draw()
    return figures


def shown_texts(figure: Figure) -> list[Text]:
    """The texts a drawn figure shows: titles, axis labels, the tick labels inside each axis's limits (matplotlib
    makes some outside them, not drawn), legend entries and free texts."""
    texts = list(figure.texts)
    for axes in figure.axes:
        texts += [axes.title, axes._left_title, axes._right_title, axes.xaxis.label, axes.yaxis.label, *axes.texts]
        for axis, limits in ((axes.xaxis, axes.get_xlim()), (axes.yaxis, axes.get_ylim())):
            low, high = sorted(limits)
            ticks = zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=False)
            texts += [label for location, label in ticks if low - 1e-9 <= location <= high + 1e-9]
        if legend := axes.get_legend():
            texts += legend.get_texts()
    return [text for text in texts if text.get_visible() and text.get_text().strip()]


def overlapping_texts(figure: Figure) -> list[tuple[str, str]]:
    """Every pair of shown texts whose boxes overlap."""
    renderer = figure.canvas.get_renderer()
    boxes = [(text.get_text(), text.get_window_extent(renderer)) for text in shown_texts(figure)]
    return [(a, b) for (a, box_a), (b, box_b) in combinations(boxes, 2) if box_a.overlaps(box_b)]


def sample_readout(layers: int) -> PositionReadout:
    fit = LayerReadout(
        channels=32, ridge=1.0, error_px=12.0, baseline_px=40.0, r2=(0.8, 0.7), predicted=torch.zeros(4, 2)
    )
    return PositionReadout(torch.zeros(8, 2), 4, {f"features.{i}.add": fit for i in range(layers)})


EXPORTED = {
    "path": lambda: line_chart_png(
        {"ImageNet-pretrained: Egyptian cat": [0.5, 0.6, 0.4], "Scratch twin: rocking chair": [0.01, 0.0, 0.0]},
        [0.0, 10.0, 20.0],
        "pixels moved along the path",
        "probability",
        "Along the dragged path",
    ),
    "sweep": lambda: line_chart_png(
        {"ImageNet-pretrained: Egyptian cat": list(np.linspace(0, 1, 224)), "Scratch twin: tabby": [0.1] * 224},
        range(224),
        "object centre x (px)",
        "probability",
        "One-pixel sweep at y = 112",
        112,
        [[30, 90, 180], [5, 6, 7]],
    ),
    "shift": lambda: shift_chart_png(
        {
            "horizontal shift of features.6.add (cells)": {"ImageNet-pretrained": [(0.0, 0.0), (4.0, 3.9)]},
            "vertical shift of features.6.add (cells)": {"ImageNet-pretrained": [(0.0, 0.0)]},
        },
        "How far the maps of features.6.add moved",
    ),
    "score maps": lambda: score_maps_png(
        {
            "ImageNet-pretrained: Egyptian cat": ScoreMap(
                tuple(range(16, 224, 32)), torch.rand(7, 7), torch.rand(7, 7) > 0.5
            ),
            "Scratch twin: rocking chair": ScoreMap(
                tuple(range(16, 224, 32)), torch.rand(7, 7), torch.rand(7, 7) > 0.5
            ),
        },
        224,
        (112, 112),
    ),
    "accuracy maps": lambda: accuracy_maps_png(
        {
            "(a) Max pooling": (AccuracyMap((8, 24, 40, 56), torch.rand(4, 4)), (20, 20, 40, 40)),
            "(b) Blur pooling": (AccuracyMap((8, 24, 40, 56), torch.rand(4, 4)), None),
        },
        64,
    ),
    "feature maps": lambda: feature_maps_png(
        torch.randn(16, 14, 14),
        list(range(16)),
        (-1.0, 2.5),
        "ImageNet-pretrained: features.6.add, object at x = 112, y = 112",
    ),
    "profiles": lambda: profiles_png(
        {
            layer: {
                measure: {
                    "ImageNet-pretrained": ([0.9, 0.8], [0.8, 0.7], [1.0, 0.9], 0.5),
                    "Scratch twin": ([0.99] * 2, [0.98] * 2, [1.0] * 2, None),
                }
                for measure in ("pooled similarity", "equivariance error")
            }
            for layer in ("features.3", "features.6.add", "features.13.add")
        },
        [0, 40],
        "Layer profiles (MobileNetV2)",
    ),
    "location task": lambda: location_lab.location_png(
        {p: LocationResult(p, None, 0.95, 0.9, 12.0, False) for p in ("zeros", "circular", "reflect")},
        {p: sample_readout(4) for p in ("zeros", "circular", "reflect")},
    ),
    "position read-out": lambda: readout_png(
        {"ImageNet-pretrained": sample_readout(8), "Scratch twin": sample_readout(8)}, "Where is it? (MobileNetV2)"
    ),
}


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("name", EXPORTED)
def test_no_text_of_an_exported_figure_overlaps_another(monkeypatch, name, language):
    LANGUAGE.set(language)  # German: the longest labels
    try:
        (figure,) = drawn_figures(monkeypatch, EXPORTED[name])
    finally:
        LANGUAGE.set("en")
    assert not overlapping_texts(figure), name


def test_feature_maps_export_has_a_title_axes_and_a_colour_scale(monkeypatch):
    (figure,) = drawn_figures(monkeypatch, EXPORTED["feature maps"])
    assert figure.get_suptitle().startswith("ImageNet-pretrained: features.6.add")
    maps = [axes for axes in figure.axes if axes.images and axes.get_title()]
    assert [axes.get_title() for axes in maps] == [f"channel {c}" for c in range(16)]
    scale = [axes for axes in figure.axes if axes.get_ylabel() == "activation"]  # the colour bar's own axes
    assert len(scale) == 1 and scale[0].get_ylim() == pytest.approx((-1.0, 2.5))
    assert maps[-4].get_xlabel() == "column (cell)" and maps[-4].get_ylabel() == "row (cell)"


def test_the_sweep_export_marks_the_object_and_each_flip(monkeypatch):
    (figure,) = drawn_figures(monkeypatch, EXPORTED["sweep"])
    (axes,) = [axes for axes in figure.axes if axes.get_title()]
    (now,) = [line for line in axes.lines if line.get_label() == "object now (x = 112)"]
    assert list(now.get_xdata()) == [112, 112]
    rings = [collection.get_offsets().tolist() for collection in axes.collections]
    assert [[x for x, _y in ring] for ring in rings] == [[30, 90, 180], [5, 6, 7]]
