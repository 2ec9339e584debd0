"""A class together, the teacher's side: unlocked by the server's teacher secret, start a class, show its code,
watch the answers to a lesson's question arrive as counts (no names), reveal them beside the measured answer, or
reset them. A student's session never has the secret, so it can never reach these actions."""

from __future__ import annotations

import hmac
import logging
import os
import secrets

import streamlit as st

from locales import _
from ui.classroom_view import NO_STORE, REFRESH_S, answers_chart, class_store
from ui.language import use_language
from ui.lessons import LESSONS, lesson_title
from ui.state import TEACHER, TEACHER_CLASS, TEACHER_LESSON, TEACHER_SECRET_INPUT

logger = logging.getLogger(__name__)

TEACHER_SECRET_ENV = "SHIFTLAB_TEACHER_SECRET"
VOTING = [key for key, lesson in LESSONS.items() if lesson.vote is not None]


@st.cache_resource
def teacher_secret() -> str:
    """The server's teacher secret: TEACHER_SECRET_ENV, or one made at start and written to the server's console
    (where `make class` shows it to the teacher who started it)."""
    if secret := os.environ.get(TEACHER_SECRET_ENV):
        return secret
    secret = secrets.token_urlsafe(9)
    logger.warning("No %s is set: the teacher secret of this server is %s", TEACHER_SECRET_ENV, secret)
    return secret


def unlock() -> None:
    """The secret typed in, compared in constant time."""
    use_language()  # a callback runs before the page's run sets the language
    given = TEACHER_SECRET_INPUT.get().strip().encode()
    TEACHER.set(hmac.compare_digest(given, teacher_secret().encode()))
    TEACHER_SECRET_INPUT.set("")
    if not TEACHER.get():
        st.toast(_("That is not this server's teacher secret."), icon=":material/lock:")


def teacher_page() -> None:
    # TRANSLATORS: the title of the teacher's page.
    st.title(_("Teacher"), anchor=False)
    teacher_secret()  # made (and written to the console) at the first visit, if none was given
    store = class_store()
    if store is None:
        st.warning(_(NO_STORE), icon=":material/database_off:")
        return
    if not TEACHER.get():
        st.text_input(_("Teacher secret"), type="password", key=TEACHER_SECRET_INPUT.name, on_change=unlock)
        st.caption(
            _(
                "Set by the {variable} environment variable where the app is started, or written to its console "
                "when it starts without one."
            ).format(variable=TEACHER_SECRET_ENV)
        )
        return
    if (code := TEACHER_CLASS.get()) is None or not store.exists(code):
        st.button(_("Start a class"), key="class_start", type="primary", on_click=start_class)
        return
    st.markdown("## " + _("Class code: **{code}**").format(code=code))
    st.caption(
        # TRANSLATORS: *Class* is the heading of the sidebar's class part (the word of "Class" there); {ending} is the
        # end of the page's address, e.g. ?class=K7RQ2.
        _("Students type it under *Class* in the sidebar, or open the page with `{ending}` at its end.").format(
            ending=f"?class={code}"
        )
    )
    if TEACHER_LESSON.get() not in VOTING:
        TEACHER_LESSON.set(VOTING[0])
    key = st.selectbox(_("Lesson"), VOTING, format_func=lesson_title, key=TEACHER_LESSON.name)
    reveal, reset, new, clear = st.columns(4)
    reveal.button(_("Reveal the answers"), key="class_reveal", type="primary", on_click=lambda: store.reveal(code, key))
    reset.button(_("Reset this lesson's answers"), key="class_reset", on_click=lambda: store.reset(code, key))
    new.button(_("Start a new class"), key="class_new", on_click=start_class)
    with clear.popover(_("Clear the class…"), icon=":material/delete:"):
        st.markdown(
            _(
                "Deletes this class's answers and everything its students saved (lab models, pictures, views), for "
                "example at the end of a lesson on shared computers. Their next visit starts afresh."
            )
        )
        st.button(_("Clear the class"), key="class_clear", type="primary", on_click=clear_class, args=(code,))
    live_answers(code, key)


def start_class() -> None:
    use_language()  # a callback runs before the page's run sets the language (a StoreError says why in words)
    if TEACHER.get() and (store := class_store()) is not None:
        TEACHER_CLASS.set(store.start_class())


def clear_class(code: str) -> None:
    use_language()  # a callback runs before the page's run sets the language
    if TEACHER.get() and (store := class_store()) is not None:
        store.clear(code)
        TEACHER_CLASS.set(None)
        st.toast(_("Class {code} is cleared.").format(code=code), icon=":material/delete:")


@st.fragment(run_every=REFRESH_S)
def live_answers(code: str, key: str) -> None:
    """The question and the class's answers so far, as counts; after the reveal, beside the measured answer."""
    use_language()  # a fragment's own run is a run of its own
    store, lesson = class_store(), LESSONS[key]
    st.markdown(f"**{_(lesson.vote.question)}**")
    answers_chart(store.counts(code, key), lesson, revealed=store.revealed(code, key))
