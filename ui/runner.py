"""Long work (score maps, sweeps, shift consistency, training in the lab): one progress bar, one Stop.

Streamlit ends a script run when anything outside a fragment is clicked (it reruns the page with the
click), so work done in the page's own run can always be stopped: a click on Stop, or on anything else,
interrupts it at its next progress update. What the work kept by then (a partly trained model) stays;
Stop's callback runs first, for example to withdraw what was asked for so that it does not start again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from locales import _

T = TypeVar("T")
Progress = Callable[..., None]  # progress(fraction done, label=None): the label replaces the work's own


@dataclass(frozen=True)
class Work(Generic[T]):
    """A piece of long work: what the progress bar says, and the work itself, given a progress callback."""

    label: str
    run: Callable[[Progress], T]


def run_all(works: Sequence[Work[T]], where: DeltaGenerator, on_stop: Callable[[], None] = lambda: None) -> list[T]:
    """Run `works` one after another under one progress bar and one Stop button, drawn in `where` and cleared
    when they are done (nothing is left to stop then); their results, in order."""
    with where.container():
        bar = st.progress(0.0, works[0].label)
        st.caption(_("Stop, or a click anywhere else, stops it; what is done so far is kept."))
        # TRANSLATORS: a button that stops the long work under the progress bar
        st.button(_("Stop"), key="stop", icon=":material/stop:", on_click=on_stop)
    results = []
    for work in works:

        def progress(fraction: float, label: str | None = None, work: Work = work) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), label or work.label)

        results.append(work.run(progress))
    where.empty()
    return results
