"""Nothing lost: a student's lab model, uploads and view come back in a new session that brings their browser's
token (a refresh, a restart: the store is a file); a token the store does not know opens an empty session with a
new token; the teacher's *Clear the class* ends the saving; a lab model survives its trip through bytes."""

from __future__ import annotations

import io
from dataclasses import replace
from functools import partial

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from models.families import LAB, LabModel
from models.lab_experiments import LAB_CONFIG
from models.saved_lab import lab_model_bytes, lab_model_from_bytes
from models.small_cnn import build_small_cnn
from models.training import Progress
from store import Students
from ui import classroom_view, saved_work

from .test_app import APP


def a_lab_model() -> LabModel:
    history = [Progress(step, 4, 1 + step // 2, 2.0 / step, step / 4) for step in range(1, 5)]
    return LabModel(build_small_cnn(replace(LAB_CONFIG, canvas=48), seed=3).eval(), "one location", history, True)


def picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def session(monkeypatch, cookie: str | None, **query: str) -> AppTest:
    """A new browser session of the app whose first request carried `cookie` (AppTest cannot send cookies)."""
    monkeypatch.setattr(saved_work, "browser_token", lambda: cookie)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_lab_model_comes_back_from_its_bytes_with_its_weights_training_curve_and_origin():
    lab = a_lab_model()
    back = lab_model_from_bytes(lab_model_bytes(lab))
    assert (back.region, back.finished, back.history, back.model.config) == (
        lab.region,
        lab.finished,
        lab.history,
        lab.model.config,
    )
    assert all(
        torch.equal(a, b)
        for a, b in zip(lab.model.state_dict().values(), back.model.state_dict().values(), strict=True)
    )
    assert back.id != lab.id and not back.model.training
    for damaged in (b"", b"not a model", lab_model_bytes(lab)[:-40]):
        with pytest.raises(ValueError, match="not a saved lab model"):
            lab_model_from_bytes(damaged)


def test_the_next_session_of_the_same_browser_finds_the_lab_model_the_upload_and_the_view(monkeypatch, store_env):
    first = session(monkeypatch, None)
    token = first.session_state["student_token"]
    lab = a_lab_model()
    first.session_state["lab_model"] = lab
    first.file_uploader(key="object_upload").set_value(("red.png", picture(), "image/png")).run()
    upload = first.session_state["object"]
    assert upload.startswith("upload-")
    first.selectbox(key="model").set_value(LAB).run()
    first.number_input(key="x").set_value(10).run()
    assert not first.exception, first.exception

    again = session(monkeypatch, token)  # the bare address, as after a restart: no view in the URL
    assert again.session_state["student_token"] == token
    back = again.session_state["lab_model"]
    assert back.history == lab.history and back.region == lab.region
    assert all(
        torch.equal(a, b)
        for a, b in zip(lab.model.state_dict().values(), back.model.state_dict().values(), strict=True)
    )
    assert again.session_state["uploads"][upload][0] == "red.png"
    assert again.selectbox(key="model").value == LAB and again.session_state["x"] == 10

    linked = session(monkeypatch, token, lesson="aliasing")  # a link's view comes first
    assert linked.session_state["lesson"] == "aliasing" and linked.session_state["lab_model"] is not None


@pytest.mark.parametrize("cookie", ["made-up", "A" * 43, "../../etc/passwd", "x" * 5000])
def test_a_token_the_store_does_not_know_opens_an_empty_session_with_a_new_token(monkeypatch, store_env, cookie):
    owner = session(monkeypatch, None)
    owner.session_state["lab_model"] = a_lab_model()
    owner.run()
    stranger = session(monkeypatch, cookie)
    token = stranger.session_state["student_token"]
    assert token not in (cookie, owner.session_state["student_token"])
    assert stranger.session_state["lab_model"] is None and stranger.session_state["uploads"] == {}
    pupils = Students(classroom_view.class_store().engine)
    assert pupils.restore(token) is not None  # the new token is the store's now
    assert "lab_model" in pupils.restore(owner.session_state["student_token"])  # and the owner's work is untouched


def test_clearing_the_class_ends_a_students_saving_and_their_next_visit_starts_afresh(monkeypatch, store_env):
    store = classroom_view.class_store()
    code = store.start_class()
    student = session(monkeypatch, None, **{"class": code})
    token = student.session_state["student_token"]
    student.session_state["lab_model"] = a_lab_model()
    student.run()
    store.clear(code)
    student.number_input(key="x").set_value(30).run()
    assert not student.exception, student.exception
    assert any("cleared" in c.value for c in student.caption)
    assert student.session_state["lab_model"] is not None  # what is on screen stays until the page is closed
    later = session(monkeypatch, token)
    assert later.session_state["student_token"] != token and later.session_state["lab_model"] is None


def test_work_over_the_bound_is_said_and_the_rest_is_still_saved(monkeypatch, store_env):
    monkeypatch.setattr(classroom_view, "Students", partial(Students, saved_bytes=4000))
    student = session(monkeypatch, None)
    student.session_state["lab_model"] = a_lab_model()  # far over 4000 bytes
    student.number_input(key="x").set_value(30).run()
    assert any("not kept over a refresh" in c.value for c in student.caption)
    again = session(monkeypatch, student.session_state["student_token"])
    assert again.session_state["lab_model"] is None and again.session_state["x"] == 30


def test_the_uploaded_picture_is_the_object_again_at_the_bare_address_and_behind_a_link(monkeypatch, store_env):
    first = session(monkeypatch, None)
    first.file_uploader(key="object_upload").set_value(("red.png", picture(), "image/png")).run()
    upload, token = first.session_state["object"], first.session_state["student_token"]
    first.number_input(key="x").set_value(40).run()
    link = {key: first.query_params[key] for key in first.query_params}
    assert "object" not in link  # a link never names an upload
    assert session(monkeypatch, token).session_state["object"] == upload
    reloaded = session(monkeypatch, token, **link)
    assert reloaded.session_state["object"] == upload and reloaded.session_state["x"] == 40
