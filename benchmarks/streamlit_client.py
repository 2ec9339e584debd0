"""A Streamlit session without a browser: speaks the app's own websocket protocol as Streamlit's
frontend does, but renders nothing, so a load test can open many sessions without the browsers
taking the server's cores.

The protocol, as the frontend of Streamlit 1.67 speaks it (web/server/starlette/starlette_websocket.py
and the static frontend): a GET of /_stcore/health sets the XSRF cookie; the websocket
/_stcore/stream is opened with that cookie, an Origin header and the subprotocols ["streamlit",
cookie value]. Each frame the client sends is a BackMsg, here always `rerun_script` with a
ClientState (query string, widget values, page, fragment to rerun, hashes of the messages it has
cached); each frame the server sends is a ForwardMsg: `new_session` when a run starts, `delta`s
that put elements at paths of the page, `page_info_changed` with the URL's new query string,
`script_finished` when the run ends. Large elements the client has cached come as a `ref_hash`.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from http.cookies import SimpleCookie

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Delta_pb2 import Delta
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

XSRF_COOKIE = "_streamlit_xsrf"
NO_XSRF_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends when the server set no cookie

ElementPath = tuple[int, ...]  # where an element is on the page: its ForwardMsg's delta_path


@dataclass
class _Cached:
    """A cacheable message the server may later send by its hash alone, and when it was last used."""

    msg: ForwardMsg
    run: int
    fragment_id: str


class StreamlitClient:
    """One session of a Streamlit app at `url`, followed message by message.

    `elements` is the page as last drawn: every element a delta put there, by its path (elements a
    rerun no longer draws stay; enough to find elements that keep their place). `listeners` are
    called with each element as it arrives, once it is on the page, by the task receiving them.
    """

    def __init__(self, url: str, query_string: str = "") -> None:
        self.url = url
        self.query_string = query_string  # the page URL's query; the app may change it
        self.elements: dict[ElementPath, Delta] = {}
        self.exceptions: list[str] = []  # exception elements and script errors received
        self.protocol_errors: list[str] = []  # messages this client could not make sense of
        self.disconnected = False  # the socket closed without close() being called
        self.references = 0  # messages the server sent by reference to one it believed cached here
        self.listeners: list[Callable[[ElementPath, Delta], None]] = []
        self._page_script_hash = ""  # the page being shown; empty asks for the default page
        self._cache: dict[str, _Cached] = {}
        self._runs = 0  # finished runs, to expire cached messages as the frontend does
        self._max_cached_age = 2
        self._changed = asyncio.Condition()
        self._socket: ClientConnection | None = None
        self._cookie_header: dict[str, str] | None = None  # the cookies of the session, for its other sockets
        self._receiver: asyncio.Task[None] | None = None
        self._closing = False

    async def connect(self) -> None:
        """Open the websocket as the browser does and ask for the page's first run."""
        cookies = await asyncio.to_thread(self._cookies)
        token = cookies[XSRF_COOKIE].value if XSRF_COOKIE in cookies else None
        self._cookie_header = {"Cookie": "; ".join(f"{k}={m.value}" for k, m in cookies.items())} if cookies else None
        self._socket = await self.open_socket(
            "/_stcore/stream", subprotocols=[Subprotocol("streamlit"), Subprotocol(token or NO_XSRF_TOKEN)]
        )
        self._receiver = asyncio.create_task(self._receive())
        await self.rerun()

    async def open_socket(self, path: str, subprotocols: list[Subprotocol] | None = None) -> ClientConnection:
        """A websocket to `path` of the app, opened as the page opens its own (with the session's cookies, so that
        behind a proxy it reaches the same replica)."""
        return await connect(
            f"ws{self.url.removeprefix('http')}{path}",
            origin=Origin(self.url),
            subprotocols=subprotocols,
            additional_headers=self._cookie_header,
            max_size=None,  # pages with images inlined run to megabytes
            ping_interval=None,  # browsers do not ping; they answer the server's pings, as this does
            proxy=None,
        )

    def _cookies(self) -> SimpleCookie:
        """The cookies the server sets on its health check, the frontend's first request: the XSRF cookie, and
        behind a proxy, the one that keeps this client on its replica."""
        with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=30) as response:
            cookies = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.load(header)
        return cookies

    async def rerun(self, widgets: list[WidgetState] | None = None, fragment_id: str = "") -> None:
        """Ask for a run of the page, or of one fragment of it, with these widget values. (The
        browser sends every widget's value; the server keeps the last value of any widget left
        out, so sending only the changed ones asks for the same run.)"""
        assert self._socket is not None, "connect() first"
        state = ClientState(
            query_string=self.query_string,
            widget_states=WidgetStates(widgets=widgets or []),
            page_script_hash=self._page_script_hash,
            fragment_id=fragment_id,
            cached_message_hashes=list(self._cache),
            context_info=ContextInfo(timezone="UTC", locale="en-US", url=self.url),
        )
        await self._socket.send(BackMsg(rerun_script=state).SerializeToString())

    async def send_json_value(self, widget_id: str, value: object, fragment_id: str = "") -> None:
        """Set a JSON-valued widget (a components-v2 component's state) as a user would: the value
        goes with a rerun of the widget's fragment."""
        await self.rerun([WidgetState(id=widget_id, json_value=json.dumps(value))], fragment_id)

    def find(self, element_type: str) -> Iterator[tuple[ElementPath, Delta]]:
        """The elements of this type (`markdown`, `bidi_component`, ...) on the page, in page order."""
        for path in sorted(self.elements):
            if self.elements[path].new_element.WhichOneof("type") == element_type:
                yield path, self.elements[path]

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until `condition()` holds after some message (True), or timeout_s passes (False)."""
        try:
            async with asyncio.timeout(timeout_s), self._changed:
                await self._changed.wait_for(condition)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        self._closing = True
        if self._socket is not None:
            await self._socket.close()
        if self._receiver is not None:
            await self._receiver

    async def _receive(self) -> None:
        assert self._socket is not None
        with suppress(ConnectionClosed):  # counted below
            async for frame in self._socket:
                self._apply(ForwardMsg.FromString(frame))
                async with self._changed:
                    self._changed.notify_all()
        self.disconnected = not self._closing

    def _apply(self, msg: ForwardMsg) -> None:
        """Update the page, the cache and the session's run as the frontend would."""
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            self.references += 1
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                self.protocol_errors.append(f"cached message missing: {msg.ref_hash}")
                return
            cached.run = self._runs
            self._apply_delta(tuple(msg.metadata.delta_path), cached.msg.delta)
        elif kind == "delta":
            if msg.metadata.cacheable:
                self._cache.setdefault(msg.hash, _Cached(msg, self._runs, msg.delta.fragment_id)).run = self._runs
            self._apply_delta(tuple(msg.metadata.delta_path), msg.delta)
        elif kind == "new_session":
            self._page_script_hash = msg.new_session.page_script_hash
            self._max_cached_age = msg.new_session.config.max_cached_message_age
        elif kind == "navigation":
            self._page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            self.exceptions.append(msg.session_event.script_compilation_exception.message)
        elif kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            self._expire_cache(set(msg.metadata.run.fragment_ids))

    def _apply_delta(self, path: ElementPath, delta: Delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        self.elements[path] = delta
        if delta.new_element.WhichOneof("type") == "exception":
            self.exceptions.append(f"{delta.new_element.exception.type}: {delta.new_element.exception.message}")
        for listener in self.listeners:
            listener(path, delta)

    def _expire_cache(self, fragment_ids: set[str]) -> None:
        """Forget cached messages not used for more than the server's maximum age in runs; a
        fragment's run ages only that fragment's messages."""
        self._runs += 1
        for hash_, cached in list(self._cache.items()):
            if fragment_ids and cached.fragment_id not in fragment_ids:
                continue
            if self._runs - cached.run > self._max_cached_age:
                del self._cache[hash_]
