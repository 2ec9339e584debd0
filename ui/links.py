"""Shareable views: the page's URL carries what is on screen (lesson, model, layer, object,
background, canvas, object size, position; the page's language unless English, presentation mode and large
text where chosen), so a teacher can send a link to an exact view.

A link is read once, when a session starts (ui.lessons.open_link); from then on the URL follows
the view. A value that is not valid (an old or mistyped link) is ignored: the app keeps its default.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from locales import ENGLISH, LANGUAGE, LANGUAGES
from models.families import SESSION_ONLY, Family
from scene import clamp_position
from ui.settings import Settings
from ui.state import (
    BACKGROUND,
    CANVAS,
    CLASS_CODE,
    KEYS,
    LANG,
    LARGE_TEXT,
    LESSON,
    LINK_NOTICE,
    MODEL,
    OBJECT,
    OBJECT_SIZE,
    PAGE_LINK_READ,
    POSITION_CANVAS,
    PRESENT,
    SAVED_VIEW,
    X,
    Y,
    set_layer,
)
from ui.uploads import is_upload, uploaded_objects


def session_link() -> dict[str, str]:
    """What the session opens with: the URL's view, or where the URL names none (the app's bare address), the view
    this student's browser was at last (ui.saved_work). A link never names an upload, so the student's own picture,
    if it was the object last, comes from the saved view."""
    link, saved = st.query_params.to_dict(), SAVED_VIEW.get()
    if not link:
        return saved
    if "object" not in link and is_upload(saved.get("object", "")):
        link["object"] = saved["object"]
    return link


def adopt_page_link() -> None:
    """Once per session, before the sidebar is drawn: the language (`lang=de`) and text size (`text=large`) the
    session's link names, on every page."""
    if PAGE_LINK_READ.get():
        return
    PAGE_LINK_READ.set(True)
    link = session_link()
    if link.get("lang") in LANGUAGES:
        LANG.set(link["lang"])
    if link.get("text") == "large":
        LARGE_TEXT.set(True)


def saved_view() -> dict[str, str]:
    """The view to save for this student: the URL's, and the object even when it is their own upload."""
    view = st.query_params.to_dict()
    return view | {"object": OBJECT.get()} if is_upload(OBJECT.get()) else view


def show_view(link: Mapping[str, str], catalog: dict[str, Family]) -> None:
    """Set the sidebar's choices and the object's position to the link's (a link, or a lesson's
    view); call it before the sidebar is drawn, or from a widget's callback."""
    if link.get("present") == "1":  # a lesson's view leaves the mode as it is
        PRESENT.set(True)
    if link.get("model") in catalog:
        MODEL.set(link["model"])
    elif link.get("model") in SESSION_ONLY:  # the model of another session: say what it was and how to have it
        LINK_NOTICE.set(SESSION_ONLY[link["model"]])  # marked where written (models.families), translated where shown
    family = catalog.get(MODEL.get()) or next(iter(catalog.values()))
    scene = family.scene
    if link.get("layer") in family.layers:
        set_layer(family.name, link["layer"])
    if link.get("object") in scene.objects or (scene.uploads and link.get("object") in uploaded_objects()):
        KEYS[scene.object_key].set(link["object"])
    if link.get("background") in scene.backgrounds:
        BACKGROUND.set(link["background"])
    if (size := _number(link.get("size"))) in scene.object_sizes:
        OBJECT_SIZE.set(size)
    if (canvas := _number(link.get("canvas"))) in scene.canvases:
        CANVAS.set(canvas)
    x, y = _number(link.get("x")), _number(link.get("y"))
    if x is not None and y is not None:
        canvas = CANVAS.get() if CANVAS.get() in scene.canvases else scene.canvases[0]
        POSITION_CANVAS.set(canvas)  # so that the position is not recentred
        clamped_x, clamped_y = clamp_position(x, y, canvas)
        X.set(clamped_x)
        Y.set(clamped_y)


def follow_view(settings: Settings, family: Family, x: int, y: int) -> None:
    """Make the URL the link to this view. An uploaded object is left out of the link: another session could not
    open it. A model of this session only (trained in the lab, uploaded) is named, so that a session opening the
    link can say what it was (models.families.SESSION_ONLY)."""
    view = {"lesson": LESSON.get(), "model": settings.model, "layer": settings.layer, "x": x, "y": y}
    if not is_upload(settings.object):
        view["object"] = settings.object
    view |= {"background": settings.background, "canvas": settings.canvas, "size": settings.object_size}
    if code := CLASS_CODE.get():  # a refresh stays in the class
        view["class"] = code
    if (language := LANGUAGE.get()) != ENGLISH:  # a refresh, or the link shared, keeps the page's language
        view["lang"] = language
    if PRESENT.get():  # and presentation mode, and large text
        view["present"] = "1"
    if LARGE_TEXT.get():
        view["text"] = "large"
    st.query_params.from_dict({key: str(value) for key, value in view.items()})


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None
