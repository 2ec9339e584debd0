"""Can one server hold a whole class? Opens 20 real sessions of the app in one headless Chromium
on loopback; 4 of them drag the object back and forth for 60 s while the other 16 sit idle.

Prints, per dragging session: updates per second as the browser sees them (new positions shown
in the model columns; and, as in benchmarks.drag_latency, server acks that came within the
canvas's 1 s wait) with latency p50/p95; whether stale positions are dropped (positions sent
against mouse moves; after release, how long until the page shows the final position, and
whether anything else is shown after it); errors (page errors, Streamlit exception elements,
closed websockets, tracebacks in the server log, idle sessions that no longer answer); the
server's resident memory, sampled every second; and where the CPU went (server, its main
thread, the browsers, the rest of the machine) with the server's CPU time per update.
Targets (issue 5): no errors, ≥ 2 updates/s for every dragging session, bounded server memory.

Run with `make bench` or `python -m benchmarks.load_test`; with `--split-cores` the server runs
alone on core 0 and the browsers on the others. A benchmark, not a test: the browsers share the
machine's cores with the server here, unlike in a classroom, and other users' load
shows in the figures (giving Chromium nice 19 made it worse: it starved the mouse moves and
websockets closed).
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from playwright.async_api import Browser, Page, WebSocket, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from models import WEIGHTS_DIR_ENV
from tests.conftest import app_env
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, running_app

SESSIONS = 20
DRAGGING = 4
DRAG_SECONDS = 60.0
MOVE_INTERVAL_S = 0.03  # a mouse move every 30 ms, about what a browser reports while dragging
WINDOW_S = 10  # the worst stretch of this many seconds is reported too
QUIET_S = 2.0  # after settling, nothing more may arrive for this long
LOAD_TIMEOUT_S = 240
SETTLE_TIMEOUT_S = 30
CANVAS = 224
POSITION = re.compile(r"object at x = (\d+), y = (\d+)")
# Counts each new position the model columns' captions show: an update drawn, whether or not its
# ack came in time to count (the canvas stops waiting for an ack after 1 s and sends anyway).
WATCH_DRAWN = """() => {
    const shown = () => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
        .map((element) => element.textContent.match(/object at x = \\d+, y = \\d+/)?.[0])
        .find(Boolean);
    let last = shown();
    window.drawnPositions = 0;
    setInterval(() => {
        const now = shown();
        if (now && now !== last) {
            last = now;
            window.drawnPositions += 1;
        }
    }, 25);
}"""
TARGET_UPDATES_PER_S = 2.0
MEMORY_GROWTH_MB = 50  # how much higher the server's memory may peak in the second half of the drag than in the first


@dataclass
class Session:
    """One student's page, and what went wrong on it."""

    page: Page
    page_errors: list[str] = field(default_factory=list)
    closed_sockets: int = 0
    load_s: float = float("nan")  # from opening the page to the canvas being on it


@dataclass
class Drag:
    """What the browser saw during one session's drag and after its release."""

    moves: int
    sent: int
    acked: int
    drawn: int  # new positions the page showed
    unanswered: int  # positions whose ack did not come within the 1 s the canvas waits before sending on
    latencies_ms: list[float]
    worst_window_updates_per_s: float
    settle_s: float  # from release until every model column shows the final position
    drawn_after_release: int  # positions shown from release until the final one
    late_updates: int  # positions shown in the QUIET_S after settling: a backlog being replayed


@dataclass
class Sample:
    """One second of the server process: memory, and CPU time since it started."""

    t: float
    rss_mb: float
    cpu_s: float
    main_thread_cpu_s: float
    browsers_cpu_s: float  # Chromium and Playwright's driver: every other process this one started
    machine_busy: float  # the whole machine, jiffies busy / all, since the previous sample


def parent_pids() -> dict[int, int]:
    """pid -> parent pid of every process now running."""
    parents = {}
    for proc in Path("/proc").iterdir():
        try:
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):  # not a process, or gone meanwhile
            continue
    return parents


def server_pid(url: str) -> int:
    """The pid of the streamlit server running_app started for `url` (a child of this process)."""
    port = url.rsplit(":", 1)[1]
    for pid, parent in parent_pids().items():
        if parent == os.getpid():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            if "streamlit" in cmdline and f"--server.port={port}" in cmdline:
                return pid
    raise RuntimeError(f"no server process for {url}")


def cpu_seconds(stat_path: Path) -> float:
    """utime + stime of a process or thread, from its /proc stat file."""
    fields = stat_path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def browser_pids(server: int) -> list[int]:
    """Every living descendant of this process except the server: Playwright's driver and Chromium."""
    children: dict[int, list[int]] = {}
    for pid, parent in parent_pids().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            if child != server:
                found.append(child)
                todo.append(child)
    return found


def browsers_cpu_seconds(server: int) -> float:
    total = 0.0
    for pid in browser_pids(server):
        try:
            total += cpu_seconds(Path(f"/proc/{pid}/stat"))
        except OSError:  # exited meanwhile
            continue
    return total


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def rss_mb(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match[1]) / 1024 if match else float("nan")


async def sample_server(pid: int, samples: list[Sample], start: float) -> None:
    """Append a Sample every second until cancelled."""
    busy, total = machine_jiffies()
    while True:
        new_busy, new_total = machine_jiffies()
        samples.append(
            Sample(
                t=time.monotonic() - start,
                rss_mb=rss_mb(pid),
                cpu_s=cpu_seconds(Path(f"/proc/{pid}/stat")),
                main_thread_cpu_s=cpu_seconds(Path(f"/proc/{pid}/task/{pid}/stat")),
                browsers_cpu_s=browsers_cpu_seconds(pid),
                machine_busy=(new_busy - busy) / max(new_total - total, 1),
            )
        )
        busy, total = new_busy, new_total
        await asyncio.sleep(1)


async def open_session(browser: Browser, url: str) -> Session:
    """A new browser context and page: a student's own session, loaded up to the first plots."""
    start = time.monotonic()
    page = await (await browser.new_context(viewport={"width": 1600, "height": 1000})).new_page()
    session = Session(page)
    page.on("pageerror", lambda error: session.page_errors.append(str(error)))

    def on_socket(socket: WebSocket) -> None:
        def closed(_: WebSocket) -> None:
            session.closed_sockets += 1

        socket.on("close", closed)

    page.on("websocket", on_socket)
    await page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_S * 1000)
    for shown in (page.get_by_text(f"object at x = {CANVAS // 2}, y = {CANVAS // 2}"), page.locator(".drag-canvas")):
        await shown.first.wait_for(timeout=LOAD_TIMEOUT_S * 1000)  # the canvas comes last, after every plot
    session.load_s = time.monotonic() - start
    return session


async def shown_positions(page: Page) -> set[tuple[int, int]]:
    """The positions the model columns' captions show (one per column; a set, so one when they agree)."""
    texts = await page.get_by_text(POSITION).all_inner_texts()
    return {(int(m[1]), int(m[2])) for m in map(POSITION.search, texts) if m}


async def drag(page: Page, phase: float) -> Drag:
    """Drag back and forth across the canvas for DRAG_SECONDS (80 px either side of the centre,
    4 s a round), then release and watch the page settle on the final position."""
    box = await page.locator(".drag-canvas canvas").bounding_box()
    scale = box["width"] / CANVAS

    def x_at(t: float) -> float:
        u = (t / 4 + phase) % 1  # a triangle wave: 32 -> 192 -> 32 px every 4 s
        return CANVAS // 2 + 80 * (4 * u - 1 if u < 0.5 else 3 - 4 * u)

    await page.mouse.move(box["x"] + x_at(0) * scale, box["y"] + 112 * scale)
    await page.mouse.down()
    await page.evaluate(WATCH_DRAWN)
    before = await page.evaluate("({...window.shiftLabStats, latenciesMs: []})")
    start = time.monotonic()
    moves, drawn_each_second, next_tick = 0, [], 0.0
    while (elapsed := time.monotonic() - start) < DRAG_SECONDS:
        await page.mouse.move(box["x"] + x_at(elapsed) * scale, box["y"] + 112 * scale)
        moves += 1
        if elapsed >= next_tick:
            drawn_each_second.append(await page.evaluate("window.drawnPositions"))
            next_tick += 1
        await asyncio.sleep(MOVE_INTERVAL_S)
    stats = await page.evaluate("window.shiftLabStats")
    drawn = await page.evaluate("window.drawnPositions")
    await page.mouse.up()
    released = time.monotonic()
    final = tuple(int(v) for v in re.findall(r"\d+", await page.locator(".drag-canvas-position").inner_text()))
    while await shown_positions(page) != {final} and time.monotonic() - released < SETTLE_TIMEOUT_S:
        await asyncio.sleep(0.05)
    settle_s = time.monotonic() - released
    settled = await page.evaluate("window.drawnPositions")
    await asyncio.sleep(QUIET_S)
    quiet = await page.evaluate("({...window.shiftLabStats, drawn: window.drawnPositions})")
    acked = stats["acked"] - before["acked"]
    windows = [b - a for a, b in zip(drawn_each_second, drawn_each_second[WINDOW_S:], strict=False)]
    return Drag(
        moves=moves,
        sent=stats["sent"] - before["sent"],
        acked=acked,
        drawn=drawn,
        unanswered=quiet["sent"] - quiet["acked"] - (before["sent"] - before["acked"]),
        latencies_ms=stats["latenciesMs"][-acked:] if acked else [],
        worst_window_updates_per_s=min(windows, default=0) / WINDOW_S,
        settle_s=settle_s,
        drawn_after_release=settled - drawn,
        late_updates=quiet["drawn"] - settled,
    )


async def nudge(session: Session) -> bool:
    """Does an idle session still answer? One arrow key press, and its view must follow."""
    canvas = session.page.locator(".drag-canvas canvas")
    await canvas.press("ArrowDown")
    try:
        await session.page.get_by_text(f"object at x = {CANVAS // 2}, y = {CANVAS // 2 + 1}").first.wait_for(
            timeout=30_000
        )
    except PlaywrightTimeout:
        return False
    return True


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else float("nan")


def rss_at(samples: list[Sample], t: float) -> float:
    """The first memory sample taken at or after time t."""
    return next((s.rss_mb for s in samples if s.t >= t), samples[-1].rss_mb)


def cpu_between(samples: list[Sample], t0: float, t1: float) -> tuple[float, float, float, float]:
    """Mean cores used by the server, its main thread and the browsers, and the machine's busy
    share, in [t0, t1]."""
    inside = [s for s in samples if t0 <= s.t <= t1]
    first, last = inside[0], inside[-1]
    span = last.t - first.t
    return (
        (last.cpu_s - first.cpu_s) / span,
        (last.main_thread_cpu_s - first.main_thread_cpu_s) / span,
        (last.browsers_cpu_s - first.browsers_cpu_s) / span,
        statistics.mean(s.machine_busy for s in inside[1:]),
    )


def split_cores(server: int) -> None:
    """Pin the server to core 0 and this process, with the browsers it is about to start, to the
    others: the server alone on one core, as if the students' browsers ran on their own machines."""
    for thread in Path(f"/proc/{server}/task").iterdir():  # threads started later inherit from these
        os.sched_setaffinity(int(thread.name), {0})
    os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)))


async def run(url: str, split: bool) -> None:
    """Open the sessions, drag in some, check all of them, then print the report."""
    pid = server_pid(url)
    if split:
        split_cores(pid)
        print("The server runs on core 0 alone; the browsers on the other cores.", flush=True)
    samples: list[Sample] = []
    t0 = time.monotonic()
    sampler = asyncio.create_task(sample_server(pid, samples, t0))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"Opening {SESSIONS} sessions at once…", flush=True)
        sessions = await asyncio.gather(*(open_session(browser, url) for _ in range(SESSIONS)))
        drag_start = time.monotonic() - t0
        print(f"Dragging in {DRAGGING} of them for {DRAG_SECONDS:.0f} s…", flush=True)
        drags = await asyncio.gather(*(drag(s.page, i / DRAGGING) for i, s in enumerate(sessions[:DRAGGING])))
        drag_end = time.monotonic() - t0
        answers = await asyncio.gather(*(nudge(s) for s in sessions[DRAGGING:]))
        exceptions = [await s.page.get_by_test_id("stException").count() for s in sessions]
        await browser.close()
    await asyncio.sleep(1)
    sampler.cancel()
    errors = {
        "page errors": sum(len(s.page_errors) for s in sessions),
        "Streamlit exception elements": sum(exceptions),
        "closed websockets (disconnected sessions)": sum(s.closed_sockets for s in sessions),
        "tracebacks in the server log": Path(f"/proc/{pid}/fd/1").read_text(errors="replace").count("Traceback"),
        "idle sessions not answering a key press afterwards": answers.count(False),
    }
    report(sessions, drags, errors, samples, drag_start, drag_end)


def report(
    sessions: list[Session],
    drags: list[Drag],
    errors: dict[str, int],
    samples: list[Sample],
    drag_start: float,
    drag_end: float,
) -> None:
    """Print the tables and the verdict on each target."""
    load_times = sorted(s.load_s for s in sessions)
    print(
        f"\n{SESSIONS} sessions opened at once, loaded (canvas on the page) after {load_times[0]:.0f} s (first), "
        f"{statistics.median(load_times):.0f} s (median), {load_times[-1]:.0f} s (last).\n"
    )
    print(
        "| dragging session | updates/s drawn (worst 10 s) | acks within 1 s, per s | latency p50 / p95 (ms) "
        "| mouse moves | positions sent | unanswered in 1 s | settled after release (s) | positions shown until then "
        f"| positions shown in the {QUIET_S:g} s after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for i, d in enumerate(drags, start=1):
        print(
            f"| {i} | {d.drawn / DRAG_SECONDS:.2f} ({d.worst_window_updates_per_s:.1f}) | {d.acked / DRAG_SECONDS:.2f} "
            f"| {percentile(d.latencies_ms, 50):.0f} / {percentile(d.latencies_ms, 95):.0f} | {d.moves} | {d.sent} "
            f"| {d.unanswered} | {d.settle_s:.2f} | {d.drawn_after_release} | {d.late_updates} |"
        )
    print("\n| errors | count |\n|---|---|")
    for name, count in errors.items():
        print(f"| {name} | {count} |")

    during = [rss_at(samples, drag_start + t) for t in range(0, int(DRAG_SECONDS) + 1, 10)]
    print(f"\n| server memory, VmRSS (MB) | before any session | {SESSIONS} sessions loaded | peak | end |")
    print("|---|---|---|---|---|")
    print(
        f"| | {samples[0].rss_mb:.0f} | {rss_at(samples, drag_start):.0f} | {max(s.rss_mb for s in samples):.0f} "
        f"| {samples[-1].rss_mb:.0f} |"
    )
    print(f"During the drag, every 10 s: {', '.join(f'{mb:.0f}' for mb in during)} MB.")
    server, main_thread, browsers, machine = cpu_between(samples, drag_start, drag_end)
    print(
        f"CPU during the drag, in cores of {os.cpu_count()}: server {server:.2f} (of which its main thread, the "
        f"websockets' event loop, {main_thread:.2f}); the {SESSIONS} pages' Chromium and Playwright {browsers:.2f}; "
        f"everything else (other users, this script) {machine * os.cpu_count() - server - browsers:.2f}; "
        f"the machine {machine:.0%} busy."
    )
    updates = sum(d.drawn + d.drawn_after_release for d in drags)
    print(
        f"Server CPU per update drawn: {server * (drag_end - drag_start) / max(updates, 1) * 1000:.0f} ms "
        f"({updates} updates)."
    )
    half = drag_start + DRAG_SECONDS / 2
    first_peak = max(s.rss_mb for s in samples if drag_start <= s.t < half)
    second_half_growth = max(s.rss_mb for s in samples if half <= s.t <= drag_end) - first_peak
    slowest = min(d.drawn / DRAG_SECONDS for d in drags)
    verdicts = {
        "no errors": not any(errors.values()),
        f"≥ {TARGET_UPDATES_PER_S:g} updates/s drawn in every dragging session (slowest {slowest:.2f})": slowest
        >= TARGET_UPDATES_PER_S,
        f"memory bounded (peak of the drag's second half against its first: {second_half_growth:+.0f} MB, "
        f"limit {MEMORY_GROWTH_MB})": (second_half_growth < MEMORY_GROWTH_MB),
    }
    print("\nTargets: " + "; ".join(f"{name}: {'met' if ok else 'NOT MET'}" for name, ok in verdicts.items()))


def main() -> None:
    if WEIGHTS_DIR_ENV not in os.environ:
        os.environ.update(app_env())
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"Shift Lab load test, {datetime.now():%Y-%m-%d %H:%M}, {platform.node()}: {os.cpu_count()} cores, "
        f"load average before the run {' '.join(load)}; {SESSIONS} sessions, {DRAGGING} dragging"
    )
    with running_app(timeout_s=120) as url:
        asyncio.run(run(url, split="--split-cores" in sys.argv[1:]))


if __name__ == "__main__":
    main()
