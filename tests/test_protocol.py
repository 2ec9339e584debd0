"""The app over Streamlit's own websocket protocol, without a browser (benchmarks.streamlit_client,
the load test's client, which keeps Streamlit's frontend's message cache by the same rules): a drag
is answered position by position, and no element is ever sent as a reference to one the page may
have dropped (see .streamlit/config.toml, minCachedMessageSize).

The client asks for the next run as soon as the canvas's ack arrives, before the run's end, as the
page can. With Streamlit's default setting, a drag round and round three positions then gets a
reference to an element the page has just dropped: the first test shows it, so that the second,
with the app's setting, shows the setting is what avoids it.
"""

from __future__ import annotations

import asyncio

from benchmarks.load_test import ProtocolCanvas, canvas_element, shown_positions
from benchmarks.streamlit_client import StreamlitClient
from tests.conftest import app_env
from tests.live_server import running_app

STREAMLIT_DEFAULT_CACHE = {"STREAMLIT_GLOBAL_MIN_CACHED_MESSAGE_SIZE": "10000"}  # bytes, Streamlit's default
# Round and round three positions: each comes back three runs after it was drawn, as the page drops it.
ROUNDS = [(100, 112), (120, 112), (140, 112)] * 4
TIMEOUT_S = 60


async def open_client(url: str) -> tuple[StreamlitClient, ProtocolCanvas]:
    """A session with its first run drawn, and its drag canvas."""
    client = StreamlitClient(url)
    await client.connect()
    assert await client.wait_until(lambda: canvas_element(client) is not None, TIMEOUT_S), "no canvas"
    return client, ProtocolCanvas(client, canvas_element(client))


async def drag_in_rounds(url: str) -> tuple[StreamlitClient, StreamlitClient, list[bool]]:
    """One session drags round and round, each position sent as soon as the previous one is
    answered, as the canvas does; another sits idle. Returns both clients and, for each position,
    whether the dragging session's model columns showed it."""
    (dragging, canvas), (idle, _) = await asyncio.gather(open_client(url), open_client(url))
    try:
        shown = []
        await canvas.press(*ROUNDS[0])
        for position in ROUNDS:
            await canvas.move(*position)
            shown.append(await dragging.wait_until(lambda p=position: set(shown_positions(dragging)) == {p}, 15))
        await canvas.release()
        return dragging, idle, shown
    finally:
        canvas.sender.cancel()
        await asyncio.gather(dragging.close(), idle.close())


def test_streamlit_default_message_cache_breaks_a_drag_in_rounds() -> None:
    with running_app(app_env() | STREAMLIT_DEFAULT_CACHE, timeout_s=TIMEOUT_S) as url:
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
