"""Pictures and plots for the live view: feature-map mosaics, top-5 bars, the path chart.

All are redrawn on every drag event, so they are made as cheap for the browser as possible:
feature maps as one image, bars and lines as plain HTML and SVG (a plotly chart costs over
100 ms of browser time per redraw on these machines, measured).
"""

from __future__ import annotations

import base64
import io
from functools import cache
from html import escape

import numpy as np
import torch
from PIL import Image, ImageDraw
from plotly.colors import sample_colorscale, unlabel_rgb

from probes import ScoreMap

COLOUR_SCALE = "Viridis"  # perceptually uniform and colour-blind safe
TILE_PX = 96
GAP_PX = 4
TILES_PER_ROW = 4
TRACE_COLOURS = ("#440154", "#21918c")  # ends of viridis: colour-blind safe


@cache
def _lookup_table() -> np.ndarray:
    """(256, 3) uint8 colours of COLOUR_SCALE, dark to bright (read-only)."""
    colours = sample_colorscale(COLOUR_SCALE, np.linspace(0, 1, 256))
    table = np.array([unlabel_rgb(c) for c in colours], dtype=np.uint8)
    table.flags.writeable = False
    return table


def png_data_url(image: Image.Image) -> str:
    """The image as a PNG data URL: it travels inside the page update, with no extra request."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def feature_mosaic(fmap: torch.Tensor, channels: list[int], value_range: tuple[float, float]) -> Image.Image:
    """The chosen channels of fmap (C, H, W) as coloured tiles on one shared colour scale.

    Each cell of a map becomes a square block of pixels (no smoothing), so a one-cell shift is
    visible as exactly that. Values outside value_range are clipped to its ends.
    """
    low, high = value_range
    maps = fmap[channels].float()  # (k, H, W)
    levels = ((maps - low) / (high - low)).clamp(0, 1).mul(255).round().to(torch.uint8).numpy()
    height, width = maps.shape[1:]
    scale = max(1, round(TILE_PX / max(height, width)))
    tiles = _lookup_table()[levels].repeat(scale, axis=1).repeat(scale, axis=2)  # (k, sH, sW, 3)
    rows = -(-len(channels) // TILES_PER_ROW)
    tile_h, tile_w = tiles.shape[1:3]
    mosaic = np.full((rows * (tile_h + GAP_PX) - GAP_PX, TILES_PER_ROW * (tile_w + GAP_PX) - GAP_PX, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        top, left = (i // TILES_PER_ROW) * (tile_h + GAP_PX), (i % TILES_PER_ROW) * (tile_w + GAP_PX)
        mosaic[top : top + tile_h, left : left + tile_w] = tile
    return Image.fromarray(mosaic)


def top5_html(classes: list[tuple[str, float]]) -> str:
    """Top classes as labelled bars on a fixed 0–100% scale (HTML: cheap for the browser to redraw)."""
    rows = "".join(
        f'<div class="top5-row"><span class="top5-name">{escape(name)}</span>'
        f'<span class="top5-bar"><span style="width:{100 * p:.1f}%"></span></span>'
        f'<span class="top5-p">{p:.1%}</span></div>'
        for name, p in classes
    )
    return f'<div class="top5">{rows}</div>'


def path_svg(
    traces: dict[str, list[float | None]], end_label: str = "step {last}", width: int = 1100, height: int = 180
) -> str:
    """Each trace's probability (0–1) at each step: an HTML legend and an SVG line chart. end_label
    names the last step at the right end of the axis ({last} is its index).

    The SVG travels as an image (st.html does not keep inline SVG), so its styles are attributes;
    its grey text reads on light and dark themes. None marks a step with no value.
    """
    left, right, top, bottom = 44, 12, 8, 22
    steps = max((len(values) for values in traces.values()), default=0)
    x_scale = (width - left - right) / max(steps - 1, 1)

    def y_of(p: float) -> float:
        return top + (1 - p) * (height - top - bottom)

    text = 'font-family="sans-serif" font-size="12" fill="#808080"'
    parts = []
    for level in (0, 0.5, 1):
        y = y_of(level)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#8080804d"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" {text}>{level:.0%}</text>')
    end = escape(end_label.format(last=max(steps - 1, 0)))
    parts.append(f'<text x="{width - right}" y="{height - 4}" text-anchor="end" {text}>{end}</text>')
    legend = []
    for (label, values), colour in zip(traces.items(), TRACE_COLOURS, strict=False):
        points = " ".join(f"{left + i * x_scale:.1f},{y_of(p):.1f}" for i, p in enumerate(values) if p is not None)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        legend.append(f'<span class="legend"><span style="background:{colour}"></span>{escape(label)}</span>')
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
    image = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    alt = "line chart: probability of each model's first class at each step of the dragged path"
    return f'<div class="path-chart">{"".join(legend)}<img src="{image}" alt="{alt}"></div>'


def score_map_image(scores: ScoreMap, canvas: int, position: tuple[int, int], size: int = 256) -> Image.Image:
    """The probability map in viridis (0 dark, 1 bright) over the canvas, a dark dot on every
    grid cell where the class is no longer ranked first, and a ring at the current position."""
    levels = scores.probability.clamp(0, 1).mul(255).round().to(torch.uint8).numpy()  # (N, N)
    image = Image.fromarray(_lookup_table()[levels]).resize((size, size), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)
    cell = size / len(scores.positions)
    for i, j in torch.nonzero(~scores.top1_kept).tolist():
        cx, cy = (j + 0.5) * cell, (i + 0.5) * cell
        draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=(0, 0, 0))
    x, y = (c * size / canvas for c in position)
    draw.ellipse((x - 7, y - 7, x + 7, y + 7), outline=(255, 255, 255), width=3)
    draw.ellipse((x - 9, y - 9, x + 9, y + 9), outline=(0, 0, 0), width=2)
    return image
