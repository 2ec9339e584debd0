"""A class together, the student's side: join by the class code (or the class link, `?class=CODE`), answer each
lesson's question before dragging, and after the teacher's reveal see the class's answers beside the measured one.
Also the class store itself, one per process, and the answers' chart the teacher's page shows too."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from pathlib import Path

import streamlit as st

from locales import N_, _
from store import Classroom, Students, VoteRefused, open_store
from ui.language import use_language
from ui.lessons import Lesson
from ui.state import (
    CLASS_CODE,
    CLASS_CODE_INPUT,
    CLASS_ERROR,
    CLASS_WRONG_CODES,
    STUDENT_TOKEN,
    set_vote,
    vote_key,
    vote_known,
    vote_of,
)

logger = logging.getLogger(__name__)

DATABASE_URL_ENV = "SHIFTLAB_DATABASE_URL"  # e.g. postgresql+psycopg://user@host/shiftlab for a school
DATA_DIR_ENV = "SHIFTLAB_DATA_DIR"  # where the embedded SQLite store is made; default: <project>/data
WRONG_CODES = 5  # a minute, per session
REFRESH_S = 3  # how often a student's question and a teacher's counts are read again
# TRANSLATORS: *Class* is the heading of the sidebar's class part (the word of "Class" there).
ENDED = N_("Class {code} has ended: the teacher cleared it. Join another under *Class*.")
NO_STORE = N_("The class store cannot be opened, so classes are off on this server; everything else works.")


@st.cache_resource
def class_store() -> Classroom | None:
    """The process's class store (SQLite in the data folder, or the database of DATABASE_URL_ENV); None, logged,
    when it cannot be opened."""
    folder = Path(os.environ.get(DATA_DIR_ENV) or Path(__file__).resolve().parents[1] / "data")
    try:
        return Classroom(open_store(os.environ.get(DATABASE_URL_ENV), folder))
    except Exception as exc:  # StoreError, a bad URL, a server down, a folder not writable: the log says which
        logger.error("The class store at %s cannot be opened (%s: %s)", folder, type(exc).__name__, exc, exc_info=True)
        return None


def students() -> Students | None:
    """The students' part of the class store (their saved work), or None without a store."""
    store = class_store()
    return Students(store.engine) if store is not None else None


def join_ui() -> None:
    """The sidebar's class part: the code to join, or the class joined and the way out."""
    with st.sidebar:
        # TRANSLATORS: a heading: the class (a group of students with their teacher) the student joins.
        st.header(_("Class"))
        if code := CLASS_CODE.get():
            st.caption(_("You are in class **{code}**: each lesson's question is answered together.").format(code=code))
            st.button(_("Leave the class"), key="class_leave", on_click=enrol, args=(None,), width="stretch")
        else:
            st.text_input(
                _("Class code"),
                key=CLASS_CODE_INPUT.name,
                max_chars=8,
                # TRANSLATORS: an example of a class code, shown in the empty field.
                placeholder=_("e.g. {example}").format(example="K7RQ2"),
            )
            # TRANSLATORS: a button: join the class whose code was typed.
            st.button(_("Join"), key="class_join", on_click=join_typed, width="stretch")
        if error := CLASS_ERROR.get():
            st.warning(error, icon=":material/group_off:")


def join_typed() -> None:
    use_language()  # a callback runs before the page's run sets the language
    join(CLASS_CODE_INPUT.get())


def join(code: str, now: float | None = None) -> None:
    """Join the class `code` (typed, or from a link) if it exists; otherwise say so. After WRONG_CODES wrong codes
    within a minute, no code is tried until the minute is over (codes are not to be found by guessing)."""
    store, code, now = class_store(), code.strip().upper(), time.monotonic() if now is None else now
    wrong = [moment for moment in CLASS_WRONG_CODES.get() if now - moment < 60]
    if store is None:
        CLASS_ERROR.set(_(NO_STORE))
    elif len(wrong) >= WRONG_CODES:
        CLASS_ERROR.set(_("Too many wrong codes: wait a minute, then type the code on the teacher's screen again."))
    elif code and store.exists(code):
        enrol(code)
        CLASS_ERROR.set(None)
    else:
        CLASS_WRONG_CODES.set([*wrong, now])
        CLASS_ERROR.set(_("There is no class “{code}”: check the code on the teacher's screen.").format(code=code[:8]))


def enrol(code: str | None) -> None:
    """Join the class `code` (None: leave it); the store notes it, so that clearing the class clears this student's
    saved work too."""
    CLASS_CODE.set(code)
    if (pupils := students()) is not None:
        pupils.enrol(STUDENT_TOKEN.get(), code)


@st.fragment(run_every=REFRESH_S)
def class_question(key: str, lesson: Lesson) -> None:
    """The lesson's question for a student in a class: answered before dragging, closed at the reveal, then the
    class's answers beside the measured one. Read again every REFRESH_S s, so that the reveal arrives by itself."""
    use_language()  # a fragment's own run is a run of its own
    store, code, vote = class_store(), CLASS_CODE.get(), lesson.vote
    if store is None or code is None or vote is None:
        return
    if not store.exists(code):
        st.info(_(ENDED).format(code=code), icon=":material/event_busy:")
        return
    if not vote_known(key):  # a new session of this student sees its earlier answer
        set_vote(key, store.answer_of(code, key, STUDENT_TOKEN.get()))
    revealed = store.revealed(code, key)
    st.radio(
        _("**Your answer, for the class:** {question}").format(question=_(vote.question)),
        range(len(vote.choices)),
        format_func=lambda n: _(vote.choices[n]),
        key=vote_key(key),
        on_change=answer,
        args=(key,),
        disabled=revealed,
        horizontal=True,
    )
    if revealed:
        answers_chart(store.counts(code, key), lesson, revealed=True)
    elif (choice := vote_of(key)) is not None:
        st.caption(taken_words(_(vote.choices[choice])))


def taken_words(choice: str) -> str:
    """What a student sees once the store has their answer (`choice` as shown)."""
    return _("Answer taken: “{choice}”. You can change it until the teacher reveals the answers.").format(choice=choice)


def answer(key: str) -> None:
    """Send the student's answer to the store; a refused one is said in plain words and taken back."""
    use_language()  # a callback runs before the page's run sets the language
    store, code, choice = class_store(), CLASS_CODE.get(), vote_of(key)
    if store is None or code is None or choice is None:
        return
    try:
        store.vote(code, key, STUDENT_TOKEN.get(), choice)
        CLASS_ERROR.set(None)
    except VoteRefused as refused:
        CLASS_ERROR.set(str(refused))
        set_vote(key, store.answer_of(code, key, STUDENT_TOKEN.get()))


def answers_chart(counts: Counter[int], lesson: Lesson, revealed: bool) -> None:
    """How many gave each answer (no names); once revealed, the measured answer marked, and the measurement it
    rests on."""
    vote, total = lesson.vote, sum(counts.values())
    for n, choice in enumerate(vote.choices):
        if revealed and n == lesson.answer:
            # TRANSLATORS: an answer of the class's vote, the one measured on the models; how many chose it.
            text = _("{choice} ✓ (measured): {count} of {total}")
        else:
            # TRANSLATORS: an answer of the class's vote; how many students chose it, of all who answered.
            text = _("{choice}: {count} of {total}")
        st.progress(
            counts[n] / total if total else 0.0, text=text.format(choice=_(choice), count=counts[n], total=total)
        )
    if revealed:
        claim = lesson.claims[vote.claim]
        st.markdown(
            _("**Measured on the real models:** {says} (the app's own figure, as *What to notice* says).").format(
                says=_(claim.says)
            )
        )
