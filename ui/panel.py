"""A part of the live view, computed before anything is drawn.

Streamlit's page in the browser redraws itself for each burst of elements it receives: elements
that arrive together cost it one redraw, elements spread over the run one redraw each (measured:
twenty captions sent 4 ms apart cost Chromium 180 ms of CPU per update, sent together 105 ms).
So the live view first computes every panel, then draws them all at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ui.export import Exports


@dataclass(frozen=True)
class Panel:
    """`draw` only lays out elements from values already computed; `exports` are the panel's files."""

    draw: Callable[[], None]
    exports: Exports = field(default_factory=dict)


NOTHING = Panel(lambda: None)  # a panel with nothing to show, e.g. a score map nobody asked for
