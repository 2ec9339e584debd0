"""Shift Lab: drag an object and watch how a CNN's feature maps and class scores respond.

Run with `make run` (see README). This file only lays out the pages; each panel is in ui/.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from locales import _
from ui import resources
from ui.classroom_view import class_question, join, join_ui
from ui.lab_view import lab_page
from ui.language import language_ui, use_language
from ui.lessons import lesson_panel, lesson_ui, open_link
from ui.links import adopt_page_link, saved_view, session_link
from ui.live_view import below_view, live_view
from ui.presentation import presentation_bar, presentation_switch
from ui.saved_work import give_token, keep_work, open_student, save_notice_ui
from ui.score_map_view import compute_requests, score_map_controls
from ui.settings import settings_ui
from ui.state import (
    CLASS_CODE,
    LAB_MODEL,
    LARGE_TEXT,
    LESSON,
    LINK_NOTICE,
    LINK_OPENED,
    OWN_MODEL,
    PAGE_RUN,
    init_state,
    start_on_canvas,
)
from ui.teacher_view import teacher_page

PAGE_CSS = Path(__file__).parent / "ui" / "page.css"
LARGE_TEXT_PX = 21  # the root font size of the large-text option (Streamlit's is 16); every rem grows with it

# One intra-op thread per forward pass: sessions, and the two models of one view, run in
# parallel threads instead, which on two cores halves the time of a drag update (measured) and
# keeps one student's drag from stalling another's.
torch.set_num_threads(1)
resources.reuse_freed_buffers()


def main() -> None:
    # An emoji icon: a Material icon here becomes a favicon fetched from Google, which fails offline.
    st.set_page_config(page_title="Shift Lab", page_icon="↔️", layout="wide")
    st.html(f"<style>{PAGE_CSS.read_text()}</style>")
    init_state()
    open_student()  # the work this browser's student saved comes back, before anything is drawn
    adopt_page_link()
    use_language()
    with st.sidebar:
        language_ui()
        large = st.toggle(
            _("Large text"), key=LARGE_TEXT.name, help=_("For a projector at the back of a room: all text larger.")
        )
        if large:  # the sidebar grows with its text (Streamlit's is 300 px: 18.75 of its 16-px rems)
            st.html(
                f"<style>html {{ font-size: {LARGE_TEXT_PX}px; }} "
                "[data-testid='stSidebar'] { width: 18.75rem !important; min-width: 18.75rem !important; }</style>"
            )
    resources.trace_architectures()
    pages = [
        st.Page(drag_page, title=_("Drag view"), icon=":material/open_with:", default=True),
        st.Page(lab_page, title=_("CNN lab"), icon=":material/science:", url_path="lab"),
        st.Page(teacher_page, title=_("Teacher"), icon=":material/co_present:", url_path="teacher"),
    ]
    page = st.navigation(pages)
    page.run()
    keep_work(saved_view() if page.url_path == "" else None)  # only the drag page has a view to save
    save_notice_ui()
    give_token()


def drag_page() -> None:
    """Two models side by side, live under the dragged object."""
    catalog = resources.families(LAB_MODEL.get(), OWN_MODEL.get())  # made once per run, handed down
    if not LINK_OPENED.get() and (code := session_link().get("class")):  # the class link: join it
        join(code)
    open_link(catalog)
    with st.sidebar:
        presentation_switch()
    presentation_bar()
    lesson = lesson_ui(catalog)
    settings, family = settings_ui(catalog)
    start_on_canvas(settings.canvas)
    models = resources.load_columns(family)
    progress = score_map_controls(settings, resources.drag_cost(models, settings.canvas))
    join_ui()  # last in the sidebar: most sessions are in no class
    if lesson is None:
        st.title("Shift Lab", anchor=False)
        st.markdown(
            _(
                "Are convolutional networks **translation-invariant**? Drag the object and watch, live, how the "
                "feature maps move with it and whether the class scores stay put, {intro}"
            ).format(intro=_(family.intro))
        )
    else:  # in the place of the title and intro, so that the view still fits a projector's screen
        box = lesson_panel(lesson, catalog)
        if CLASS_CODE.get() and lesson.vote:  # read again every few seconds: only in a class
            with box:
                class_question(LESSON.get(), lesson)
    if notice := LINK_NOTICE.get():
        st.info(_(notice), icon=":material/link_off:")  # kept in English where a link set it
    PAGE_RUN.set(True)  # the live view's run is part of the page's: it draws, and returns what the panels below need
    below_view(settings, family, live_view(settings, family, models))
    if compute_requests(settings, family, models.loaded, progress):  # after the view, which stays on screen meanwhile
        st.rerun()  # so that the live view shows the results


main()
