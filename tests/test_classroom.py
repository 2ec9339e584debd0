"""A class together in the app: the teacher unlocks with the secret and starts a class, students join by code or
link and answer, the teacher sees counts and reveals, and everyone sees the answers beside the measured one. Every
lesson's question has exactly one right answer, the one its measured claim backs."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ui import classroom_view
from ui.lessons import LESSONS

from .conftest import SECRET
from .test_app import APP


@pytest.mark.parametrize("key", list(LESSONS))
def test_each_lessons_question_has_one_answer_the_measured_claim_backs(key):
    lesson = LESSONS[key]
    assert lesson.vote is not None and len(lesson.vote.choices) == len(lesson.vote.ranges)
    assert lesson.answer is not None, "exactly one choice's range must hold the claim"


def test_a_class_answers_the_teacher_reveals_and_a_student_never_reaches_teacher_actions(store_env):
    store = classroom_view.class_store()
    code = store.start_class()
    students = []
    for n, answer in enumerate([3, 3, 1]):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["lesson"] = "equivariance"
        if n == 0:
            at.query_params["class"] = code  # the class link
            at.run()
        else:
            at.query_params["class"] = "WRONG"
            at.run()
            assert any("There is no class" in w.value for w in at.warning)
            at.text_input(key="class_code_input").set_value(code.lower()).run()
            at.button(key="class_join").click().run()
        assert not at.exception, at.exception
        assert at.session_state["class_code"] == code
        at.radio(key="vote_equivariance").set_value(answer).run()
        students.append(at)
    assert store.counts(code, "equivariance") == {3: 2, 1: 1}
    assert at.query_params["class"] == code  # a refresh stays in the class
    assert not [b for b in students[0].button if b.key in ("class_reveal", "class_reset", "class_start")]
    store.reveal(code, "equivariance")
    students[0].run()
    shown = " ".join(p.proto.text for p in students[0].get("progress"))
    assert "Move 20 cells ✓ (measured): 2 of 3" in shown
    assert any("Measured on the real models" in m.value for m in students[0].markdown)
    assert students[0].radio(key="vote_equivariance").disabled


def test_the_teacher_page_needs_the_secret_then_starts_a_class_and_shows_the_counts(store_env):
    at = AppTest.from_function(_teacher_page, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.key == "class_start"]
    at.text_input(key="teacher_secret_input").set_value("a guess").run()
    assert not at.session_state["teacher"] and not [b for b in at.button if b.key == "class_start"]
    at.text_input(key="teacher_secret_input").set_value(SECRET).run()
    at.button(key="class_start").click().run()
    code = at.session_state["teacher_class"]
    assert any(code in m.value for m in at.markdown)
    store = classroom_view.class_store()
    store.vote(code, "equivariance", "s1", 3)
    at.run()
    assert "Move 20 cells: 1 of 1" in " ".join(p.proto.text for p in at.get("progress"))
    at.button(key="class_reveal").click().run()
    assert store.revealed(code, "equivariance")
    at.button(key="class_reset").click().run()
    assert not store.revealed(code, "equivariance") and not store.counts(code, "equivariance")
    at.button(key="class_clear").click().run()  # in its popover, which says what it deletes
    assert not store.exists(code) and at.session_state["teacher_class"] is None
    assert [b for b in at.button if b.key == "class_start"]


def test_a_student_whose_class_was_cleared_is_told_it_has_ended(store_env):
    store = classroom_view.class_store()
    code = store.start_class()
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"lesson": "equivariance", "class": code})
    at.run()
    store.clear(code)
    at.run()
    assert not at.exception, at.exception
    assert any(f"Class {code} has ended" in i.value for i in at.info)
    assert not [r for r in at.radio if r.key == "vote_equivariance"]


def _teacher_page() -> None:
    from ui.state import init_state
    from ui.teacher_view import teacher_page

    init_state()
    teacher_page()


def test_wrong_class_codes_are_limited_to_five_a_minute(store_env):
    code = classroom_view.class_store().start_class()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for _ in range(classroom_view.WRONG_CODES):
        at.text_input(key="class_code_input").set_value("ZZZZZ").run()
        at.button(key="class_join").click().run()
    at.text_input(key="class_code_input").set_value(code).run()
    at.button(key="class_join").click().run()  # the right code, but too soon after five wrong ones
    assert at.session_state["class_code"] is None
    assert any("Too many wrong codes" in w.value for w in at.warning)
    at.session_state["class_wrong_codes"] = [t - 61 for t in at.session_state["class_wrong_codes"]]  # a minute on
    at.button(key="class_join").click().run()
    assert at.session_state["class_code"] == code
