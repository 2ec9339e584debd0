"""Shift Lab: drag an object and watch how a CNN's feature maps and class scores respond.

Run with `make run` (see README). This file only lays out the pages; each panel is in ui/.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from models.teaching import TEACHING
from ui import resources
from ui.lab_view import lab_page
from ui.live_view import live_view
from ui.score_map_view import score_map_controls
from ui.settings import settings_ui
from ui.state import init_state

PAGE_CSS = Path(__file__).parent / "ui" / "page.css"

# One intra-op thread per forward pass: sessions, and the two models of one view, run in
# parallel threads instead, which on two cores halves the time of a drag update (measured) and
# keeps one student's drag from stalling another's.
torch.set_num_threads(1)


def main() -> None:
    st.set_page_config(page_title="Shift Lab", page_icon=":material/open_with:", layout="wide")
    st.html(f"<style>{PAGE_CSS.read_text()}</style>")
    resources.trace_architectures()
    pages = [
        st.Page(drag_page, title="Drag view", icon=":material/open_with:", default=True),
        st.Page(lab_page, title="CNN lab", icon=":material/science:", url_path="lab"),
    ]
    st.navigation(pages).run()


def drag_page() -> None:
    """Two models side by side, live under the dragged object."""
    settings = settings_ui()
    init_state(settings.canvas)
    score_map_controls(settings)
    st.title("Shift Lab", anchor=False)
    st.markdown(
        "Are convolutional networks **translation-invariant**? Drag the object and watch, live, how the "
        "feature maps move with it and whether the class scores stay put, " + COMPARED.get(settings.model, COMPARED[""])
    )
    live_view(settings)


# What the two columns compare, in the intro's words: by model family ("" = an ImageNet model).
COMPARED = {
    "": "for an ImageNet-pretrained network and for its **scratch twin**: the same architecture with random weights.",
    TEACHING: "for two small CNNs taught ten shapes and letters at **one spot** (left of centre): one had first "
    "learnt ten other classes **all over the canvas**, the other learnt from scratch. Which still knows a "
    "shape elsewhere?",
}


main()
