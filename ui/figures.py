"""Pictures and plots for the live view: feature-map mosaics, top-5 bars, the path chart.

All are redrawn on every drag event, so they are made as cheap for the browser as possible:
feature maps as one image, bars and lines as plain HTML and SVG (a plotly chart cost over
100 ms of browser time per redraw on these machines, measured).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from functools import cache
from html import escape
from itertools import count

import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image, ImageDraw

from locales import _
from probes import ScoreMap
from probes.accuracy_map import AccuracyMap

COLOUR_MAP = colormaps["viridis"].resampled(256)  # perceptually uniform and colour-blind safe; also for exports
TILE_PX = 96
GAP_PX = 4
TILES_PER_ROW = 4
TRACE_COLOURS = ("#440154", "#21918c")  # ends of viridis: colour-blind safe
NOW_COLOUR = "#d62728"  # the object's position now on a chart: not a viridis colour
NOW_LINE = f'stroke="{NOW_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3"'


@cache
def _lookup_table() -> np.ndarray:
    """(256, 3) uint8 colours of COLOUR_MAP, dark to bright (read-only): the live pictures' colours, the same
    table the exported figures draw with."""
    table = (COLOUR_MAP(np.arange(256))[:, :3] * 255).round().astype(np.uint8)
    table.flags.writeable = False
    return table


LEVELS = 255  # a mosaic's colour levels, palette indices 0–254, dark to bright; index 255 is the white of the gaps
GAP = LEVELS


@cache
def _palette() -> bytes:
    """The mosaic's palette: LEVELS colours of the lookup table from end to end, then white."""
    return _lookup_table()[np.linspace(0, 255, LEVELS).round().astype(int)].tobytes() + bytes((255, 255, 255))


def png_data_url(image: Image.Image) -> str:
    """The image as a PNG data URL: it travels inside the page update, with no extra request.
    Fastest compression: for a feature mosaic 2 ms instead of 6 ms, for about the same size (measured)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def feature_mosaic(fmap: torch.Tensor, channels: list[int], value_range: tuple[float, float]) -> Image.Image:
    """The chosen channels of fmap (C, H, W) as coloured tiles on one shared colour scale.

    Each cell of a map becomes a square block of pixels (no smoothing), so a one-cell shift is
    visible as exactly that. Values outside value_range are clipped to its ends. A palette image
    (one byte per pixel: COLOUR_MAP in LEVELS steps, and white for the gaps): a third of an RGB
    image's bytes to build and to compress on every drag event.
    """
    low, high = value_range
    maps = fmap[channels].float()  # (k, H, W)
    levels = ((maps - low) / (high - low)).clamp(0, 1).mul(LEVELS - 1).round().to(torch.uint8).numpy()
    height, width = maps.shape[1:]
    scale = max(1, round(TILE_PX / max(height, width)))
    tiles = levels.repeat(scale, axis=1).repeat(scale, axis=2)  # (k, sH, sW) colour indices
    rows = -(-len(channels) // TILES_PER_ROW)
    tile_h, tile_w = tiles.shape[1:3]
    mosaic = np.full((rows * (tile_h + GAP_PX) - GAP_PX, TILES_PER_ROW * (tile_w + GAP_PX) - GAP_PX), GAP, np.uint8)
    for i, tile in enumerate(tiles):
        top, left = (i // TILES_PER_ROW) * (tile_h + GAP_PX), (i % TILES_PER_ROW) * (tile_w + GAP_PX)
        mosaic[top : top + tile_h, left : left + tile_w] = tile
    image = Image.fromarray(mosaic, mode="P")
    image.putpalette(_palette())
    return image


def top5_html(classes: list[tuple[str, float]]) -> str:
    """Top classes as labelled bars on a fixed 0–100% scale (HTML: cheap for the browser to redraw)."""
    rows = "".join(
        f'<div class="top5-row"><span class="top5-name">{escape(name)}</span>'
        f'<span class="top5-bar"><span style="width:{100 * p:.1f}%"></span></span>'
        f'<span class="top5-p">{p:.1%}</span></div>'
        for name, p in classes
    )
    return f'<div class="top5">{rows}</div>'


def nice_step(span: float, most: int = 8) -> int:
    """The first of 1, 2, 5, 10, 20, 50, … that cuts `span` into at most `most` steps: a chart's tick step."""
    for power in count():
        for digit in (1, 2, 5):
            if span / (step := digit * 10**power) <= most:
                return step
    raise AssertionError("unreachable")


def line_svg(
    traces: dict[str, list[float | None]],
    xs: Sequence[float],
    x_label: str,
    now: float | None = None,
    dots: Sequence[Sequence[float]] = (),
    width: int = 1100,
    height: int = 196,
) -> str:
    """Each trace's probability (0–1) at each x: an HTML legend and an SVG line chart whose x axis has ticks
    and `x_label`; `now` draws a dashed line at that x (where the object is), and dots[i] a ring on trace i
    at each of its x's (where that model's first class changed). None marks an x with no value."""
    left, right, top, bottom = 44, 12, 8, 38
    low, high = (xs[0], xs[-1]) if len(xs) > 1 else (0, 1)
    x_scale = (width - left - right) / max(high - low, 1e-9)

    def x_of(x: float) -> float:
        return left + (x - low) * x_scale

    def y_of(p: float) -> float:
        return top + (1 - p) * (height - top - bottom)

    text = 'font-family="sans-serif" font-size="12" fill="#808080"'
    parts = []
    for level in (0, 0.5, 1):
        y = y_of(level)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#8080804d"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" {text}>{level:.0%}</text>')
    step = nice_step(high - low)
    for k in range(int(low // step) + (low % step > 0), int(high // step) + 1):
        x = x_of(k * step)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_of(0)}" y2="{y_of(0) + 4}" stroke="#808080"/>')
        parts.append(f'<text x="{x:.1f}" y="{y_of(0) + 16}" text-anchor="middle" {text}>{k * step:g}</text>')
    parts.append(f'<text x="{width - right}" y="{height - 2}" text-anchor="end" {text}>{escape(x_label)}</text>')
    if now is not None:
        x = x_of(now)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{y_of(0)}" {NOW_LINE}/>')
    for i, (values, colour) in enumerate(zip(traces.values(), TRACE_COLOURS, strict=False)):
        points = " ".join(f"{x_of(x):.1f},{y_of(p):.1f}" for x, p in zip(xs, values, strict=True) if p is not None)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        at = dict(zip(xs, values, strict=True))
        for x in dots[i] if i < len(dots) else ():
            if at.get(x) is not None:
                parts.append(
                    f'<circle cx="{x_of(x):.1f}" cy="{y_of(at[x]):.1f}" r="4" fill="white" stroke="{colour}" '
                    'stroke-width="1.5"/>'
                )
    alt = _("line chart: probability of each model's first class against {axis}").format(axis=x_label)
    return f'<div class="path-chart">{legend_html(list(traces))}{svg_img(parts, width, height, alt)}</div>'


def shift_svg(points: dict[str, list[tuple[float, float]]], axis_label: str, size: int = 300) -> str:
    """A scatter of (expected, measured) shifts per series, on equal axes through 0, with the
    line y = x where measured equals expected. The newest point of each series is drawn larger.
    Series take TRACE_COLOURS in order; the caller shows their legend_html."""
    pad = 36
    values = [abs(v) for series in points.values() for point in series for v in point]
    limit = max([1.0, *values]) * 1.1
    tick = nice_step(limit, 4)

    def at(v: float) -> float:  # value -> SVG coordinate along either axis (y is flipped by the caller)
        return pad + (v + limit) / (2 * limit) * (size - 2 * pad)

    text = 'font-family="sans-serif" font-size="12" fill="#808080"'
    parts = [
        f'<line x1="{at(-limit)}" y1="{size - at(-limit)}" x2="{at(limit)}" y2="{size - at(limit)}" '
        'stroke="#808080" stroke-dasharray="5 4"/>'
    ]
    for k in range(-int(limit // tick), int(limit // tick) + 1):
        v = at(k * tick)
        stroke = "#808080" if k == 0 else "#8080804d"
        parts.append(f'<line x1="{pad}" x2="{size - pad}" y1="{size - v}" y2="{size - v}" stroke="{stroke}"/>')
        parts.append(f'<line x1="{v}" x2="{v}" y1="{pad}" y2="{size - pad}" stroke="{stroke}"/>')
        parts.append(f'<text x="{v}" y="{size - pad + 14}" text-anchor="middle" {text}>{k * tick:g}</text>')
        parts.append(f'<text x="{pad - 5}" y="{size - v + 4}" text-anchor="end" {text}>{k * tick:g}</text>')
    # TRANSLATORS: the x and y axes of the shift plot: the expected and the measured shift
    x_title, y_title = _("expected Δ/s"), _("measured")
    parts.append(f'<text x="{size / 2}" y="{size - 4}" text-anchor="middle" {text}>{escape(x_title)}</text>')
    parts.append(f'<text x="{size / 2}" y="{pad - 12}" text-anchor="middle" {text}>{escape(axis_label)}</text>')
    parts.append(
        f'<text x="12" y="{size / 2}" transform="rotate(-90 12 {size / 2})" text-anchor="middle" {text}>'
        f"{escape(y_title)}</text>"
    )
    for series, colour in zip(points.values(), TRACE_COLOURS, strict=False):
        for i, (expected, measured) in enumerate(series):
            radius = 6 if i == len(series) - 1 else 3.5
            parts.append(
                f'<circle cx="{at(expected):.1f}" cy="{size - at(measured):.1f}" r="{radius}" '
                f'fill="{colour}" fill-opacity="0.75"/>'
            )
    alt = _("scatter plot: {title}, measured against expected, with the line of perfect equivariance").format(
        title=axis_label
    )
    return f'<div class="shift-plot">{svg_img(parts, size, size, alt)}</div>'


Band = tuple[list[float], list[float], list[float]]  # a curve: (mean, low, high) at each x


def profile_svg(
    bands: dict[str, Band], baselines: dict[str, float], xs: list[int], top: float, title: str, width: int = 260
) -> str:
    """One measure of one layer against distance: per series its mean (a line) and its spread (a band),
    and, where given, its baseline (a dashed line in the same colour); y from 0 to `top`. NaN leaves a gap.
    Series take TRACE_COLOURS in order; the caller shows their legend_html."""
    height, left, right, upper, lower = 150, 34, 8, 20, 20
    x_scale = (width - left - right) / max(xs[-1] - xs[0], 1)

    def x_of(x: float) -> float:
        return left + (x - xs[0]) * x_scale

    def y_of(v: float) -> float:
        return upper + (1 - min(max(v / top, 0), 1)) * (height - upper - lower)

    text = 'font-family="sans-serif" font-size="11" fill="#808080"'
    parts = [f'<text x="{left}" y="12" {text}>{escape(title)}</text>']
    for level in (0, top / 2, top):
        y = y_of(level)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#8080804d"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4}" text-anchor="end" {text}>{level:g}</text>')
    parts.append(f'<text x="{left}" y="{height - 4}" {text}>{xs[0]} px</text>')
    parts.append(f'<text x="{width - right}" y="{height - 4}" text-anchor="end" {text}>{xs[-1]} px</text>')
    for (label, (mean, low, high)), colour in zip(bands.items(), TRACE_COLOURS, strict=False):
        kept = [i for i, v in enumerate(mean) if v == v]  # not NaN
        if not kept:
            continue
        outline = [f"{x_of(xs[i]):.1f},{y_of(high[i]):.1f}" for i in kept]
        outline += [f"{x_of(xs[i]):.1f},{y_of(low[i]):.1f}" for i in reversed(kept)]
        parts.append(f'<polygon points="{" ".join(outline)}" fill="{colour}" fill-opacity="0.18"/>')
        line = " ".join(f"{x_of(xs[i]):.1f},{y_of(mean[i]):.1f}" for i in kept)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if label in baselines:
            y = y_of(baselines[label])
            parts.append(
                f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="{colour}" stroke-dasharray="5 3"/>'
            )
    alt = _("line chart: {title} against the distance moved, each model's mean with its spread").format(title=title)
    return f'<div class="profile-plot">{svg_img(parts, width, height, alt)}</div>'


def legend_html(labels: list[str]) -> str:
    """One entry per label, in TRACE_COLOURS: the key to the lines and dots of the charts."""
    return "".join(
        f'<span class="legend"><span style="background:{colour}"></span>{escape(label)}</span>'
        for label, colour in zip(labels, TRACE_COLOURS, strict=False)
    )


def svg_img(svg_parts: list[str], width: int, height: int, alt: str) -> str:
    """The SVG drawn by svg_parts as an <img>: st.html does not keep inline SVG, so its styles are
    attributes; its grey text reads on light and dark themes."""
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">{"".join(svg_parts)}</svg>'
    image = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    return f'<img src="{image}" alt="{escape(alt)}">'


def heat_map_html(image: Image.Image, alt: str, label: str) -> str:
    """A score or accuracy map with the key to its colours under it."""
    return f'<img class="score-map" src="{png_data_url(image)}" alt="{escape(alt)}">' + colour_scale_html(label)


def colour_scale_html(label: str) -> str:
    """The key to a heat map's colours (COLOUR_MAP): a bar from 0 % (dark) to 100 % (bright), named `label`."""
    stops = ", ".join("#{:02x}{:02x}{:02x}".format(*_lookup_table()[i]) for i in (*range(0, 256, 32), 255))
    return (
        f'<div class="colour-scale"><span>0%</span><span class="colour-scale-bar" '
        f'style="background: linear-gradient(to right, {stops})"></span><span>100%</span>'
        f"<span>{escape(label)}</span></div>"
    )


def heatmap_image(values: torch.Tensor, size: int = 256) -> Image.Image:
    """values (N, N) in [0, 1], indexed [y, x], in viridis (0 dark, 1 bright): one square block per value."""
    levels = values.clamp(0, 1).mul(255).round().to(torch.uint8).numpy()  # (N, N)
    return Image.fromarray(_lookup_table()[levels]).resize((size, size), Image.Resampling.NEAREST)


def score_map_image(scores: ScoreMap, canvas: int, position: tuple[int, int], size: int = 256) -> Image.Image:
    """The probability map in viridis (0 dark, 1 bright) over the canvas, a dark dot on every
    grid cell where the class is no longer ranked first, and a ring at the current position."""
    image = heatmap_image(scores.probability, size)
    draw = ImageDraw.Draw(image)
    cell = size / len(scores.positions)
    for i, j in torch.nonzero(~scores.top1_kept).tolist():
        cx, cy = (j + 0.5) * cell, (i + 0.5) * cell
        draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=(0, 0, 0))
    x, y = (c * size / canvas for c in position)
    draw.ellipse((x - 7, y - 7, x + 7, y + 7), outline=(255, 255, 255), width=3)
    draw.ellipse((x - 9, y - 9, x + 9, y + 9), outline=(0, 0, 0), width=2)
    return image


def accuracy_map_image(accuracy: AccuracyMap, box: tuple[int, int, int, int] | None, size: int = 256) -> Image.Image:
    """The accuracy at each grid point in viridis (0 dark, 1 bright), with the training region's box
    (x_min, y_min, x_max, y_max of the object centres, in canvas pixels), if known, outlined in red."""
    image = heatmap_image(accuracy.accuracy, size)
    if box is None:
        return image
    positions = accuracy.positions
    step = positions[1] - positions[0] if len(positions) > 1 else 1
    origin, scale = positions[0] - step / 2, size / (len(positions) * step)  # grid cells tile the image
    x_min, y_min, x_max, y_max = ((v - origin) * scale for v in box)
    ImageDraw.Draw(image).rectangle((x_min - 3, y_min - 3, x_max + 3, y_max + 3), outline=(255, 64, 64), width=3)
    return image
