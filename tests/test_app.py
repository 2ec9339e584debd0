"""The app's logic, run headless with Streamlit's AppTest (no browser, no JavaScript)."""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import REGISTRY, WEIGHTS_DIR_ENV
from models.families import LAB, TEACHING, LabModel, lab_family, teaching_family
from models.lab_experiments import LAB_CONFIG
from models.small_cnn import build_small_cnn
from probes import grid_positions
from ui.export import zip_bytes
from ui.lessons import LESSONS
from ui.live_update import update
from ui.notes import NOTES
from ui.state import CANVAS_KEY
from ui.uploads import UPLOAD_PREFIX, UPLOADS_KEPT

from .fake_downloads import no_name_service, serve
from .plain_words import technical_text
from .upload_corpus import upload_corpus

APP = str(Path(__file__).resolve().parents[1] / "app.py")
MAPS_CAPTION = re.compile(r"<p class=\"maps-caption\">(.*?)</p>", re.S)


@pytest.fixture(autouse=True)
def empty_torch_cache(monkeypatch, tmp_path):
    """A torch hub cache of this test's own, so weights someone downloaded earlier never count."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))


def start_app(monkeypatch: pytest.MonkeyPatch, weights: Path) -> AppTest:
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(weights))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def drag_to(at: AppTest, x: int, y: int, seq: int, dragging: bool = True) -> None:
    """What the drag canvas does in the browser: send a position with a new sequence number."""
    at.session_state[CANVAS_KEY] = {"pos": {"x": x, "y": y, "seq": seq, "dragging": dragging}}
    at.run()
    assert not at.exception, at.exception


def html(at: AppTest) -> str:
    return "\n".join(element.proto.body for element in at.get("html"))


def top5_bars(at: AppTest) -> list[str]:
    """The top-5 bars of each model shown, pretrained first."""
    return [element.proto.body for element in at.get("html") if 'class="top5"' in element.proto.body]


def captions(at: AppTest) -> str:
    """Every caption, the maps' too (drawn in one HTML element with the maps)."""
    maps = (re.sub(r"<[^>]+>", "", m[1]) for h in at.get("html") for m in re.finditer(MAPS_CAPTION, h.proto.body))
    return "\n".join([*(c.value for c in at.caption), *maps])


def sources(at: AppTest) -> str:
    """Where each model's weights came from: the tooltip of its column's title."""
    return "\n".join(s.proto.help for s in at.subheader)


def test_app_opens_offline_without_weights_and_says_what_to_do(monkeypatch, tmp_path, caplog):
    """Issue 12: with no weights and no network, the pretrained column showed "URLError: <urlopen error
    [Errno -2] Name or service not known>" and the server's path. Now it says what happened and what to
    do in plain words; the log has the detail."""
    serve(monkeypatch, no_name_service)  # what urlopen raises on a machine with no network
    with caplog.at_level(logging.WARNING, logger="models.weights"):
        at = start_app(monkeypatch, tmp_path)
    (warning,) = [w.value for w in at.warning if "pretrained weights" in w.value]
    assert warning.startswith("No pretrained weights for MobileNetV2. There is no mobilenet_v2.pth in the weights")
    assert "the download server could not be reached (is there no internet connection here?)" in warning
    assert WEIGHTS_DIR_ENV in warning and "`make offline`" in warning and "scratch twin still works" in warning
    assert not technical_text(warning) and str(tmp_path) not in warning, warning
    assert any(b.label == "Try again" for b in at.button)
    assert "random initialisation" in sources(at)  # the scratch twin still works
    assert "top5-row" in html(at)  # its top-5 bars
    (record,) = [r for r in caplog.records if r.name == "models.weights"]  # the detail, for whoever runs the server
    logged = record.getMessage()
    assert "URLError: <urlopen error [Errno -2] Name or service not known>" in logged, logged
    assert str(tmp_path / "mobilenet_v2.pth") in logged and record.exc_info is not None


def test_injected_drag_position_moves_the_object_and_changes_the_outputs(monkeypatch, shared_weights):
    at = start_app(monkeypatch, shared_weights)
    before = top5_bars(at)
    assert "object at x = 112, y = 112" in captions(at)

    drag_to(at, 40, 60, seq=1)

    assert (at.number_input(key="x").value, at.number_input(key="y").value) == (40, 60)
    assert "object at x = 40, y = 60" in captions(at)
    after = top5_bars(at)
    assert len(after) == 2
    assert after[0] != before[0]  # the pretrained model's scores moved with the object
    assert [(p["x"], p["y"]) for p in at.session_state.path] == [(112, 112), (40, 60)]


def test_positions_are_clamped_to_the_canvas(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    drag_to(at, -30, 999, seq=1)
    assert (at.session_state.x, at.session_state.y) == (0, 223)


def test_an_old_drag_position_does_not_override_typed_coordinates(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    drag_to(at, 50, 50, seq=1)
    at.number_input(key="x").set_value(70).run()
    assert at.session_state.x == 70  # the browser's seq 1 was already used
    drag_to(at, 80, 90, seq=2)
    assert (at.session_state.x, at.session_state.y) == (80, 90)


def test_reset_path_starts_a_new_path_at_the_current_position(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    for seq, x in enumerate((100, 90, 80), start=1):
        drag_to(at, x, 112, seq=seq)
    assert len(at.session_state.path) == 4
    at.button(key="reset_path").click().run()
    assert [(p["x"], p["y"]) for p in at.session_state.path] == [(80, 112)]


@pytest.mark.parametrize("model", list(REGISTRY))
def test_every_registry_model_runs_in_the_app_as_its_scratch_twin(monkeypatch, tmp_path, model):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["model"] = model
    at.run()
    assert not at.exception, at.exception
    assert f"{REGISTRY[model].label}: random initialisation" in sources(at)
    drag_to(at, 20, 200, seq=1)
    assert "object at x = 20, y = 200" in captions(at)


def test_a_larger_canvas_lets_the_object_go_further(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="canvas").set_value(448).run()
    assert not at.exception, at.exception
    drag_to(at, 400, 430, seq=1)
    assert (at.session_state.x, at.session_state.y) == (400, 430)


def measurements(at: AppTest) -> str:
    return next(element.proto.body for element in at.get("html") if "measurements-panel" in element.proto.body)


def readouts(at: AppTest) -> str:
    """The chosen layer's numbers beside each model's maps."""
    return "\n".join(element.proto.body for element in at.get("html") if 'class="readout"' in element.proto.body)


def test_measurements_compare_against_the_reference_and_wait_for_the_release_unless_live(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    assert "moved by Δx = 0, Δy = 0 px" in measurements(at)
    assert "Baseline for similarity: the coffee" in measurements(at)
    before = measurements(at)
    drag_to(at, 144, 112, seq=1)  # mouse button still down: the table stays as it was
    assert measurements(at) == before
    drag_to(at, 144, 112, seq=2, dragging=False)  # released: measured again
    table = measurements(at)
    assert "moved by Δx = 32, Δy = 0 px" in table
    assert "(+1.0, +0.0)" in table  # Δ/s at the stride-32 last layer
    at.toggle(key="live_measurements").set_value(True).run()
    drag_to(at, 150, 112, seq=3)  # mouse button down, but the chosen layer is measured live now
    assert measurements(at) == table  # every layer's table waits for the object to rest
    assert "(+4.8, +0.0) cells" in readouts(at)  # beside the maps, live: 38 px at the default layer's stride 8
    assert set(at.session_state.measured[-1].reports["scratch"]) == {"features.6.add"}
    assert table.count("<tr>") == 1 + len(REGISTRY["mobilenet_v2"].layers)  # header + one row per probe layer


def test_a_drag_update_outside_a_run_shows_what_a_run_draws_and_extends_the_same_path(monkeypatch, tmp_path):
    # The drag route (ui.drag_route) answers from the LiveScene the last run left in the session's state
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="lesson").set_value("equivariance").run()  # lesson 1: measured live
    x, y = (int(LESSONS["equivariance"].view[k]) for k in ("x", "y"))
    scene = at.session_state.live_scene
    answer = update(scene, x + 20, y, dragging=True)  # as the route computes a drag's update, outside any run
    assert f"object at x = {x + 20}, y = {y}" in answer.columns["scratch"]
    assert "equivariance error" in answer.columns["scratch"] and "20 px right" in answer.sentence
    assert at.session_state.path[-1]["x"] == x + 20  # the session's own path, and its measurements
    assert at.session_state.measured[-1].position == (x + 20, y)
    drag_to(at, x + 20, y, seq=1)  # the same position through a run of the page
    drawn = next(e.proto.body for e in at.get("html") if 'data-column="scratch"' in e.proto.body)
    assert re.sub(r"^<div [^>]*>|</div>$", "", drawn) == answer.columns["scratch"]
    assert len(at.session_state.path) == 2  # the run did not add the position the route had
    assert at.session_state.live_scene is not scene  # each run leaves its own


def test_each_rest_adds_a_point_to_the_shift_plot_and_a_new_reference_clears_it(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    drag_to(at, 150, 112, seq=1)  # dragging: nothing measured
    drag_to(at, 144, 112, seq=2, dragging=False)  # released
    drag_to(at, 144, 80, seq=3, dragging=False)  # an arrow key: at rest
    measured = at.session_state.measured
    assert [m.position for m in measured] == [(112, 112), (144, 112), (144, 80)]
    assert measured[-1].reports["scratch"]["features.6.add"].measured_cells == pytest.approx((4.0, -4.0), abs=0.05)
    plots = next(element.proto.body for element in at.get("html") if "shift-plots-panel" in element.proto.body)
    assert plots.count('class="shift-plot"') == 2  # horizontal and vertical
    at.button(key="reset_path").click().run()
    assert [m.position for m in at.session_state.measured] == [(144, 80)]


def test_score_maps_are_computed_on_request_and_follow_the_object(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    assert not any('class="score-map"' in element.proto.body for element in at.get("html"))
    at.selectbox(key="score_map_step").set_value(32).run()
    at.button(key="compute_score_maps").click().run()
    assert not at.exception, at.exception
    assert "stays first at" in captions(at) and "of 49 positions" in captions(at)  # a 7 x 7 grid on 224 px
    maps = [element.proto.body for element in at.get("html") if 'class="score-map"' in element.proto.body]
    drag_to(at, 30, 30, seq=1)
    moved = [element.proto.body for element in at.get("html") if 'class="score-map"' in element.proto.body]
    assert len(moved) == len(maps) == 1 and moved != maps  # the ring moved with the object


def test_grid_steps_too_fine_for_a_large_canvas_are_not_offered(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="score_map_step").set_value(4).run()
    at.selectbox(key="canvas").set_value(448).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="score_map_step").options == ["32", "16", "8"]  # 4 px would be 112 × 112 positions
    assert at.selectbox(key="score_map_step").value == 32  # the default again: 14 × 14 positions, as on 224 px


def test_one_pixel_sweep_reports_each_models_flip_rate(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.button(key="compute_sweep").click().run()
    assert not at.exception, at.exception
    sweep = next(m.value for m in at.markdown if "One-pixel sweep" in m.value)
    assert "at y = 112" in sweep and "over 223 moves" in sweep and "Scratch twin 0.0%" in sweep
    assert "where the object is now (x = 112)" in captions(at)  # the chart's dashed line
    drag_to(at, 60, 40, seq=1)  # the sweep stays at the height it was asked for; the line follows the object
    assert "at y = 112" in next(m.value for m in at.markdown if "One-pixel sweep" in m.value)
    assert "where the object is now (x = 60)" in captions(at)


def test_shift_consistency_reports_agreement_over_random_pairs(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.button(key="compute_consistency").click().run()
    assert not at.exception, at.exception
    text = next(m.value for m in at.markdown if "Shift consistency" in m.value)
    assert "of 100 random pairs" in text and "Scratch twin 100%" in text  # the scratch twin's answer never changes


def test_the_download_holds_the_data_of_every_panel_shown(monkeypatch, tmp_path):
    offered = []
    monkeypatch.setattr("ui.live_view.export_button", lambda files, name: offered.append((files, name)))
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="score_map_step").set_value(32).run()
    for button in ("compute_score_maps", "compute_sweep", "compute_consistency"):
        at.button(key=button).click().run()
    assert not at.exception, at.exception
    files, name = offered[-1]
    assert name == "shift-lab_mobilenet_v2_cat_x112_y112"
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(files)))
    rows = {n: list(csv.DictReader(io.StringIO(archive.read(n).decode()))) for n in archive.namelist() if ".csv" in n}
    assert len(rows["score_maps.csv"]) == 7 * 7  # only the scratch twin: no pretrained weights here
    assert [row["x"] for row in rows["sweep.csv"]] == [str(x) for x in range(224)]
    assert len(rows["shift_consistency.csv"]) == 100
    assert len(rows["measurements.csv"]) == len(REGISTRY["mobilenet_v2"].layers)
    assert len(rows["feature_maps_scratch.csv"]) == 8 * 28 * 28  # 8 channels of the stride-8 default layer
    for figure in ("score_maps.png", "sweep.png", "path.png", "feature_shift.png", "feature_maps_scratch.png"):
        assert archive.read(figure).startswith(b"\x89PNG")


def test_the_teaching_cnns_show_in_the_drag_view_and_only_the_pretrained_one_generalises(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="model").set_value(TEACHING).run()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][1:] == [column.title for column in teaching_family().columns]
    assert (at.session_state.x, at.session_state.y) == (32, 32)  # the 64-px canvas starts at its centre
    assert "learnt from scratch" in at.markdown[0].value  # the intro says what the columns compare
    drag_to(at, 20, 44, seq=1, dragging=False)
    assert "Baseline for similarity: the" in measurements(at)
    at.selectbox(key="score_map_step").set_value(8).run()
    at.button(key="compute_score_maps").click().run()
    kept = [float(re.search(r"stays first at (\d+)%", c.value)[1]) for c in at.caption if "stays first at" in c.value]
    assert len(kept) == 2 and kept[0] > kept[1] + 30, kept  # pretrained elsewhere vs from scratch, 8 × 8 grid


def test_a_model_trained_in_the_lab_is_offered_in_the_drag_view_beside_its_untrained_twin(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    lab = LabModel(build_small_cnn(replace(LAB_CONFIG, canvas=48), seed=3), "one location", finished=True)
    at.session_state["lab_model"] = lab
    at.run()
    assert at.selectbox(key="model").options[-1] == "Your CNN lab model (objects at: one location)"
    at.selectbox(key="model").set_value(LAB).run()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][1:] == [column.title for column in lab_family(lab).columns]
    assert (at.session_state.x, at.session_state.y) == (24, 24)  # its own 48-px canvas, from the centre
    assert "your model from the CNN lab" in at.markdown[0].value
    drag_to(at, 10, 30, seq=1, dragging=False)
    assert "Baseline for similarity: the" in measurements(at)
    newer = LabModel(lab.model, None, finished=True)
    at.session_state["lab_model"] = newer  # a newer model replaces it (by loading a file, here)
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="model").options[-1] == "Your CNN lab model (weights from a file)"
    assert at.selectbox(key="model").value == LAB  # the newer model, still chosen
    assert "weights from a file" in at.markdown[0].value


@pytest.mark.parametrize(("language", "words"), [("en", "at most"), ("de", "höchstens")])
def test_each_uploader_says_in_the_page_s_language_the_limit_it_enforces(monkeypatch, tmp_path, language, words):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = language
    at.run()
    uploaders = {u.key: u.proto for u in at.get("file_uploader")}
    assert {"object_upload", "own_weights_upload", "own_labels_upload"} <= set(uploaders), set(uploaders)
    for key, proto in uploaders.items():
        assert proto.label.endswith(f" · {words} {proto.max_upload_size_mb} MB"), (key, proto.label)
    assert uploaders["own_labels_upload"].max_upload_size_mb == 1


def test_every_file_of_the_upload_corpus_becomes_the_object_or_is_refused_with_a_message(monkeypatch, tmp_path, caplog):
    at = start_app(monkeypatch, tmp_path)
    for name, (data, accepted) in upload_corpus().items():
        before = at.session_state.object
        caplog.clear()
        at.file_uploader(key="object_upload").set_value((f"{name}.png", data, "image/png")).run()
        assert not at.exception, (name, at.exception)
        errors = [e.value for e in at.error]
        if accepted:
            assert at.session_state.object.startswith(UPLOAD_PREFIX) and not errors, (name, errors)
            assert at.selectbox(key="object").value == at.session_state.object
            assert f"{name}.png (yours)" in at.selectbox(key="object").options
        else:
            assert at.session_state.object == before, name  # the previous object stays
            assert len(errors) == 1 and f"“{name}.png” was not used" in errors[0], (name, errors)
            refusals = [r for r in caplog.records if r.name == "ui.uploads"]  # the detail is logged
            assert len(refusals) == 1 and f"'{name}.png'" in refusals[0].getMessage(), name
    assert len(at.session_state["uploads"]) == UPLOADS_KEPT  # only the last few are kept


def test_a_link_opens_the_exact_view_and_the_url_follows_the_view(monkeypatch, tmp_path):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    link = {"model": "resnet18", "layer": "layer1.1.relu_1", "object": "star", "background": "brick", "canvas": "320"}
    for key, value in (link | {"size": "64", "x": "40", "y": "300"}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert (at.selectbox(key="model").value, at.selectbox(key="layer_resnet18").value) == ("resnet18", link["layer"])
    assert (at.selectbox(key="object").value, at.selectbox(key="background").value) == ("star", "brick")
    assert (at.selectbox(key="canvas").value, at.select_slider(key="object_size").value) == (320, 64)
    assert "object at x = 40, y = 300" in captions(at)
    drag_to(at, 100, 90, seq=1)
    assert {key: at.query_params[key] for key in ("model", "layer", "x", "y")} == {
        "model": "resnet18",
        "layer": link["layer"],
        "x": "100",
        "y": "90",
    }


def test_a_link_with_wrong_values_opens_the_default_view(monkeypatch, tmp_path):
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in {"model": "lab-123", "layer": "nope", "canvas": "9999", "x": "-5", "y": "abc"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="model").value == "mobilenet_v2" and at.selectbox(key="canvas").value == 224
    assert "object at x = 112, y = 112" in captions(at)


def test_the_model_list_says_which_pretrained_models_work_offline(monkeypatch, tmp_path):
    (tmp_path / "squeezenet1_1.pth").write_bytes(b"")  # only its presence counts for the list
    at = start_app(monkeypatch, tmp_path)
    options = at.selectbox(key="model").options
    assert "SqueezeNet 1.1 · ready offline" in options and "ResNet-18 · needs internet" in options


@pytest.mark.parametrize("key", list(LESSONS))
def test_each_lesson_opens_its_view_asks_and_explains(monkeypatch, tmp_path, key):
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="lesson").set_value(key).run()
    assert not at.exception, at.exception
    lesson, view = LESSONS[key], LESSONS[key].view
    assert at.selectbox(key="model").value == view["model"]
    assert at.selectbox(key=f"layer_{view['model']}").value == view["layer"]
    assert f"object at x = {view['x']}, y = {view['y']}" in captions(at)
    panel = " ".join(m.value for m in at.markdown)
    assert f"{lesson.title}.** Predict, then drag: {lesson.predict}" in panel and lesson.notice in panel
    assert at.toggle(key="live_measurements").value == lesson.live_measurements
    drag_to(at, int(view["x"]) + 8, int(view["y"]), seq=1, dragging=False)  # the lesson's view stays live
    assert at.query_params["lesson"] == key


def test_lessons_go_in_order_and_a_link_can_open_one(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    assert at.selectbox(key="lesson").value == "free"
    at.selectbox(key="lesson").set_value(next(iter(LESSONS))).run()
    for key in list(LESSONS)[1:]:
        at.button(key="lesson_next").click().run()
        assert at.session_state.lesson == key and not at.exception
    assert "lesson_next" not in [b.key for b in at.button]  # the last lesson
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    linked = AppTest.from_file(APP, default_timeout=120)
    linked.query_params["lesson"] = "pooling"
    linked.run()
    assert linked.selectbox(key="canvas").value == 320 and linked.selectbox(key="object").value == "cat"


def test_every_plot_has_a_note_on_how_to_read_it(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="score_map_step").set_value(32).run()
    for button in ("compute_score_maps", "compute_sweep"):
        at.button(key=button).click().run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown]
    for topic in ("view", "path", "measurements", "score_maps", "sweep"):
        assert NOTES[topic] in shown, topic


def test_large_text_makes_every_text_larger(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    assert "font-size: 21px" not in html(at)
    at.toggle(key="large_text").set_value(True).run()
    assert not at.exception, at.exception
    assert "html { font-size: 21px; }" in html(at)


def test_next_and_back_fold_what_to_notice_and_reset_returns_to_the_lessons_start(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="lesson").set_value("equivariance").run()
    at.session_state["lesson_notice"] = True  # the class opened *What to notice*
    at.run()
    at.button(key="lesson_next").click().run()
    assert at.session_state.lesson == "aliasing" and at.session_state.lesson_notice is False  # its answer hidden
    drag_to(at, 240, 224, seq=1, dragging=False)
    assert at.session_state.measured[-1].position == (240, 224)
    at.button(key="lesson_reset").click().run()
    assert not at.exception, at.exception
    assert (at.session_state.x, at.session_state.y) == (224, 224)  # the lesson's start, and its reference again
    assert [m.position for m in at.session_state.measured] == [(224, 224)]
    at.session_state["lesson_notice"] = True
    at.run()
    at.button(key="lesson_back").click().run()
    assert at.session_state.lesson == "equivariance" and at.session_state.lesson_notice is False


def test_the_teaching_cnns_score_map_defaults_to_at_least_16_by_16_positions(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="lesson").set_value("learned").run()
    step = at.selectbox(key="score_map_step").value
    assert len(grid_positions(LAB_CONFIG.canvas, step)) >= 16
    at.button(key="compute_score_maps").click().run()
    assert not at.exception, at.exception
    assert captions(at).count("of 256 positions") == 2  # both models: 16 × 16


def test_a_layer_whose_every_cell_sees_the_border_gets_no_error_and_the_way_to_a_larger_canvas(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="layer_mobilenet_v2").set_value("features.13.add").run()
    drag_to(at, 128, 112, seq=1, dragging=False)
    report = at.session_state.measured[-1].reports["scratch"]["features.13.add"]
    assert report.cells_compared == 0 and math.isnan(report.equivariance_error)
    assert "all cells see the border" in readouts(at) and "on a 320-px canvas some are clear" in measurements(at)
    at.button(key="clear_canvas").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="canvas").value == 320  # the smallest on which its 267-px fields fit
    drag_to(at, 176, 160, seq=2, dragging=False)
    report = at.session_state.measured[-1].reports["scratch"]["features.13.add"]
    assert report.cells_compared > 0 and report.equivariance_error == pytest.approx(0.0, abs=1e-4)  # one cell


def test_layer_profiles_are_computed_on_request_with_every_layer_and_exported(monkeypatch, tmp_path):
    offered = []
    monkeypatch.setattr("ui.live_view.export_button", lambda files, name: offered.append(files))
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="model").set_value(TEACHING).run()
    at.button(key="compute_profiles").click().run()
    assert not at.exception, at.exception
    text = next(m.value for m in at.markdown if "Layer profiles" in m.value)
    assert "averaged over 10 objects" in text
    charts = next(element.proto.body for element in at.get("html") if 'class="profile-row"' in element.proto.body)
    layers = teaching_family().layers
    assert charts.count('class="profile-plot"') == 3 * len(layers)  # pooled, whole maps, equivariance error
    rows = list(csv.DictReader(io.StringIO(offered[-1]["layer_profiles.csv"]().decode())))
    distances = {row["distance_px"] for row in rows}
    assert len(rows) == len(layers) * 3 * 2 * len(distances) and "0" in distances  # both models
    assert offered[-1]["layer_profiles.png"]().startswith(b"\x89PNG")


def test_where_is_it_is_read_out_on_request_for_both_models_and_exported(monkeypatch, tmp_path):
    offered = []
    monkeypatch.setattr("ui.live_view.export_button", lambda files, name: offered.append(files))
    at = start_app(monkeypatch, tmp_path)
    at.selectbox(key="model").set_value(TEACHING).run()
    at.button(key="compute_position_readout").click().run()
    assert not at.exception, at.exception
    text = next(m.value for m in at.markdown if "**Where is it?**" in m.value)
    assert "tested on 100 others" in text and "Guessing the middle every time is off by" in text
    table = next(element.proto.body for element in at.get("html") if "R² x" in element.proto.body)
    assert table.count("<tr><td><code>") == len(teaching_family().layers)
    assert {"position_readout.csv", "position_readout_predictions.csv", "position_readout.png"} <= set(offered[-1])
    at.button(key="compute_position_readout").click().run()  # asked again in the same view: nothing recomputed
    assert not at.exception and at.session_state.results_computed == 1
