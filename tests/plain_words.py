"""Plain words only: nothing a user reads names an exception class, an errno or a server path.

The technical detail of a failure belongs in the server log; the page says what happened and
what to do. One scanner serves both kinds of page the tests reach: every AppTest run (all the
texts of its element tree, see `app_texts`; tests/conftest.py checks each run) and a real
browser page (its visible text, checked at the end of each browser test).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser

from google.protobuf.message import Message

# Each pattern names what it found. They aim at the technical words themselves, so that plain
# words that happen to look alike pass: "equivariance error", "x / y", "1/16 of a cell", "px/s",
# "http://localhost:8501/?lesson=aliasing".
EXCEPTION_CLASS = re.compile(
    r"\b(?:[A-Z][A-Za-z0-9_]*(?:Error|Exception)|Traceback|IncompleteRead|KeyboardInterrupt|StopIteration"
    r"|WeightsUnavailable|UnreadableImage)\b"
)
ERRNO = re.compile(r"\berrno\b", re.IGNORECASE)
ROOTS = "work|root|home|tmp|usr|var|etc|opt|srv|mnt|media|private|Users|proc|lib|lib64|bin|sbin|snap|nix"
ABSOLUTE_PATH = re.compile(
    rf"(?:^|(?<=[\s\"'`(\[<>=,;:]))(?:/(?:{ROOTS})\b|~/)"  # /work/..., /tmp, ~/.cache, but not "x / y"
    r"|\b[A-Za-z]:\\\w"  # C:\Users
    r"|\b(?:site|dist)-packages\b"
    r"|\b[\w.-]+(?:/[\w.-]+)+\.(?:py|pth)\b"  # models/weights.py, hub/checkpoints/x.pth
    r"|\.py\"?, line \d+"  # a traceback's frame
)
WEB_ADDRESS = re.compile(r"\bhttps?://\S+")  # a web address is no server path, though it may end in .pth
PATTERNS = {"an exception class": EXCEPTION_CLASS, "an errno": ERRNO, "a server path": ABSOLUTE_PATH}


def technical_text(text: str) -> list[str]:
    """What in `text` a user should never read, each as "<what> ('<match>') in …<context>…"; empty if plain."""
    found = []
    for what, pattern in PATTERNS.items():
        searched = WEB_ADDRESS.sub(" ", text) if pattern is ABSOLUTE_PATH else text
        for match in pattern.finditer(searched):
            context = searched[max(0, match.start() - 60) : match.end() + 60].replace("\n", " ")
            found.append(f"{what} ({match[0]!r}) in …{context}…")
    return found


def leaks(texts: Iterable[tuple[str, str]]) -> list[str]:
    """The findings of `technical_text` in (where, text) pairs, each prefixed with where it was."""
    return [f"{where}: {finding}" for where, text in texts for finding in technical_text(text)]


def leak_report(found: list[str], page: str) -> str:
    return (
        f"{page} shows technical text to the user (an exception class, errno or server path belongs in the "
        "log, not on the page; say what happened and what to do in plain words):\n  " + "\n  ".join(found)
    )


def assert_plain_page(page: object, name: str = "the browser page") -> None:
    """A real browser page (playwright's Page) shows no technical text: the scan of its visible
    text, for the end of each browser test."""
    text = page.inner_text("body", timeout=10_000)
    if found := leaks([("visible text", text)]):
        raise AssertionError(leak_report(found, name))


# --- the texts of an AppTest run ---

# Proto fields that hold no text a user reads: ids and keys, formats, icons, image addresses.
HIDDEN_FIELDS = frozenset(
    {"id", "form_id", "key", "tag", "format", "raw_value", "url", "src", "icon", "type", "anchor", "element_id"}
)
INLINE_IMAGE = re.compile(r"data:[\w/+.-]+;base64,[\w+/=]+")  # no text, and long enough to look like anything


class _VisibleText(HTMLParser):
    """The text of an HTML fragment as a reader gets it: text nodes (not style or script) and the
    attributes a browser shows (tooltips, alternative text, labels)."""

    SHOWN_ATTRIBUTES = ("title", "alt", "aria-label", "placeholder")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_html_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(INLINE_IMAGE.sub("", html))
    parser.close()
    return "\n".join(parser.parts)


def _proto_texts(message: Message, where: str) -> Iterator[tuple[str, str]]:
    for field, value in message.ListFields():
        if field.name in HIDDEN_FIELDS:
            continue
        for item in value if field.is_repeated else [value]:
            if isinstance(item, Message):
                yield from _proto_texts(item, f"{where}.{field.name}")
            elif isinstance(item, str) and item:
                # st.html's body as a browser shows it; any other text as it is: markdown shows an
                # unknown tag such as "<urlopen error [Errno -2] ...>" as text.
                html = message.DESCRIPTOR.name == "Html" and field.name == "body"
                yield f"{where}.{field.name}", visible_html_text(item) if html else INLINE_IMAGE.sub("", item)


def app_texts(at: object) -> Iterator[tuple[str, str]]:
    """Every text of an AppTest's last run, as (where, text): the string fields of each element's
    and container's message (bodies, labels, help tooltips, options, captions, alerts, expander
    and tab labels, exceptions...); st.html bodies as their visible text."""

    def walk(node: object, where: str) -> Iterator[tuple[str, str]]:
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            yield from _proto_texts(proto, f"{where}:{getattr(node, 'type', type(node).__name__)}")
        for index, child in getattr(node, "children", {}).items():
            yield from walk(child, f"{where}/{index}")

    yield from walk(at._tree, "")  # the element tree of the last run: AppTest has no public walk of it all


def exception_report(at: object) -> str:
    """What a run's st.exception elements say, for a failure message; empty when there are none."""
    return "\n".join(
        f"{element.proto.type}: {element.proto.message}\n" + "".join(element.proto.stack_trace)
        for element in at.exception
    )
