"""Presentation mode: the drag page without its sidebar, laid out so that a projector's screen (1280 × 720 or
1024 × 768, in normal or large text) holds the lesson, the scene, both models' maps, class bars and the lesson's
numbers; with a full-screen button. One switch, kept in the link (`present=1`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from locales import _
from ui.state import PRESENT

PRESENTATION_CSS = Path(__file__).parent / "presentation.css"

# Full screen is the browser's own (the Fullscreen API), asked for in the click itself, as browsers require.
_JS = """
export default function ({ data, parentElement }) {
  const button = parentElement.querySelector("button");
  const label = () => {
    button.textContent = document.fullscreenElement ? data.leave : data.enter;
    button.hidden = false;  // hidden until it has its name: a button without one is nothing to a screen reader
  };
  button.onclick = () => document.fullscreenElement
    ? document.exitFullscreen() : document.documentElement.requestFullscreen();
  document.onfullscreenchange = label;
  label();
}
"""
_CSS = """
button {
  font: inherit; font-size: 0.9rem; color: var(--st-text-color); background: transparent; cursor: pointer;
  border: 1px solid rgba(128, 128, 128, 0.4); border-radius: 0.5rem; padding: 0.1rem 0.75rem;
}
button:focus-visible { outline: 3px solid var(--st-primary-color); }
"""
_fullscreen = st.components.v2.component(
    "shiftlab.fullscreen", html='<button type="button" hidden></button>', js=_JS, css=_CSS
)


def presentation_switch() -> None:
    """The switch, in the sidebar (which it hides: the page's own bar leads back)."""
    st.toggle(
        _("Presentation mode"),
        key=PRESENT.name,
        help=_(
            "For a projector: the sidebar is hidden and the lesson, the scene, both models' maps and class bars "
            "fit one screen. The link keeps it."
        ),
    )


def presentation_bar() -> None:
    """In presentation mode: its layout, and the buttons to full screen and out of presentation mode."""
    if not PRESENT.get():
        return
    st.html(f"<style>{PRESENTATION_CSS.read_text()}</style>")
    with st.container(horizontal=True, horizontal_alignment="right", key="presentation_bar"):
        _fullscreen(key="fullscreen", data={"enter": _("Full screen"), "leave": _("Leave full screen")})
        st.button(
            _("Leave presentation mode"),
            key="present_leave",
            on_click=PRESENT.set,
            args=(False,),
            type="tertiary",
            icon=":material/close_fullscreen:",
        )
