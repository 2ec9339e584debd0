"""How live is the drag view? Prints, per model at 224 px: bare forward time, server time per
drag update, and browser drag latency (p50/p95) with updates per second; in free exploration, and in
lesson 1, whose measurements follow the drag (target: at least 5 updates/s and a p50 of at most
3 × (bare forward + 16 ms)).

Run with `make bench`, or `python -m benchmarks.drag_latency resnet18` for chosen models (a
benchmark, not a test: figures depend on the machine and its load).
Pretrained weights come from SHIFTLAB_WEIGHTS_DIR (or ../shared/weights when it exists); the
cost is the same with random weights, so a model without weights is timed as its scratch twin.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from datetime import date
from urllib.parse import urlencode

import torch
from playwright.sync_api import sync_playwright
from streamlit.testing.v1 import AppTest

from models import WEIGHTS_DIR_ENV, WeightsUnavailable, load_network
from tests.conftest import app_env
from tests.live_server import ROOT, launch_chromium, running_app
from ui.lessons import LESSONS
from ui.live_update import update
from ui.state import LIVE_SCENE

MODELS = ("mobilenet_v2", "resnet18")
LIVE_LESSON = "equivariance"  # lesson 1: MobileNetV2 at 224 px, measurements during the drag
CANVAS = 224
DRAG_SECONDS = 10.0


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def forward_ms(name: str, repeats: int = 30) -> float:
    """Median time of one forward pass (all probe layers and logits) of a 1x3x224x224 batch."""
    try:
        net = load_network(name, "pretrained", allow_download=False)
    except WeightsUnavailable:
        net = load_network(name, "scratch")
    batch = torch.rand(1, 3, CANVAS, CANVAS)
    net(batch)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        net(batch)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def server_update_ms(query: dict[str, str], updates: int = 20) -> float:
    """Median time for the server to compute one drag update as the drag route does (ui.live_update.update:
    the scene, both models' forward passes, the measurements and the columns' HTML), from the LiveScene a run of
    the page under AppTest left; in this process, so without the route's WebSocket."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    scene = at.session_state[LIVE_SCENE.name]
    x, y = scene.path[0]["x"], scene.path[0]["y"]
    update(scene, x + 1, y, dragging=True)  # warm-up
    times = []
    for step in range(2, updates + 2):
        start = time.perf_counter()
        update(scene, x + step, y, dragging=True)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def browser_drag(url: str, query: dict[str, str]) -> dict[str, float]:
    """Drag back and forth for DRAG_SECONDS with a move every ~16 ms; latency is from the
    browser sending a position to the page holding the plots computed for it."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{url}/?{urlencode(query)}")
        page.get_by_text(f"object at x = {CANVAS // 2}, y = {CANVAS // 2}").first.wait_for(timeout=120_000)
        box = page.locator(".drag-canvas canvas").bounding_box()
        scale = box["width"] / CANVAS
        page.mouse.move(box["x"] + 112 * scale, box["y"] + 112 * scale)
        page.mouse.down()
        before = page.evaluate("({...window.shiftLabStats, latenciesMs: []})")
        start = time.monotonic()
        moves = 0
        while (elapsed := time.monotonic() - start) < DRAG_SECONDS:
            x = 112 + 80 * ((elapsed / 2) % 2 - 1 if int(elapsed / 2) % 2 == 0 else 1 - (elapsed / 2) % 2)
            page.mouse.move(box["x"] + x * scale, box["y"] + 112 * scale)
            moves += 1
            time.sleep(0.016)
        stats = page.evaluate("window.shiftLabStats")
        page.mouse.up()
        browser.close()
    acked = stats["acked"] - before["acked"]
    latencies = stats["latenciesMs"][-acked:]
    return {
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "updates_per_s": acked / DRAG_SECONDS,
        "moves_per_s": moves / DRAG_SECONDS,
    }


def main() -> None:
    if WEIGHTS_DIR_ENV not in os.environ:
        os.environ.update(app_env())
    torch.set_num_threads(1)  # as the app runs every forward pass (app.py)
    print(
        f"Shift Lab drag benchmark, {date.today()}, {platform.node()}: {os.cpu_count()} cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, canvas {CANVAS} px"
    )
    views = [(name, "free exploration", {"model": name}) for name in sys.argv[1:] or MODELS]
    if not sys.argv[1:]:  # lesson 1's view without and with its measurements during the drag
        lesson_view = {
            key: LESSONS[LIVE_LESSON].view[key] for key in ("model", "layer", "object", "background", "size")
        }
        views.append(("mobilenet_v2", "lesson 1's view, measured at rest", lesson_view))
        views.append(("mobilenet_v2", "lesson 1, measured live", {"lesson": LIVE_LESSON}))
    rows = []
    with running_app() as url:
        for name, view, query in views:
            drag = browser_drag(url, query)
            rows.append((name, view, forward_ms(name), server_update_ms(query), drag))
    print()
    print(
        "| model | view | bare forward (ms) | server per drag update (ms) | browser latency p50 / p95 (ms) "
        "| p50 / (forward + 16 ms) | updates/s (mouse moves/s) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, view, forward, server, drag in rows:
        print(
            f"| {name} | {view} | {forward:.0f} | {server:.0f} | {drag['p50']:.0f} / {drag['p95']:.0f} "
            f"| {drag['p50'] / (forward + 16):.1f} | {drag['updates_per_s']:.1f} ({drag['moves_per_s']:.0f}) |"
        )


if __name__ == "__main__":
    main()
