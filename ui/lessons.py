"""Guided lessons: the classroom's question, one idea at a time, in the drag view.

Each lesson opens a view (the same choices a shared link carries: ui.links), asks the class to
predict before they drag, and then says in a few plain sentences what to notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import streamlit as st

from models.lab_experiments import trained_location
from models.teaching import TEACHING
from ui.links import show_view

FREE = "free"  # the lesson key of free exploration


@dataclass(frozen=True)
class Lesson:
    title: str
    view: Mapping[str, str]  # what the lesson opens, as a link's query parameters
    predict: str  # the question to answer before dragging
    notice: str  # what to look for afterwards, in plain words
    live_measurements: bool = False  # redo the measurements and shift plot during the drag too


_SPOT_X, _SPOT_Y = (str(v) for v in trained_location())

LESSONS: Mapping[str, Lesson] = MappingProxyType(
    {
        "equivariance": Lesson(
            "Convolution moves with the object",
            {
                "model": "mobilenet_v2",
                "layer": "features.0",
                "object": "star",
                "background": "black",
                "canvas": "224",
                "size": "64",
                "x": "112",
                "y": "112",
            },
            "This layer is one convolution (stride 2: its maps are half the image's size). Drag the star 40 px to "
            "the right. Will the bright spots in the feature maps stay, vanish, or move, and by how many cells?",
            "The spots move with the star, 20 cells for 40 px: a convolution applies the same filter everywhere, "
            "so moving the input moves its output (*equivariance*). The table shows it as a measured shift equal "
            "to the expected Δ/s and a small equivariance error; the shift plot's dots sit on the line y = x. "
            "The scratch twin does it too, with random filters: it comes from the architecture, not from training.",
            live_measurements=True,
        ),
        "aliasing": Lesson(
            "Strides and aliasing",
            {
                "model": "mobilenet_v2",
                "layer": "features.13.add",
                "object": "star",
                "background": "black",
                "canvas": "224",
                "size": "64",
                "x": "112",
                "y": "112",
            },
            "This layer has a stride of 16: one cell of its maps covers 16 pixels. Click the canvas and press → "
            "once (1 px), then 15 more times (16 px in all). After 1 px, can the maps move by 1/16 of a cell? "
            "What happens instead?",
            "A 1-px move cannot shift maps sampled every 16 px, so they change shape instead: the table marks the "
            "move ⚠ and its equivariance error is large. Moves of a multiple of 16 px shift the maps cleanly. "
            "Striding throws information away without first blurring (*aliasing*), which is why a 1-pixel move can "
            "change a deep network's answer. Try *Sweep 1 px along x* to see how jagged the score is.",
            live_measurements=True,
        ),
        "pooling": Lesson(
            "Pooling gives only local invariance",
            {
                "model": "mobilenet_v2",
                "layer": "features.18",
                "object": "cat",
                "background": "imagenet grey",
                "canvas": "320",
                "size": "96",
                "x": "160",
                "y": "160",
            },
            "Watch the *pooled* similarity (the maps averaged over all positions, as the classifier sees them) "
            "and the whole-map similarity. Drag the cat a few pixels, then far to a corner. Which number stays high?",
            "For small moves the pooled features hardly change while the maps themselves do: averaging over "
            "positions forgets where (measured for the cat: 32 px away, whole maps 0.83, pooled 0.999). Far "
            "moves, into a corner, lower even the pooled similarity (about 0.85, against 0.64 for a coffee cup) "
            "and the cat's probability: pooling is invariant only locally. Read each similarity against its "
            "baseline (a different object): only the normalised value says how much of the similarity is real.",
            live_measurements=True,
        ),
        "position": Lesson(
            "Fully-connected heads know position",
            {"model": TEACHING, "layer": "features.4", "object": "diamond", "x": _SPOT_X, "y": _SPOT_Y},
            "Both small CNNs end in flatten + fully connected layers, which give every position its own weights, and "
            "both were taught these shapes at this one spot only. Drag the diamond away from it. Will the right-hand "
            "network (trained from scratch) still say “diamond”?",
            "At the spot it is sure; a little away, its answer falls apart: its fully connected layer only ever "
            "learnt weights for the positions it saw. Zero padding even lets a CNN work out where it is in the "
            "image. In the **CNN lab**, a global-average-pool head with circular padding cannot know where the "
            "object is: the lab shows it trained at one spot and tested everywhere.",
        ),
        "learned": Lesson(
            "Invariance is learnt",
            {"model": TEACHING, "layer": "features.4", "object": "diamond", "x": _SPOT_X, "y": _SPOT_Y},
            "The same architecture twice, both taught these shapes at this spot only, but the left one had first "
            "learnt *other* shapes all over the canvas. Drag the diamond far away. Which one still recognises it?",
            "The left one mostly does: what it learnt about other shapes everywhere carries over to new shapes "
            "(Biscione & Bowers 2021). The right one, with the same architecture, does not. Invariance was learnt, "
            "not built in. *Compute score maps* shows it at every position at once; the **CNN lab** page repeats "
            "the experiment, and shows how fine-tuning the whole network at one spot wears the invariance away.",
        ),
        "anti_aliasing": Lesson(
            "Anti-aliasing helps",
            {
                "model": "mobilenet_v2",
                "layer": "features.6.add",
                "object": "coffee",
                "background": "imagenet grey",
                "canvas": "224",
                "size": "96",
                "x": "112",
                "y": "112",
            },
            "Click *Sweep 1 px along x* in the sidebar: the object at every x, one pixel apart. Predict: how often "
            "does a one-pixel move change the pretrained network's top class?",
            "Even a network trained on millions of shifted photos flips its answer at some one-pixel moves, and "
            "its probability is jagged (Azulay & Weiss 2019): the strided layers alias. Blurring before "
            "subsampling (Zhang 2019) makes it smoother: in the **CNN lab**, train one network with *max pool* "
            "and one with *blur pool* for the downsampling, both on the whole canvas, and compare the shift "
            "consistency shown under each. On our drawn shapes it rose from 82% to 98% (`make bench`).",
        ),
    }
)
ORDER = (FREE, *LESSONS)


def open_link() -> None:
    """Once per session, before the sidebar is drawn: open the link's lesson, if it names one
    (`?lesson=aliasing`), and the link's view on top (a shared link carries the whole view)."""
    if st.session_state.get("link_opened"):
        return
    st.session_state.link_opened = True
    link = st.query_params.to_dict()
    open_lesson(link["lesson"] if link.get("lesson") in LESSONS else FREE)
    show_view(link)


def lesson_ui() -> Lesson | None:
    """The lesson choice at the top of the sidebar."""
    with st.sidebar:
        st.selectbox(
            "Lesson",
            ORDER,
            format_func=lesson_title,
            key="lesson",
            on_change=open_lesson,
            help="Each lesson sets up the view, asks you to predict, then says what to notice.",
        )
    return LESSONS.get(st.session_state.lesson)


def lesson_title(key: str) -> str:
    return "Free exploration" if key == FREE else f"{ORDER.index(key)}. {LESSONS[key].title}"


def open_lesson(key: str | None = None) -> None:
    """Show the chosen lesson's view (a callback: before the sidebar is drawn)."""
    if key is not None:
        st.session_state.lesson = key
    if (lesson := LESSONS.get(st.session_state.lesson)) is not None:
        show_view(lesson.view)
        st.session_state.live_measurements = lesson.live_measurements


def lesson_panel(lesson: Lesson) -> None:
    """The lesson's question and, folded, what to notice; with the way to the next lesson."""
    number = ORDER.index(st.session_state.lesson)
    with st.container(border=True):
        st.markdown(f"**Lesson {number} of {len(LESSONS)}: {lesson.title}.** Predict, then drag: {lesson.predict}")
        notice, back, onward = st.columns([6, 1, 1], vertical_alignment="center")
        with notice.expander("What to notice (after you have dragged)"):
            st.markdown(lesson.notice)
        back.button("Back", key="lesson_back", on_click=open_lesson, args=(ORDER[number - 1],), width="stretch")
        if number < len(LESSONS):
            onward.button("Next", key="lesson_next", on_click=open_lesson, args=(ORDER[number + 1],), width="stretch")
