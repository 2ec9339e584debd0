"""A point of the page that the browser scrolls to when asked: results computed from a button in the
sidebar appear far below the canvas, so the page goes to them (a Streamlit component kept in the repo)."""

from __future__ import annotations

import streamlit as st

# The last token scrolled to is kept per page, so a redraw with the same token never scrolls again.
_JS = """
let scrolled = 0;
export default function ({ data, parentElement }) {
  if (data.token > scrolled) {
    scrolled = data.token;
    // parentElement is the component's shadow root, which has no place on the page: its span does
    parentElement.querySelector("span").scrollIntoView({ behavior: "smooth", block: "start" });
  }
}
"""

_component = st.components.v2.component("shiftlab.scroll_here", html="<span></span>", js=_JS)


def scroll_here(*, key: str, token: int) -> None:
    """Mount the point; the browser scrolls it to the top of the window whenever `token` grows."""
    _component(key=key, data={"token": token})
