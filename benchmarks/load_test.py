"""Can one server hold a whole class? Opens 20 sessions of the app on loopback; 4 of them drag the
object back and forth for 60 s while the other 16 sit idle. With `--voters N` (protocol clients), N of the
idle sessions join a class (started in the app's store) in a lesson and answer its question during the drag, each
changing its answer once; the store must then count each of them once, with its last answer.

Two kinds of client (`--clients`):
- `browser` (the default): every session is a real page in one headless Chromium, dragged with
  the mouse. On this 2-core VM the Chromiums drawing the pages take more CPU than the server, so
  this measures the classroom as a whole run on one machine, not the server.
- `protocol`: every session is a Python client (benchmarks.streamlit_client) speaking Streamlit's
  websocket protocol as the page does, with the drag canvas's back-pressure (drag_canvas.js)
  redone in Python, but drawing nothing. In a classroom each browser runs on its student's own
  laptop; this measures what the server alone can serve.

Prints, per dragging session: updates per second as the client sees them (new positions shown
in the model columns; and, as in benchmarks.drag_latency, server acks that came within the
canvas's 1 s wait) with latency p50/p95 (browser: from sending a position to its ack, which comes
after every plot for it; protocol: to the model columns showing it); whether stale positions are
dropped (positions sent against mouse moves; after release, how long until the page shows the
final position, and whether anything else is shown after it); errors (page errors, or messages
the protocol client could not read; Streamlit exception elements, closed websockets, tracebacks
in the server log, idle sessions that no longer answer); the server's resident memory, sampled
every second; and where the CPU went (server, its main thread, the clients, the rest of the
machine) with the server's and the clients' CPU time per update.
Targets (issue 5): no errors, ≥ 2 updates/s for every dragging session, bounded server memory.

Run with `make bench` or `python -m benchmarks.load_test [--clients protocol]`; `--seconds S`
and `--sessions N` make short runs for development; a class of 40 with 8 dragging and 30 voting is
`--clients protocol --sessions 40 --dragging 8 --voters 30`. With `--split-cores` the server runs alone
on core 0 and the clients on the others. A benchmark, not a test: other users' load shows in the
figures (giving Chromium nice 19 made it worse: it starved the mouse moves and websockets closed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import statistics
import tempfile
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

import psutil
from playwright.async_api import Browser, Page, Playwright, WebSocket, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout
from streamlit.proto.Delta_pb2 import Delta
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from benchmarks.streamlit_client import ElementPath, StreamlitClient
from models import REGISTRY, WEIGHTS_DIR_ENV
from scripts.servers import running_postgres, running_school
from store import Classroom, open_store
from tests.conftest import app_env
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, running_app
from ui.classroom_view import DATA_DIR_ENV, DATABASE_URL_ENV, taken_words
from ui.resources import DEFAULT_MODEL_MEMORY_MB, MODEL_MEMORY_ENV

SESSIONS = 20
DRAGGING = 4
DRAG_SECONDS = 60.0
MOVE_INTERVAL_S = 0.03  # a mouse move every 30 ms, about what a browser reports while dragging
ACK_TIMEOUT_S = 1.0  # as drag_canvas.js: after this long without an ack, the canvas sends anyway
ROUTE_TIMEOUT_S = 20.0  # as drag_canvas.js: after this long without the drag route's answer, the drag goes to Python
WINDOW_S = 10  # the worst stretch of this many seconds is reported too
QUIET_S = 2.0  # after settling, nothing more may arrive for this long
LOAD_TIMEOUT_S = 240
SETTLE_TIMEOUT_S = 30
ANSWER_TIMEOUT_S = 30
CANVAS = 224
CANVAS_COMPONENT = "shiftlab.drag_canvas"
POSITION = re.compile(r"object at x = (\d+), y = (\d+)")
# Counts each new position the model columns' captions show: an update drawn, whether or not its
# ack came in time to count (the canvas stops waiting for an ack after 1 s and sends anyway).
WATCH_DRAWN = """() => {
    const shown = () => [...document.querySelectorAll(".maps-caption")]
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
VOTE_LESSON = "equivariance"  # the voters' lesson: its question has five choices
VOTE_TIMEOUT_S = 30
CHANGE_AFTER_S = 1.5  # a voter changes its answer this long after the first (the store allows one a second)
MEMORY_GROWTH_MB = 50  # how much higher the server's memory may peak in the second half of the drag than in the first

Position = tuple[int, int]


@dataclass
class CanvasStats:
    """The drag canvas's own figures since the mouse went down."""

    sent: int = 0
    acked: int = 0  # acks that came within ACK_TIMEOUT_S
    latencies_ms: list[float] = field(default_factory=list)


class Canvas(ABC):
    """One session's drag canvas, as drag() drives and watches it, in canvas pixels."""

    @abstractmethod
    async def press(self, x: float, y: float) -> None: ...

    @abstractmethod
    async def move(self, x: float, y: float) -> None: ...

    @abstractmethod
    async def release(self) -> None: ...

    @abstractmethod
    async def drawn(self) -> int:
        """New positions the model columns have shown since the press."""

    @abstractmethod
    async def stats(self) -> CanvasStats: ...

    @abstractmethod
    async def position(self) -> Position:
        """Where the canvas has the object."""

    @abstractmethod
    async def shown_positions(self) -> set[Position]:
        """The positions the model columns' captions show (a set, so one when they agree)."""


class Session(ABC):
    """One student's page: how long it took to load, its canvas, and what went wrong on it."""

    load_s: float = float("nan")  # from opening the page to the canvas being on it

    @abstractmethod
    def canvas(self) -> Canvas: ...

    @abstractmethod
    async def answers(self) -> bool:
        """Does an idle session still answer? One arrow key press on the canvas, and the model
        columns must follow."""

    @abstractmethod
    async def errors(self) -> Counter[str]:
        """What went wrong on the page, by the name the report gives it."""

    @abstractmethod
    def error_messages(self) -> list[str]:
        """The words of the errors counted, where the client has them."""


class Clients(Protocol):
    """One kind of client: opens the sessions (closing them on exit) and knows its own CPU time."""

    name: str
    latency: str  # what the latencies run from and to
    cpu: str  # whose CPU time the clients' is
    others: str  # whose CPU time the rest of the machine's is

    async def __aenter__(self) -> Clients: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def open(self, url: str, query: str = "") -> Session: ...

    def cpu_seconds(self, server: int) -> float: ...


@dataclass
class Drag:
    """What the client saw during one session's drag and after its release."""

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
    """One second of the server processes (one, or each replica behind the proxy): memory, and CPU time since they
    started, summed over them."""

    t: float
    rss_mb: float
    rss_each_mb: tuple[float, ...]  # per replica
    cpu_s: float
    main_thread_cpu_s: float
    clients_cpu_s: float  # the browsers or the protocol clients, see Clients.cpu
    machine_busy: float  # the whole machine, CPU time busy / all, since the previous sample


# --- Browser mode -----------------------------------------------------------------------------


class BrowserCanvas(Canvas):
    """The canvas on a page, dragged with Playwright's mouse; figures from drag_canvas.js."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.origin = (0.0, 0.0)
        self.scale = 1.0
        self.before = (0, 0)  # drag_canvas.js's (sent, acked) counts when the mouse went down

    async def press(self, x: float, y: float) -> None:
        box = await self.page.locator(".drag-canvas canvas").bounding_box()
        self.origin, self.scale = (box["x"], box["y"]), box["width"] / CANVAS
        await self.move(x, y)
        await self.page.evaluate(WATCH_DRAWN)
        # Read before the button goes down, so that the press's own position is counted too.
        self.before = tuple(await self.page.evaluate("[window.shiftLabStats.sent, window.shiftLabStats.acked]"))
        await self.page.mouse.down()

    async def move(self, x: float, y: float) -> None:
        await self.page.mouse.move(self.origin[0] + x * self.scale, self.origin[1] + y * self.scale)

    async def release(self) -> None:
        await self.page.mouse.up()

    async def drawn(self) -> int:
        return await self.page.evaluate("window.drawnPositions")

    async def stats(self) -> CanvasStats:
        now = await self.page.evaluate("window.shiftLabStats")
        sent_before, acked_before = self.before
        acked = now["acked"] - acked_before
        return CanvasStats(now["sent"] - sent_before, acked, now["latenciesMs"][-acked:] if acked else [])

    async def position(self) -> Position:
        x, y = re.findall(r"\d+", await self.page.locator(".drag-canvas-position").inner_text())
        return int(x), int(y)

    async def shown_positions(self) -> set[Position]:
        texts = await self.page.get_by_text(POSITION).all_inner_texts()
        return {(int(m[1]), int(m[2])) for m in map(POSITION.search, texts) if m}


class BrowserSession(Session):
    """A page in its own browser context: a student's own session."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.page_errors: list[str] = []
        self.closed_sockets = 0
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("websocket", self._watch)

    def _watch(self, socket: WebSocket) -> None:
        def closed(_: WebSocket) -> None:
            self.closed_sockets += 1

        if socket.url.endswith("/_stcore/stream"):  # the session's own, not the drag route's
            socket.on("close", closed)

    def canvas(self) -> Canvas:
        return BrowserCanvas(self.page)

    async def answers(self) -> bool:
        await self.page.locator(".drag-canvas canvas").press("ArrowDown")
        try:
            await self.page.get_by_text(f"object at x = {CANVAS // 2}, y = {CANVAS // 2 + 1}").first.wait_for(
                timeout=ANSWER_TIMEOUT_S * 1000
            )
        except PlaywrightTimeout:
            return False
        return True

    async def errors(self) -> Counter[str]:
        return Counter(
            {
                "page errors": len(self.page_errors),
                "Streamlit exception elements": await self.page.get_by_test_id("stException").count(),
                "closed websockets (disconnected sessions)": self.closed_sockets,
            }
        )

    def error_messages(self) -> list[str]:
        return self.page_errors


class Browsers:
    """Browser mode: every session a page of one headless Chromium."""

    name = "browser"
    latency = "sent → acked"
    cpu = "the pages' Chromium and Playwright"
    others = "other users, this script"
    playwright: Playwright
    browser: Browser

    async def __aenter__(self) -> Browsers:
        self.playwright = await async_playwright().start()
        self.browser = await self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.browser.close()
        await self.playwright.stop()

    async def open(self, url: str, query: str = "") -> Session:
        """A new browser context and page (the link's `query`: "model=resnet18"), loaded up to the first plots."""
        start = time.monotonic()
        page = await (await self.browser.new_context(viewport={"width": 1600, "height": 1000})).new_page()
        session = BrowserSession(page)
        await page.goto(f"{url}/?{query}" if query else url, wait_until="commit", timeout=LOAD_TIMEOUT_S * 1000)
        for shown in (
            page.get_by_text(f"object at x = {CANVAS // 2}, y = {CANVAS // 2}"),
            page.locator(".drag-canvas"),
        ):
            await shown.first.wait_for(timeout=LOAD_TIMEOUT_S * 1000)  # the canvas comes last, after every plot
        session.load_s = time.monotonic() - start
        return session

    def cpu_seconds(self, server: int) -> float:
        return browsers_cpu_seconds(server)


# --- Protocol mode ----------------------------------------------------------------------------


def canvas_element(client: StreamlitClient) -> Delta | None:
    """The drag canvas's element on the client's page, if it is there yet."""
    return next(
        (
            d
            for _, d in client.find("bidi_component")
            if d.new_element.bidi_component.component_name == CANVAS_COMPONENT
        ),
        None,
    )


def shown_positions(client: StreamlitClient) -> list[Position]:
    """The positions the model columns' captions show on the client's page, in page order (each caption is in
    its column's one HTML element, with the maps)."""
    matches = (POSITION.search(d.new_element.html.body) for _, d in client.find("html"))
    return [(int(m[1]), int(m[2])) for m in matches if m]


def to_pixel(v: float) -> int:
    """drag_canvas.js's clamp: Math.round into the canvas."""
    return min(CANVAS - 1, max(0, math.floor(v + 0.5)))


class ProtocolCanvas(Canvas):
    """drag_canvas.js's side of the drag, in Python. The canvas sends the newest position only once the previous
    one is answered, or ACK_TIMEOUT_S passed; positions that pile up meanwhile are dropped. While the mouse button
    is down, each position goes to the drag route (ui/drag_route.py) over a websocket of its own, and its answer is
    the update; at a rest (or if the route refuses) it is the component's state {"pos": {x, y, seq, dragging}},
    sent with a rerun of its fragment, and acknowledged by its seq coming back as `ack` in the component's data.
    With `route=False`, every position goes through Streamlit, as a drag the route refused does."""

    def __init__(self, client: StreamlitClient, element: Delta, route: bool = True) -> None:
        self.client = client
        data = json.loads(element.new_element.bidi_component.json)
        self.x, self.y, self.seq = data["x"], data["y"], data.get("ack", 0)
        self.use_route = route
        self.route: dict[str, str] | None = data.get("route")
        self.route_socket: ClientConnection | None = None
        self.widget_id, self.fragment_id = element.new_element.bidi_component.id, element.fragment_id
        self.dragging = False
        self.inflight: int | None = None
        self.counts = CanvasStats()
        self.drawn_positions = 0
        self.shown = shown_positions(client)[0]
        self.sent_at: dict[Position, float] = {}  # when each position was last sent, until it is shown
        self.pending = asyncio.Event()  # a position waits to be sent
        self.acked = asyncio.Event()
        client.listeners.append(self._see)
        self.sender = asyncio.create_task(self._send_newest())

    def _see(self, _: ElementPath, delta: Delta) -> None:
        """Each element the server draws: the canvas's data may carry the ack; a caption a new position."""
        element = delta.new_element
        if element.WhichOneof("type") == "bidi_component" and element.bidi_component.component_name == CANVAS_COMPONENT:
            self.widget_id, self.fragment_id = element.bidi_component.id, delta.fragment_id
            data = json.loads(element.bidi_component.json)
            self.route = data.get("route")
            if self.inflight is not None and data["ack"] >= self.inflight:
                self.counts.acked += 1
                self.inflight = None
                self.acked.set()
            if not self.dragging and self.inflight is None and not self.pending.is_set():
                self.x, self.y = data["x"], data["y"]  # when idle, Python's position is the truth
        elif element.WhichOneof("type") == "html" and POSITION.search(element.html.body):
            self._shows(shown_positions(self.client)[0])

    def _shows(self, shown: Position) -> None:
        """The model columns now show `shown`: a new position drawn, and the latency of its update."""
        if shown != self.shown:
            self.shown = shown
            self.drawn_positions += 1
            if (sent := self.sent_at.pop(shown, None)) is not None:
                self.counts.latencies_ms.append((time.monotonic() - sent) * 1000)

    async def _send_newest(self) -> None:
        """Send the newest position whenever one waits and none is in flight."""
        while True:
            await self.pending.wait()
            self.pending.clear()
            self.seq += 1
            self.inflight = self.seq
            self.counts.sent += 1
            self.sent_at[(self.x, self.y)] = time.monotonic()
            self.acked.clear()
            if self.dragging and self.use_route and self.route and await self._ask_route():
                continue
            pos = {"x": self.x, "y": self.y, "seq": self.seq, "dragging": self.dragging}
            await self.client.send_json_value(self.widget_id, {"pos": pos}, self.fragment_id)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.acked.wait(), ACK_TIMEOUT_S)
            self.inflight = None

    async def _ask_route(self) -> bool:
        """Send the position to the drag route and take its answer as the update; False if the route refused (the
        rest of this drag then goes through Streamlit, as drag_canvas.js does)."""
        assert self.route is not None
        try:
            if self.route_socket is None:
                self.route_socket = await self.client.open_socket(self.route["path"])
            asked = {"session": self.route["session"], "token": self.route["token"], "x": self.x, "y": self.y}
            await self.route_socket.send(json.dumps(asked))
            answer = json.loads(await asyncio.wait_for(self.route_socket.recv(), ROUTE_TIMEOUT_S))
        except (ConnectionClosed, OSError, TimeoutError) as failure:
            answer = {"error": repr(failure)}
        self.inflight = None
        if "error" in answer:
            self.route, self.route_socket = None, None
            return False
        self.counts.acked += 1
        shown = next(m for m in map(POSITION.search, answer["columns"].values()) if m)
        self._shows((int(shown[1]), int(shown[2])))
        return True

    async def press(self, x: float, y: float) -> None:
        self.dragging = True
        self.counts = CanvasStats()
        self.drawn_positions = 0
        await self.move(x, y)

    async def move(self, x: float, y: float) -> None:
        """Move the object there; a new pixel is sent, now or once nothing is in flight."""
        if (to_pixel(x), to_pixel(y)) != (self.x, self.y):
            self.x, self.y = to_pixel(x), to_pixel(y)
            self.pending.set()

    async def release(self) -> None:
        """The final position always goes out, with dragging: false."""
        self.dragging = False
        self.pending.set()

    async def drawn(self) -> int:
        return self.drawn_positions

    async def stats(self) -> CanvasStats:
        return replace(self.counts, latencies_ms=list(self.counts.latencies_ms))

    async def position(self) -> Position:
        return self.x, self.y

    async def shown_positions(self) -> set[Position]:
        return set(shown_positions(self.client))


class ProtocolSession(Session):
    """A protocol client: a student's session without the page drawn."""

    def __init__(self, client: StreamlitClient, element: Delta) -> None:
        self.client = client
        self.drag_canvas = ProtocolCanvas(client, element)

    def canvas(self) -> Canvas:
        return self.drag_canvas

    async def answers(self) -> bool:
        x, y = await self.drag_canvas.position()
        await self.drag_canvas.move(x, y + 1)  # what the ArrowDown key does
        return await self.client.wait_until(lambda: (x, y + 1) in shown_positions(self.client), ANSWER_TIMEOUT_S)

    async def errors(self) -> Counter[str]:
        return Counter(
            {
                "messages the client could not read": len(self.client.protocol_errors),
                "Streamlit exception elements": len(self.client.exceptions),
                "closed websockets (disconnected sessions)": int(self.client.disconnected),
            }
        )

    def error_messages(self) -> list[str]:
        return self.client.protocol_errors + self.client.exceptions

    async def vote(self, choice: int) -> float | None:
        """Answer the lesson's class question with its choice number `choice`, as a click on the radio does; the
        seconds until the page says the store has taken it, None if it never does (a refused answer is taken back)."""
        _, radio = next(self.client.find("radio"))
        label = radio.new_element.radio.options[choice]
        sent = time.monotonic()
        await self.client.rerun([WidgetState(id=radio.new_element.radio.id, string_value=label)], radio.fragment_id)

        def taken() -> bool:
            captions = (delta.new_element.markdown.body for _, delta in self.client.find("markdown"))
            return any(taken_words(label) in caption for caption in captions)

        return time.monotonic() - sent if await self.client.wait_until(taken, VOTE_TIMEOUT_S) else None

    async def close(self) -> None:
        self.drag_canvas.sender.cancel()
        await self.client.close()


class ProtocolClients:
    """Protocol mode: every session a StreamlitClient in this process."""

    name = "protocol"
    latency = "sent → shown"
    cpu = "the protocol clients (this process)"
    others = "other users"

    def __init__(self) -> None:
        self.sessions: list[ProtocolSession] = []

    async def __aenter__(self) -> ProtocolClients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(session.close() for session in self.sessions))

    async def open(self, url: str, query: str = "", question: bool = False) -> ProtocolSession:
        """Connect and run the page (the link's `query`: "model=resnet18"), up to the canvas (which comes last,
        after every plot), and the class question if `question`."""
        start = time.monotonic()
        client = StreamlitClient(url, query)
        await client.connect()

        def loaded() -> bool:
            shown = shown_positions(client) and canvas_element(client) is not None
            return bool(shown) and (not question or next(client.find("radio"), None) is not None)

        if not await client.wait_until(loaded, LOAD_TIMEOUT_S):
            raise TimeoutError(f"no canvas{' or question' if question else ''} on the page after {LOAD_TIMEOUT_S} s")
        session = ProtocolSession(client, canvas_element(client))
        session.load_s = time.monotonic() - start
        self.sessions.append(session)
        return session

    def cpu_seconds(self, server: int) -> float:
        return cpu_seconds(psutil.Process())


CLIENTS: dict[str, Callable[[], Clients]] = {"browser": Browsers, "protocol": ProtocolClients}


# --- Measuring --------------------------------------------------------------------------------


def server_pid(url: str) -> int:
    """The pid of the streamlit server running_app started for `url` (a child of this process)."""
    port = url.rsplit(":", 1)[1]
    for child in psutil.Process().children():
        cmdline = " ".join(child.cmdline())
        if "streamlit" in cmdline and f"--server.port={port}" in cmdline:
            return child.pid
    raise RuntimeError(f"no server process for {url}")


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU time of a process, its children's not included."""
    times = process.cpu_times()
    return times.user + times.system


def main_thread_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process's main thread (the thread whose id is the pid)."""
    thread = next(t for t in psutil.Process(pid).threads() if t.id == pid)
    return thread.user_time + thread.system_time


def browser_processes(server: int) -> list[psutil.Process]:
    """Every living descendant of this process outside the server's tree: Playwright's driver and Chromium."""
    servers = {server, *(p.pid for p in psutil.Process(server).children(recursive=True))}
    return [p for p in psutil.Process().children(recursive=True) if p.pid not in servers]


def browsers_cpu_seconds(server: int) -> float:
    total = 0.0
    for process in browser_processes(server):
        try:
            total += cpu_seconds(process)
        except psutil.NoSuchProcess:  # exited meanwhile
            continue
    return total


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine since boot, summed over its cores."""
    times = psutil.cpu_times()
    total = sum(times)
    return total - times.idle - times.iowait, total


def rss_mb(pid: int) -> float:
    """The process's resident memory (VmRSS) in MB."""
    return psutil.Process(pid).memory_info().rss / 2**20


def unexpected_tracebacks(log: str) -> int:
    """The log records with a traceback, but for those of pretrained weights that could not be downloaded here
    (expected offline: the app says so in the model's column)."""
    records = re.split(r"^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", log, flags=re.MULTILINE)
    return sum(1 for r in records if "Traceback" in r and "No pretrained weights for" not in r)


def last_release(log: str) -> str:
    """The app's last line about releasing shared models, from "Released" on."""
    lines = [line[line.index("Released ") :] for line in log.splitlines() if "Released " in line]
    return lines[-1] if lines else ""


def server_log(pid: int) -> str:
    """What the server has written to its stdout and stderr. running_app sends them to an anonymous
    temporary file that nothing outside it names (psutil's open_files() leaves deleted files out),
    so it is read through the server's own stdout in /proc."""
    return Path(f"/proc/{pid}/fd/1").read_text(errors="replace")


async def sample_server(pids: list[int], clients: Clients, samples: list[Sample], start: float) -> None:
    """Append a Sample every second until cancelled."""
    busy, total = machine_cpu_seconds()
    while True:
        new_busy, new_total = machine_cpu_seconds()
        samples.append(
            Sample(
                t=time.monotonic() - start,
                rss_mb=sum(each := tuple(rss_mb(pid) for pid in pids)),
                rss_each_mb=each,
                cpu_s=sum(cpu_seconds(psutil.Process(pid)) for pid in pids),
                main_thread_cpu_s=sum(main_thread_cpu_seconds(pid) for pid in pids),
                clients_cpu_s=clients.cpu_seconds(pids[0]),
                machine_busy=(new_busy - busy) / (new_total - total) if new_total > total else 0.0,
            )
        )
        busy, total = new_busy, new_total
        await asyncio.sleep(1)


async def drag(canvas: Canvas, phase: float, seconds: float) -> Drag:
    """Drag back and forth across the canvas for `seconds` (80 px either side of the centre,
    4 s a round), then release and watch the page settle on the final position."""

    def x_at(t: float) -> float:
        u = (t / 4 + phase) % 1  # a triangle wave: 32 -> 192 -> 32 px every 4 s
        return CANVAS // 2 + 80 * (4 * u - 1 if u < 0.5 else 3 - 4 * u)

    await canvas.press(x_at(0), 112)
    start = time.monotonic()
    moves, drawn_each_second, next_tick = 0, [], 0.0
    while (elapsed := time.monotonic() - start) < seconds:
        await canvas.move(x_at(elapsed), 112)
        moves += 1
        if elapsed >= next_tick:
            drawn_each_second.append(await canvas.drawn())
            next_tick += 1
        await asyncio.sleep(MOVE_INTERVAL_S)
    stats = await canvas.stats()
    drawn = await canvas.drawn()
    await canvas.release()
    released = time.monotonic()
    final = await canvas.position()
    while await canvas.shown_positions() != {final} and time.monotonic() - released < SETTLE_TIMEOUT_S:
        await asyncio.sleep(0.05)
    settle_s = time.monotonic() - released
    settled = await canvas.drawn()
    await asyncio.sleep(QUIET_S)
    quiet = await canvas.stats()
    windows = [b - a for a, b in zip(drawn_each_second, [*drawn_each_second, drawn][WINDOW_S:], strict=False)]
    return Drag(
        moves=moves,
        sent=stats.sent,
        acked=stats.acked,
        drawn=drawn,
        unanswered=quiet.sent - quiet.acked,
        latencies_ms=stats.latencies_ms,
        worst_window_updates_per_s=min(windows, default=0) / WINDOW_S,
        settle_s=settle_s,
        drawn_after_release=settled - drawn,
        late_updates=await canvas.drawn() - settled,
    )


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else float("nan")


def rss_at_each(samples: list[Sample], t: float) -> tuple[float, ...]:
    """Each replica's memory in the first sample taken at or after time t."""
    return next((s.rss_each_mb for s in samples if s.t >= t), samples[-1].rss_each_mb)


def rss_at(samples: list[Sample], t: float) -> float:
    """The first memory sample taken at or after time t."""
    return next((s.rss_mb for s in samples if s.t >= t), samples[-1].rss_mb)


def cpu_between(samples: list[Sample], t0: float, t1: float) -> tuple[float, float, float, float]:
    """Mean cores used by the server, its main thread and the clients, and the machine's busy
    share, in [t0, t1]."""
    inside = [s for s in samples if t0 <= s.t <= t1]
    first, last = inside[0], inside[-1]
    span = last.t - first.t
    return (
        (last.cpu_s - first.cpu_s) / span,
        (last.main_thread_cpu_s - first.main_thread_cpu_s) / span,
        (last.clients_cpu_s - first.clients_cpu_s) / span,
        statistics.mean(s.machine_busy for s in inside[1:]),
    )


def split_cores(server: int) -> None:
    """Pin the server to core 0 and this process, with the browsers it is about to start, to the
    others: the server alone on one core, as if the students' browsers ran on their own machines."""
    for thread in psutil.Process(server).threads():  # threads started later inherit from these
        os.sched_setaffinity(thread.id, {0})
    os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)))


@dataclass(frozen=True)
class Voting:
    """What the voters did: each one's last answer, and the seconds until the page showed each answer taken
    (None: never)."""

    last: list[int]
    latencies_s: list[float | None]


async def vote_twice(session: ProtocolSession, n: int, delay_s: float) -> tuple[int, list[float | None]]:
    """After `delay_s`, answer with a choice, then change it to another CHANGE_AFTER_S later; the last answer."""
    await asyncio.sleep(delay_s)
    first, last = n % 5, (n + 2) % 5
    taken = [await session.vote(first)]
    await asyncio.sleep(CHANGE_AFTER_S)
    taken.append(await session.vote(last))
    return last, taken


async def run(
    url: str,
    pids: list[int],
    clients: Clients,
    sessions_count: int,
    seconds: float,
    split: bool,
    models: tuple[str, ...] = (),
    dragging: int = DRAGGING,
    voters: int = 0,
    classroom: Classroom | None = None,
) -> None:
    """Open the sessions (the idle ones on `models` in turn, if any; `voters` of them in a class of `classroom`),
    drag in some while the voters answer, check all of them, then print the report."""
    if split:
        split_cores(pids[0])
        print("The server runs on core 0 alone; the clients on the other cores.", flush=True)
    dragging = min(dragging, sessions_count)
    voters = min(voters, sessions_count - dragging)
    code = classroom.start_class() if voters and classroom is not None else None
    samples: list[Sample] = []
    t0 = time.monotonic()
    sampler = asyncio.create_task(sample_server(pids, clients, samples, t0))
    async with clients:
        print(f"Opening {sessions_count} sessions at once…", flush=True)
        dragging_sessions = [clients.open(url) for _ in range(dragging)]
        voting = [clients.open(url, f"lesson={VOTE_LESSON}&class={code}", question=True) for _ in range(voters)]
        idle = [
            clients.open(url, f"model={models[n % len(models)]}" if models else "")
            for n in range(sessions_count - dragging - voters)
        ]
        sessions = await asyncio.gather(*dragging_sessions, *voting, *idle)
        drag_start = time.monotonic() - t0
        print(f"Dragging in {dragging} of them for {seconds:g} s, {voters} answering…", flush=True)
        drags, votes = await asyncio.gather(
            asyncio.gather(*(drag(s.canvas(), i / dragging, seconds) for i, s in enumerate(sessions[:dragging]))),
            asyncio.gather(
                *(
                    vote_twice(s, n, n / max(voters, 1) * seconds / 2)
                    for n, s in enumerate(sessions[dragging : dragging + voters])
                )
            ),
        )
        drag_end = time.monotonic() - t0
        answers = await asyncio.gather(*(s.answers() for s in sessions[dragging:]))
        errors: Counter[str] = Counter()
        for session in sessions:
            errors.update(await session.errors())  # update, unlike +, keeps the zero counts
    await asyncio.sleep(1)
    sampler.cancel()
    log = "".join(server_log(pid) for pid in pids)
    errors["tracebacks in the server log"] = unexpected_tracebacks(log)
    errors["idle sessions not answering a key press afterwards"] = answers.count(False)
    report(clients, sessions, drags, errors, samples, drag_start, drag_end, seconds)
    if len(pids) > 1:
        loaded = rss_at_each(samples, drag_start)
        peak = [max(s.rss_each_mb[n] for s in samples) for n in range(len(pids))]
        print(
            f"Behind the proxy, {len(pids)} replicas: VmRSS with the sessions loaded "
            f"{', '.join(f'{mb:.0f}' for mb in loaded)} MB, peak {', '.join(f'{mb:.0f}' for mb in peak)} MB."
        )
    if code is not None:
        voting_report(Voting([last for last, _ in votes], [t for _, taken in votes for t in taken]), classroom, code)
    if models:
        budget = os.environ.get(MODEL_MEMORY_ENV) or DEFAULT_MODEL_MEMORY_MB
        print(
            f"\nThe idle sessions opened {len(models)} architectures in turn ({', '.join(models)}); the app released "
            f"shared models {log.count('Released ')} times to stay within {budget} MB (its last words on it: "
            f"{last_release(log) or 'none'})."
        )


def report(
    clients: Clients,
    sessions: list[Session],
    drags: list[Drag],
    errors: Counter[str],
    samples: list[Sample],
    drag_start: float,
    drag_end: float,
    seconds: float,
) -> None:
    """Print the tables and the verdict on each target."""
    load_times = sorted(s.load_s for s in sessions)
    print(
        f"\n{len(sessions)} sessions ({clients.name} clients) opened at once, loaded (canvas on the page) after "
        f"{load_times[0]:.0f} s (first), {statistics.median(load_times):.0f} s (median), {load_times[-1]:.0f} s "
        "(last).\n"
    )
    print(
        f"| dragging session | updates/s drawn (worst {WINDOW_S} s) | acks within 1 s, per s "
        f"| latency {clients.latency} p50 / p95 (ms) | mouse moves | positions sent | unanswered in 1 s "
        f"| settled after release (s) | positions shown until then | positions shown in the {QUIET_S:g} s after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for i, d in enumerate(drags, start=1):
        print(
            f"| {i} | {d.drawn / seconds:.2f} ({d.worst_window_updates_per_s:.1f}) | {d.acked / seconds:.2f} "
            f"| {percentile(d.latencies_ms, 50):.0f} / {percentile(d.latencies_ms, 95):.0f} | {d.moves} | {d.sent} "
            f"| {d.unanswered} | {d.settle_s:.2f} | {d.drawn_after_release} | {d.late_updates} |"
        )
    print("\n| errors | count |\n|---|---|")
    for name, count in errors.items():
        print(f"| {name} | {count} |")
    if messages := sorted({message for session in sessions for message in session.error_messages()}):
        print("Their words (distinct, at most 5):\n" + "\n".join(f"- {m[:300]}" for m in messages[:5]))

    during = [rss_at(samples, drag_start + t) for t in range(0, int(seconds) + 1, 10)]
    print(f"\n| server memory, VmRSS (MB) | before any session | {len(sessions)} sessions loaded | peak | end |")
    print("|---|---|---|---|---|")
    print(
        f"| | {samples[0].rss_mb:.0f} | {rss_at(samples, drag_start):.0f} | {max(s.rss_mb for s in samples):.0f} "
        f"| {samples[-1].rss_mb:.0f} |"
    )
    print(f"During the drag, every 10 s: {', '.join(f'{mb:.0f}' for mb in during)} MB.")
    server, main_thread, clients_cpu, machine = cpu_between(samples, drag_start, drag_end)
    others = machine * os.cpu_count() - server - clients_cpu
    print(
        f"CPU during the drag, in cores of {os.cpu_count()}: server {server:.2f} (of which its main thread, the "
        f"websockets' event loop, {main_thread:.2f}); {clients.cpu} {clients_cpu:.2f}; everything else "
        f"({clients.others}) {others:.2f}; the machine {machine:.0%} busy."
    )
    updates = sum(d.drawn + d.drawn_after_release for d in drags)
    print(
        f"Server CPU per update drawn: {server * (drag_end - drag_start) / max(updates, 1) * 1000:.0f} ms; "
        f"client CPU per update drawn: {clients_cpu * (drag_end - drag_start) / max(updates, 1) * 1000:.0f} ms "
        f"({updates} updates)."
    )
    half = drag_start + seconds / 2
    first_peak = max(s.rss_mb for s in samples if drag_start <= s.t < half)
    second_half_growth = max(s.rss_mb for s in samples if half <= s.t <= drag_end) - first_peak
    slowest = min(d.drawn / seconds for d in drags)
    verdicts = {
        "no errors": not any(errors.values()),
        f"≥ {TARGET_UPDATES_PER_S:g} updates/s drawn in every dragging session (slowest {slowest:.2f})": slowest
        >= TARGET_UPDATES_PER_S,
        f"memory bounded (peak of the drag's second half against its first: {second_half_growth:+.0f} MB, "
        f"limit {MEMORY_GROWTH_MB})": (second_half_growth < MEMORY_GROWTH_MB),
    }
    print("\nTargets: " + "; ".join(f"{name}: {'met' if ok else 'NOT MET'}" for name, ok in verdicts.items()))


def voting_report(voting: Voting, classroom: Classroom, code: str) -> None:
    """Did the store count every voter once, with its last answer? And how soon did each page show an answer taken?"""
    counted, expected = classroom.counts(code, VOTE_LESSON), Counter(voting.last)
    shown = [t * 1000 for t in voting.latencies_s if t is not None]
    print(
        f"\nClass {code}: {len(voting.last)} sessions answered the {VOTE_LESSON} question during the drag, each "
        f"changing its answer once after {CHANGE_AFTER_S:g} s ({len(voting.latencies_s)} answers sent). The store "
        f"counts {sum(counted.values())} answers {dict(sorted(counted.items()))}; the sessions' last answers were "
        f"{dict(sorted(expected.items()))}. Answers never shown as taken: {voting.latencies_s.count(None)}. "
        f"From sending an answer to the page showing it taken: p50 {percentile(shown, 50):.0f} ms, "
        f"p95 {percentile(shown, 95):.0f} ms."
    )
    ok = counted == expected and voting.latencies_s.count(None) == 0
    print(f"Target: every vote counted once, with its last answer: {'met' if ok else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--clients", choices=CLIENTS, default="browser", help="pages in Chromium, or protocol clients")
    parser.add_argument("--seconds", type=float, default=DRAG_SECONDS, help="how long to drag (at least 10)")
    parser.add_argument("--sessions", type=int, default=SESSIONS, help="sessions to open")
    parser.add_argument("--dragging", type=int, default=DRAGGING, help="how many of the sessions drag")
    parser.add_argument("--voters", type=int, default=0, help="how many of the others answer a class question")
    parser.add_argument("--replicas", type=int, default=0, help="through HAProxy to this many replicas (a school)")
    parser.add_argument("--split-cores", action="store_true", help="the server alone on core 0, the clients elsewhere")
    parser.add_argument("--models", nargs="*", metavar="MODEL", help="the idle sessions open these in turn")
    parser.add_argument("--model-memory", type=float, metavar="MB", help="the app's budget for shared models")
    args = parser.parse_args()
    if unknown := [name for name in args.models or () if name not in REGISTRY]:
        parser.error(f"unknown model {', '.join(unknown)}; choose from {', '.join(REGISTRY)}")
    if args.model_memory:
        os.environ[MODEL_MEMORY_ENV] = f"{args.model_memory:g}"
    if args.seconds < WINDOW_S:
        parser.error(f"--seconds must be at least {WINDOW_S}, the window of the worst stretch")
    if (args.voters or args.replicas) and args.clients != "protocol":
        parser.error("--voters and --replicas need --clients protocol")
    if WEIGHTS_DIR_ENV not in os.environ:
        os.environ.update(app_env())
    data = Path(os.environ.setdefault(DATA_DIR_ENV, tempfile.mkdtemp(prefix="shiftlab-load-test-")))
    load = [f"{average:.2f}" for average in os.getloadavg()]
    print(
        f"Shift Lab load test, {datetime.now():%Y-%m-%d %H:%M}, {platform.node()}: {os.cpu_count()} cores, "
        f"load average before the run {' '.join(load)}; {args.sessions} sessions, {min(args.dragging, args.sessions)} "
        f"dragging for {args.seconds:g} s, {args.voters} voting; {args.clients} clients"
    )
    models, clients, split = tuple(args.models or ()), CLIENTS[args.clients](), args.split_cores
    with ExitStack() as stack:
        if args.replicas:
            database = stack.enter_context(running_postgres())
            url, replicas = stack.enter_context(running_school(args.replicas, database_url=database))
            pids = [process.pid for process in replicas.values()]
        else:
            url, database = stack.enter_context(running_app(timeout_s=120)), os.environ.get(DATABASE_URL_ENV)
            pids = [server_pid(url)]
        classroom = Classroom(open_store(database, data))  # the store the server opens too
        asyncio.run(
            run(url, pids, clients, args.sessions, args.seconds, split, models, args.dragging, args.voters, classroom)
        )


if __name__ == "__main__":
    main()
