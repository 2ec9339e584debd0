"""The downloads: CSV and PNG files made on click, zipped together."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image

from locales import LANGUAGE, _
from probes import ScoreMap
from ui.export import csv_bytes, line_chart_png, score_maps_png, shift_chart_png, zip_bytes
from ui.figures import heatmap_image

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
