"""Nothing lost on a refresh or a server restart: a student's lab model, uploaded pictures and current view are
saved in the store under a token their browser keeps in a cookie, and come back when the page is opened again.

The token is made by the server (256 random bits) and only its digest is stored. A cookie holding anything the
store does not know (made up, another server's, expired, cleared by the teacher) opens nothing: that browser gets
a new token and an empty session. Weights of your own (up to 300 MB) are not saved: they are uploaded again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from locales import N_, _
from models.saved_lab import lab_model_bytes, lab_model_from_bytes
from store import KEEP_DAYS, Students, StudentUnknown, WorkRefused, is_token, new_token
from ui.classroom_view import students
from ui.state import LAB_MODEL, SAVE_NOTICE, SAVED, SAVED_VIEW, SAVING, STUDENT_OPENED, STUDENT_TOKEN, UPLOADS
from ui.uploads import is_upload

logger = logging.getLogger(__name__)

COOKIE = "shiftlab_student"
VIEW, LAB_MODEL_PIECE = "view", "lab_model"  # the names of saved pieces; uploads keep their object names
# Notices kept as their English words, translated where shown (save_notice_ui): they may be set before the
# session's language is known (open_student runs first), and follow it when it changes.
STORE_TROUBLE = N_("Your work cannot be saved just now (the store does not answer); it stays on screen meanwhile.")
UNREADABLE = N_("Part of your saved work could not be read, so it is not shown; the rest is back.")

# Writes the cookie once per page load (and again if the token changes), so that it lasts KEEP_DAYS from the last
# visit, as the work saved under it does. Lax: sent when a student follows a link here.
_JS = """
let given = null;
export default function ({ data }) {
  const cookie = `${data.name}=${data.value}`;
  if (given !== cookie) {
    given = cookie;
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `${cookie}; Max-Age=${data.max_age}; Path=/; SameSite=Lax${secure}`;
  }
}
"""
_cookie = st.components.v2.component("shiftlab.student_cookie", html="<span></span>", js=_JS)


def browser_token() -> object:
    """What the browser's cookie held at this session's first request (None without one): anything, until
    store.is_token says it has a token's form."""
    return st.context.cookies.get(COOKIE)


def open_student() -> None:
    """Once per session, before anything is drawn: the browser's token, and the work saved under it, or, for a
    browser without a known token, a new token (and an empty session)."""
    if not STUDENT_OPENED.get():
        STUDENT_OPENED.set(True)
        _guarded(_open)


def give_token() -> None:
    """At the end of every run: the token to the browser's cookie, which the browser writes once per page load (drawn
    last, so that its empty element in the sidebar leaves no gap between controls)."""
    if SAVING.get():
        with st.sidebar:
            data = {"name": COOKIE, "value": STUDENT_TOKEN.get(), "max_age": KEEP_DAYS * 86400}
            _cookie(key="student_cookie", data=data)


def _open(pupils: Students) -> None:
    token = browser_token()
    saved = pupils.restore(token) if is_token(token) else None
    if saved is None:
        token = new_token()
        pupils.register(token)
    STUDENT_TOKEN.set(token)
    for name, data in (saved or {}).items():
        try:
            restore(name, data)
        except ValueError as error:  # a piece saved by another version, say: the rest still comes back
            logger.warning("A saved piece %r of a student's work could not be read: %s", name, error, exc_info=True)
            SAVE_NOTICE.set(UNREADABLE)


def restore(name: str, data: bytes) -> None:
    """Put one saved piece back into the session, and note that the store holds it."""
    if name == VIEW:
        view = json.loads(data)
        if not isinstance(view, dict):
            raise ValueError("a saved view is not a mapping")
        SAVED_VIEW.set({str(key): str(value) for key, value in view.items()})
        made_from: object = data.decode()
    elif name == LAB_MODEL_PIECE:
        lab = lab_model_from_bytes(data)
        LAB_MODEL.set(lab)
        made_from = _lab_state(lab)
    elif is_upload(name):
        file_name, _zero, png = data.partition(b"\0")
        UPLOADS.get()[name] = (file_name.decode(), png)
        made_from = name
    else:
        raise ValueError(f"unknown saved piece {name!r}")
    SAVED.get()[name] = made_from


def keep_work(view: dict[str, str] | None = None) -> None:
    """At the end of a page's run: save what changed since the store last got it (the view, if given; the lab
    model; the uploads, dropping those the session no longer has)."""
    if SAVING.get() and STUDENT_OPENED.get():
        _guarded(lambda pupils: _keep(pupils, view))


def _keep(pupils: Students, view: dict[str, str] | None) -> None:
    token, saved = STUDENT_TOKEN.get(), SAVED.get()
    wanted: dict[str, tuple[object, Callable[[], bytes]]] = {
        name: (name, lambda file=file, png=png: file.encode() + b"\0" + png)
        for name, (file, png) in UPLOADS.get().items()
    }
    if (lab := LAB_MODEL.get()) is not None:
        wanted[LAB_MODEL_PIECE] = (_lab_state(lab), lambda: lab_model_bytes(lab))
    if view is not None:  # another page has no view: the one saved stays
        text = json.dumps(view, sort_keys=True)
        wanted[VIEW] = (text, text.encode)
    for name in [name for name in saved if name != VIEW and name not in wanted]:  # pushed out by newer uploads
        pupils.drop(token, name)
        del saved[name]
    for name, (made_from, data) in wanted.items():
        if saved.get(name) != made_from:
            try:
                pupils.keep(token, name, data())
            except WorkRefused as refused:  # too large: the rest is still saved
                SAVE_NOTICE.set(str(refused))
                continue
            saved[name] = made_from


def _lab_state(lab) -> tuple[str, int, bool]:
    """What tells a lab model's saved copy is out of date: a new model, more training, or its end."""
    return lab.id, len(lab.history), lab.finished


def _guarded(work: Callable[[Students], None]) -> None:
    """Run `work` on the store; a store that is missing, has forgotten this student, or does not answer ends the
    saving for this session (said in plain words; the log has the cause), and the page goes on."""
    pupils = students()
    if pupils is None:
        SAVING.set(False)
        return
    try:
        work(pupils)
    except StudentUnknown as unknown:
        SAVING.set(False)
        SAVE_NOTICE.set(str(unknown))
    except SQLAlchemyError as error:
        logger.error("The store failed with a student's work (%s: %s)", type(error).__name__, error, exc_info=True)
        SAVE_NOTICE.set(STORE_TROUBLE)


def save_notice_ui() -> None:
    """Why something was not saved or restored, under the class part of the sidebar. A notice of this module is
    translated here; a refusal of the store's was translated where raised (and `_` leaves it as it is)."""
    if notice := SAVE_NOTICE.get():
        with st.sidebar:
            st.caption(f":material/cloud_off: {_(notice)}")
