"""Drag updates outside Streamlit's run cycle: while the mouse button is down, the drag canvas sends each
position over a WebSocket of its own to this route and swaps the answer (each model's column, the live
region's sentence) into the page itself; Streamlit runs the page only when the object comes to rest.

Why: each Streamlit run costs the browser 75–150 ms of script per update whatever it redraws (measured: its
styling library, React and its markdown), which kept a drag near 5 updates/s; an answer from here costs it
a few ms. A WebSocket rather than a POST per position: uvicorn writes an HTTP response's headers and body
apart, and on its sockets (no TCP_NODELAY) the body then waits for the browser's delayed ACK, 40 ms per
update (measured: headers at 42 ms, body 42 ms later); one message each way has nothing to wait for.

The update is the live view's own (ui.live_update), from the LiveScene the session's last run left in its
state, so what a drag shows here is what a run would have drawn. Every message proves it speaks for the
session with the session's id and drag token (ui.state.drag_route_key); one that does not gets an error
and the socket closes, which the canvas takes as "send this drag to Streamlit instead".
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from scene import clamp_position
from ui.state import live_scene_of

if TYPE_CHECKING:
    from ui.live_update import LiveScene

PATH = "/api/drag"
POLICY_VIOLATION = 1008  # the WebSocket close code for a message the route refuses
MAX_MESSAGE_CHARS = 1024

logger = logging.getLogger(__name__)


class Refused(Exception):
    """A message the route cannot answer, with why in plain words."""


def drag_routes(workers: int = 1) -> list[WebSocketRoute]:
    """The drag route, its updates computed by `workers` threads of its own for as long as the app runs. Its own,
    not the server's shared pool: spread over the server's forty threads, each update found the memory its thread
    had freed cold (measured, 20 sessions with 4 dragging: 44 against 33 ms of server CPU per update). One by
    default: each update already runs its models on both cores, and with two at once the server's memory rose by
    80–180 MB in passing peaks (the load test's bound is 50) for no more updates per second (20 browser pages on
    the same two cores: 5.8 against 5.2, within the runs' spread; protocol clients: 10.9 against 12.4)."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="drag-update")

    async def drag_socket(websocket: WebSocket) -> None:
        """Answer each message {session, token, x, y} with {x, y, columns: {variant: HTML}, sentence}, in order,
        one at a time; on a message it cannot answer, send {error} and close."""
        # Imported here: its modules declare Streamlit's caches, which ask for the runtime that serve.py's App
        # starts after importing this module (imported first, they log a warning).
        from ui.live_update import update  # noqa: PLC0415

        loop = asyncio.get_running_loop()
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                scene, x, y = asked(message.get("text") or "")
                try:
                    done = await loop.run_in_executor(pool, update, scene, x, y, True)
                except Exception as failure:
                    logger.exception("A drag update failed at (%d, %d)", x, y)
                    raise Refused("The update failed; the page asks the app instead.") from failure
                await websocket.send_json({"x": x, "y": y, "columns": done.columns, "sentence": done.sentence})
        except WebSocketDisconnect:
            return
        except Refused as refusal:
            await websocket.send_json({"error": str(refusal)})
            await websocket.close(POLICY_VIOLATION)

    return [WebSocketRoute(PATH, drag_socket)]


def asked(message: str) -> tuple[LiveScene, int, int]:
    """The session's LiveScene and the position (clamped to its canvas) that `message` asks for."""
    try:
        if len(message) > MAX_MESSAGE_CHARS:
            raise ValueError("too long")
        fields = json.loads(message)
        session, token, x, y = str(fields["session"]), str(fields["token"]), int(fields["x"]), int(fields["y"])
    except (ValueError, KeyError, TypeError, OverflowError) as bad:
        raise Refused("A drag update needs a session, its token and a position.") from bad
    scene = live_scene_of(session, token)
    if scene is None:
        raise Refused("This page's session is not known here; reload the page.")
    x, y = clamp_position(x, y, scene.settings.canvas)
    return scene, x, y
