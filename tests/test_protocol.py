"""The app over Streamlit's own websocket protocol, without a browser (benchmarks.streamlit_client,
the load test's client, which keeps Streamlit's frontend's message cache by the same rules): a drag
is answered position by position, and no element is ever sent as a reference to one the page may
have dropped (see .streamlit/config.toml, minCachedMessageSize).

A page that asks for its next run before it has handled the end of the current one (LatePage)
and drags round and round three positions gets, with Streamlit's message cache on, a reference to
an element it has just dropped: the first test shows it, so that the second, with the app's
setting, shows the setting is what avoids it.
"""

from __future__ import annotations

import asyncio

from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.load_test import ProtocolCanvas, canvas_element, shown_positions
from benchmarks.streamlit_client import StreamlitClient
from tests.conftest import app_env
from tests.live_server import running_app

# Streamlit's message cache on for every element of 100 bytes or more. The model columns never repeat (each is marked
# with the browser's last position number), but the live region's sentence and the position boxes do, round and
# round, and on a machine without weights they are far under the cache's default of 10 kB; the mechanism is the
# same at any size.
STREAMLIT_CACHE_ON = {"STREAMLIT_GLOBAL_MIN_CACHED_MESSAGE_SIZE": "100"}
# Round and round three positions: each comes back three runs after it was drawn, as the page drops it.
ROUNDS = [(100, 112), (120, 112), (140, 112)] * 4
TIMEOUT_S = 60


class LatePage(StreamlitClient):
    """A page that handles the end of a run only after it has asked for the next one, as the drag
    canvas can when it asks as soon as its ack arrives: the cached elements it lists with its
    request include those that the run's end then drops."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.ended: list[set[str]] = []  # the fragments of each run that ended, not yet handled

    def _expire_cache(self, fragment_ids: set[str]) -> None:
        self.ended.append(fragment_ids)

    async def rerun(self, widgets: list[WidgetState] | None = None, fragment_id: str = "") -> None:
        await super().rerun(widgets, fragment_id)
        for fragment_ids in self.ended:
            super()._expire_cache(fragment_ids)
        self.ended.clear()


async def open_page(url: str) -> tuple[LatePage, ProtocolCanvas]:
    """A session with its first run drawn, and its drag canvas, which drags through runs of the page (as it does
    when the drag route refuses): the runs are what this module tests."""
    page = LatePage(url)
    await page.connect()
    assert await page.wait_until(lambda: canvas_element(page) is not None, TIMEOUT_S), "no canvas"
    return page, ProtocolCanvas(page, canvas_element(page), route=False)


async def drag_in_rounds(url: str) -> tuple[LatePage, LatePage, list[bool]]:
    """One session drags round and round, each position sent once the previous one's run has
    ended; another sits idle. Returns both pages and, for each position, whether the dragging
    page's model columns showed it."""
    (dragging, canvas), (idle, _) = await asyncio.gather(open_page(url), open_page(url))
    try:
        shown = []
        await canvas.press(*ROUNDS[0])
        for position in ROUNDS:
            await canvas.move(*position)
            shown.append(
                await dragging.wait_until(
                    lambda p=position: set(shown_positions(dragging)) == {p} and bool(dragging.ended), 15
                )
            )
        await canvas.release()
        return dragging, idle, shown
    finally:
        canvas.sender.cancel()
        await asyncio.gather(dragging.close(), idle.close())


def test_streamlit_message_cache_breaks_a_drag_in_rounds() -> None:
    with running_app(app_env() | STREAMLIT_CACHE_ON, timeout_s=TIMEOUT_S) as url:
        dragging, _, _ = asyncio.run(drag_in_rounds(url))
    assert dragging.references > 0
    assert any("cached message missing" in error for error in dragging.protocol_errors)


def test_app_sends_every_element_whole_so_a_drag_in_rounds_is_answered() -> None:
    with running_app(app_env(), timeout_s=TIMEOUT_S) as url:
        dragging, idle, shown = asyncio.run(drag_in_rounds(url))
    assert all(shown), f"positions not shown: {[p for p, ok in zip(ROUNDS, shown, strict=True) if not ok]}"
    assert (dragging.references, dragging.protocol_errors, dragging.exceptions) == (0, [], [])
    assert not dragging.disconnected
    assert set(shown_positions(idle)) == {(112, 112)}  # the other session never saw this drag
