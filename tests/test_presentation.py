"""Presentation mode's logic (AppTest): the switch, kept in the link, and the way out; the layout itself is
checked in Chromium (tests/test_browser_presentation.py)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from models import WEIGHTS_DIR_ENV

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def styles(at: AppTest) -> str:
    return "\n".join(element.proto.body for element in at.get("html"))


def test_a_link_opens_presentation_mode_and_its_own_button_leaves_it(monkeypatch, tmp_path):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lesson"] = "aliasing"
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert at.toggle(key="present").value
    assert 'section[data-testid="stSidebar"]' in styles(at)  # the sidebar is hidden
    at.button(key="lesson_next").click().run()  # a lesson's own view keeps the mode
    assert at.toggle(key="present").value and at.query_params["present"] == "1"
    at.button(key="present_leave").click().run()
    assert not at.exception, at.exception
    assert not at.toggle(key="present").value and "present" not in at.query_params
    assert 'section[data-testid="stSidebar"]' not in styles(at)


def test_without_the_switch_nothing_is_hidden(monkeypatch, tmp_path):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.toggle(key="present").value and "present" not in at.query_params
    assert 'section[data-testid="stSidebar"]' not in styles(at)
    assert not [button for button in at.button if button.key == "present_leave"]
