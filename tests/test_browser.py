"""A real drag in Debian's Chromium: the page must update while the mouse button is still down."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import torch
from playwright.sync_api import Locator, Page, WebSocket, expect
from torchvision.models import get_model
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.live_server import ROOT, browser_page, choose
from tests.plain_words import assert_plain_page, technical_text
from ui.drag_route import PATH as DRAG_PATH
from ui.lessons import LESSONS

ARTIFACTS = ROOT / "test-artifacts"
POSITION = re.compile(r"object at x = (\d+), y = (\d+)")


def python_position(page: Page) -> tuple[int, int] | None:
    """The position the server last computed the feature maps for, as the page shows it."""
    captions = page.get_by_text(POSITION).all_inner_texts()
    match = POSITION.search(captions[0]) if captions else None
    return (int(match[1]), int(match[2])) if match else None


@pytest.fixture
def app_page(app_url: str) -> Iterator[Page]:
    """The drag page in free exploration, its run finished (a click during a rerun can be lost)."""
    with browser_page(app_url) as page:
        page.get_by_text("object at x = 112, y = 112").first.wait_for(timeout=90_000)
        page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=90_000)
        yield page


def test_dragging_updates_the_feature_maps_before_the_mouse_is_released(app_page: Page):
    canvas = app_page.locator(".drag-canvas canvas")
    box = canvas.bounding_box()
    scale = box["width"] / 224
    start = (box["x"] + 112 * scale, box["y"] + 112 * scale)
    app_page.mouse.move(*start)
    app_page.mouse.down()
    seen = []
    for step in range(1, 41):  # 80 canvas pixels to the left and 40 up, over about 4 s
        app_page.mouse.move(start[0] - 2 * step * scale, start[1] - step * scale)
        time.sleep(0.1)
        position = python_position(app_page)
        if position and position not in seen:
            seen.append(position)
    intermediate = [p for p in seen if p not in ((112, 112), (32, 72))]
    app_page.mouse.up()
    assert len(intermediate) >= 3, f"updates seen during the drag: {seen}"

    # Every model column (two, or one without pretrained weights) shows the final position.
    columns = app_page.get_by_text(POSITION).count()
    expect(app_page.get_by_text("object at x = 32, y = 72")).to_have_count(columns, timeout=15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    app_page.screenshot(path=ARTIFACTS / "drag.png", full_page=True)


def test_both_pages_load_without_asking_anything_of_the_internet(app_url: str):
    """Classrooms may have no internet: every request the pages make goes to the app's own server."""
    hosts = set()
    with browser_page("about:blank") as page:
        page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))  # None for data: URLs
        page.goto(app_url)
        page.get_by_text("object at x = 112, y = 112").first.wait_for(timeout=90_000)
        assert_plain_page(page, "the drag view")
        page.get_by_role("link", name="CNN lab").click()
        page.get_by_text("Build and train your own").wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        assert_plain_page(page, "the CNN lab")
    assert hosts - {None} == {"127.0.0.1"}


def test_arrow_keys_nudge_the_object(app_page: Page):
    canvas = app_page.locator(".drag-canvas canvas")
    canvas.focus()
    canvas.press("ArrowRight")
    canvas.press("Shift+ArrowDown")
    app_page.get_by_text("object at x = 113, y = 122").first.wait_for(timeout=15_000)


def test_download_holds_the_data_and_figures_of_what_is_shown(app_page: Page):
    canvas = app_page.locator(".drag-canvas canvas")
    canvas.focus()
    for x in (122, 132, 142):  # three resting moves of 10 px: three points on the path and the shift plot
        canvas.press("Shift+ArrowRight")
        app_page.get_by_text(f"object at x = {x}, y = 112").first.wait_for(timeout=15_000)
    with app_page.expect_download(timeout=60_000) as download:
        app_page.get_by_role("button", name=re.compile("Download data")).click()
    assert download.value.suggested_filename.endswith("_x142_y112.zip")
    archive = zipfile.ZipFile(download.value.path())
    names = set(archive.namelist())
    assert {"path.csv", "path.png", "measurements.csv", "feature_shift.csv", "feature_shift.png"} <= names
    assert "feature_maps_scratch.png" in names and "top5_scratch.csv" in names
    path = list(csv.DictReader(io.StringIO(archive.read("path.csv").decode())))
    assert [row["x"] for row in path] == ["112", "122", "132", "142"]
    shifts = list(csv.DictReader(io.StringIO(archive.read("feature_shift.csv").decode())))
    assert [row["x"] for row in shifts if row["model"] == "scratch"] == ["112", "122", "132", "142"]
    assert archive.read("feature_shift.png").startswith(b"\x89PNG")


def test_training_in_the_lab_can_be_stopped_and_keeps_what_it_learnt(app_page: Page):
    app_page.get_by_role("link", name="CNN lab").click()
    app_page.get_by_text("Build and train your own").wait_for(timeout=60_000)
    for label in ("Training objects per class", "Epochs"):  # the longest training the page allows
        app_page.get_by_role("slider", name=label).press("End")
    app_page.get_by_role("button", name="Train", exact=True).click()
    app_page.get_by_text(re.compile(r"Epoch 2, loss")).wait_for(timeout=60_000)
    app_page.get_by_role("button", name="Stop", exact=True).click()
    expect(app_page.get_by_text(re.compile(r"Your model \(stopped after \d+ steps"))).to_be_visible(timeout=60_000)
    download = app_page.get_by_role("button", name=re.compile("Download the weights"))
    expect(download).to_be_visible(timeout=60_000)  # after the model is tested at every position


def test_a_long_score_map_can_be_stopped_and_the_view_stays_live(app_page: Page):
    # Room below the sidebar's last box for its list: at the window's bottom edge it often does not open.
    app_page.set_viewport_size({"width": 1600, "height": 1600})
    choose(app_page, "Grid step (pixels)", "4")  # 56 × 56 positions: minutes per model
    app_page.get_by_role("button", name="Compute score maps").click()
    computing = app_page.get_by_text(re.compile("Computing the .* map"))
    computing.wait_for(timeout=60_000)
    app_page.get_by_role("button", name="Stop", exact=True).click()
    expect(computing).to_have_count(0, timeout=30_000)
    time.sleep(3)
    expect(computing).to_have_count(0)  # withdrawn: it does not start again
    canvas = app_page.locator(".drag-canvas canvas")
    canvas.focus()
    canvas.press("Shift+ArrowLeft")
    app_page.get_by_text("object at x = 102, y = 112").first.wait_for(timeout=15_000)


def test_each_lesson_fits_a_projector_screen(app_page: Page):
    """At 1280 × 720, with the sidebar open, the scene, the feature maps, the class bars and the
    numbers of the lesson's layer beside them (and a lesson's question) are all on screen without
    scrolling, in free exploration and in every lesson; a screenshot of each is kept."""
    app_page.set_viewport_size({"width": 1280, "height": 720})
    base = app_page.url.split("?")[0]
    ARTIFACTS.mkdir(exist_ok=True)
    for number, (key, lesson) in enumerate({"free": None, **LESSONS}.items()):
        app_page.goto(f"{base}?lesson={key}")
        x, y = (lesson.view["x"], lesson.view["y"]) if lesson else (112, 112)
        app_page.get_by_text(f"object at x = {x}, y = {y}").first.wait_for(timeout=90_000)
        app_page.get_by_text(f"Lesson {number} of {len(LESSONS)}" if lesson else "Are convolutional").wait_for()
        app_page.locator(".drag-canvas canvas").wait_for()  # drawn last: the whole view is there
        app_page.get_by_test_id("stStatusWidget").wait_for(state="hidden")  # the run has finished
        app_page.screenshot(path=ARTIFACTS / f"lesson_{number}_{key}.png")
        for shown in (".top5", ".readout"):
            bottoms = [box["y"] + box["height"] for box in map(Locator.bounding_box, app_page.locator(shown).all())]
            assert bottoms and max(bottoms) <= 720, (key, shown, bottoms)


def on_screen(locator: Locator, height: int = 720) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_a_sweep_keeps_the_view_on_screen_while_it_computes_then_the_page_goes_to_its_result(app_page: Page):
    app_page.set_viewport_size({"width": 1280, "height": 720})
    app_page.goto(app_page.url.split("?")[0] + "?lesson=anti_aliasing")
    number = list(LESSONS).index("anti_aliasing") + 1
    app_page.get_by_text(f"Lesson {number} of {len(LESSONS)}").wait_for(timeout=90_000)
    app_page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    app_page.get_by_role("button", name="Sweep 1 px along x").click()
    progress = app_page.get_by_text(re.compile("Sweeping with the .* model"))
    progress.first.wait_for(timeout=60_000)
    assert on_screen(app_page.locator(".drag-canvas canvas")) and on_screen(app_page.locator(".top5").first)
    result = app_page.get_by_text(re.compile(r"^One-pixel sweep"))
    result.wait_for(timeout=120_000)
    expect(progress).to_have_count(0)
    app_page.wait_for_function(  # scrolled smoothly to the result
        "() => { const r = [...document.querySelectorAll('p')].find(p => p.innerText.startsWith('One-pixel sweep'))"
        "?.getBoundingClientRect(); return r && r.top >= 0 && r.bottom <= innerHeight; }",
        timeout=10_000,
    )


def test_in_a_lesson_a_click_beside_the_object_does_not_move_it_but_a_drag_does(app_page: Page):
    app_page.goto(app_page.url.split("?")[0] + "?lesson=equivariance")
    app_page.get_by_text(f"Lesson 1 of {len(LESSONS)}").wait_for(timeout=90_000)
    canvas = app_page.locator(".drag-canvas canvas")
    box = canvas.bounding_box()
    scale = box["width"] / 224
    app_page.mouse.click(box["x"] + 20 * scale, box["y"] + 20 * scale)  # far from the star at (112, 112)
    time.sleep(2)
    assert python_position(app_page) == (112, 112)
    canvas.press("ArrowRight")  # the click selected the canvas for the arrow keys
    app_page.get_by_text("object at x = 113, y = 112").first.wait_for(timeout=15_000)
    app_page.mouse.move(box["x"] + 113 * scale, box["y"] + 112 * scale)
    app_page.mouse.down()
    app_page.mouse.move(box["x"] + 153 * scale, box["y"] + 112 * scale, steps=8)
    app_page.mouse.up()
    app_page.get_by_text("object at x = 153, y = 112").first.wait_for(timeout=15_000)


def test_profiles_and_where_is_it_are_drawn_readably_on_a_projector(app_page: Page):
    """At 1280 × 720 the two long measurements of the drag view (on the quick teaching CNNs) arrive where the
    student is looking, every chart fits the page's width, and their tables are there; screenshots are kept."""
    app_page.set_viewport_size({"width": 1280, "height": 720})
    app_page.goto(app_page.url.split("?")[0] + "?model=teaching_cnn")
    app_page.locator(".drag-canvas canvas").wait_for(timeout=90_000)
    app_page.get_by_test_id("stStatusWidget").wait_for(state="hidden")
    ARTIFACTS.mkdir(exist_ok=True)
    width = app_page.evaluate("() => document.documentElement.clientWidth")
    for button, heading, drawn, name in (
        ("Layer profiles over distance", "Layer profiles", ".profile-row", "profiles"),
        ("Where is it? (position read-out)", "Where is it?", "table.position-readout", "where_is_it"),
    ):
        app_page.get_by_role("button", name=button).click()
        result = app_page.get_by_text(heading, exact=False).locator("visible=true").last
        result.wait_for(timeout=180_000)
        app_page.locator(drawn).first.wait_for(timeout=30_000)
        app_page.wait_for_function(  # the page went to the result
            f"() => {{ const r = document.querySelector('{drawn}')?.getBoundingClientRect(); "
            "return r && r.top < innerHeight && r.bottom > 0; }",
            timeout=10_000,
        )
        boxes = [box for box in map(Locator.bounding_box, app_page.locator(drawn).all()) if box]
        assert boxes and all(box["x"] >= 0 and box["x"] + box["width"] <= width for box in boxes), (name, boxes)
        app_page.screenshot(path=ARTIFACTS / f"{name}.png")
    expect(app_page.locator(".readout-plot img")).to_be_visible()  # the read-out's chart, beside its table


def test_weights_of_your_own_larger_than_a_picture_upload_through_the_real_page(app_page: Page, tmp_path):
    """A 45 MB ResNet-18 fine-tuned to three classes, through the browser's uploader and the server's upload route
    (whose limit, server.maxUploadSize, must let it through): *Your model* with the class names."""
    weights, labels = tmp_path / "flowers.pth", tmp_path / "flowers.txt"
    torch.save(get_model("resnet18", num_classes=3).state_dict(), weights)
    labels.write_text("daisy\nrose\ntulip\n")
    app_page.get_by_text("Your own weights").click()
    inputs = app_page.locator("[data-testid='stExpander'] input[type='file']")
    inputs.nth(1).set_input_files(labels)
    inputs.nth(0).set_input_files(weights)
    expect(app_page.get_by_role("heading", name="Your model")).to_be_visible(timeout=90_000)
    expect(app_page.get_by_text(re.compile("daisy|rose|tulip")).first).to_be_visible(timeout=30_000)


def live_columns(page: Page) -> dict[str, str]:
    """Each model column's maps, caption, class bars and readout, as the page holds them now."""
    return {column.get_attribute("data-column"): column.inner_html() for column in page.locator(".live-column").all()}


def drag_right(page: Page, start: tuple[int, int], pixels: int) -> None:
    """Press the mouse on the object at `start` (canvas pixels) and move it `pixels` to the right; keep it pressed."""
    box = page.locator(".drag-canvas canvas").bounding_box()
    scale = box["width"] / 224
    page.mouse.move(box["x"] + start[0] * scale, box["y"] + start[1] * scale)
    page.mouse.down()
    page.mouse.move(box["x"] + (start[0] + pixels) * scale, box["y"] + start[1] * scale, steps=pixels // 2)


def route_answers(url: str, messages: list[str]) -> list[dict]:
    """What the drag route answers, in order, to `messages` sent on one WebSocket of its own."""
    answers = []
    with connect(url, open_timeout=30) as socket:
        for message in messages:
            socket.send(message)
            answers.append(json.loads(socket.recv(timeout=60)))
    return answers


def test_during_a_drag_the_drag_route_answers_with_what_the_run_at_the_release_draws(app_page: Page):
    app_page.goto(app_page.url.split("?")[0] + "?lesson=equivariance")  # lesson 1: measured live
    app_page.get_by_text(f"Lesson 1 of {len(LESSONS)}").wait_for(timeout=90_000)
    app_page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=90_000)
    sent, sockets = [], []

    def watch(socket: WebSocket) -> None:
        if socket.url.endswith(DRAG_PATH):
            sockets.append(socket.url)
            socket.on("framesent", lambda payload: sent.append(payload))

    app_page.on("websocket", watch)
    app_page.locator(".drag-canvas canvas").wait_for()
    routed = app_page.evaluate("window.shiftLabStats.routed")
    seq = app_page.locator(".live-column").first.get_attribute("data-seq")
    drag_right(app_page, (112, 112), 20)
    app_page.get_by_text("object at x = 132, y = 112").first.wait_for(timeout=15_000)
    time.sleep(1)  # every answer in
    during = live_columns(app_page)
    assert len(sockets) == 1 and len(sent) >= 3  # one socket for the whole drag
    assert app_page.evaluate("window.shiftLabStats.routed") - routed == len(sent)
    assert app_page.locator(".live-column").first.get_attribute("data-seq") == seq  # no run of the page meanwhile
    assert app_page.get_by_label("x (object centre)").input_value() == "132"  # filled in by the canvas
    assert "equivariance error" in " ".join(during.values())  # the lesson's measurements, live
    expect(app_page.locator("[aria-live]")).to_contain_text("20 px right", timeout=5_000)  # throttled
    app_page.mouse.up()
    expect(app_page.locator(".live-column").first).not_to_have_attribute("data-seq", seq or "", timeout=15_000)
    app_page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)
    assert live_columns(app_page) == during  # the run at the release drew what the route had shown
    assert app_page.get_by_label("x (object centre)").input_value() == "132"
    app_page.get_by_test_id("stNumberInputStepUp").first.click()  # the box goes on from what it showed
    app_page.get_by_text("object at x = 133, y = 112").first.wait_for(timeout=15_000)

    asked = json.loads(sent[-1])
    (answer,) = route_answers(sockets[0], [json.dumps(asked)])
    assert all("object at x = 132, y = 112" in html for html in answer["columns"].values())
    wrong = (asked | {"token": "not-the-token"}, asked | {"session": "no-such-session"}, "{not json", b"\x00binary")
    for refused in wrong:
        with connect(sockets[0], open_timeout=30) as socket:
            socket.send(refused if isinstance(refused, str | bytes) else json.dumps(refused))
            error = json.loads(socket.recv(timeout=60))["error"]
            assert error and not technical_text(error)
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=60)
            assert closed.value.rcvd.code == 1008


def test_a_drag_the_route_refuses_goes_through_the_app_and_still_follows_the_mouse(app_page: Page):
    app_page.route_web_socket(f"**{DRAG_PATH}", lambda socket: socket.close())
    app_page.reload()  # the page's sockets from now on are routed
    app_page.get_by_text("object at x = 112, y = 112").first.wait_for(timeout=90_000)
    app_page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=90_000)
    drag_right(app_page, (112, 112), 30)
    # shown during the drag by runs of the page (its position box follows), though the route answered none
    expect(app_page.get_by_label("x (object centre)")).to_have_value("142", timeout=15_000)
    app_page.get_by_text("object at x = 142, y = 112").first.wait_for(timeout=15_000)
    assert app_page.evaluate("window.shiftLabStats.routed") == 0
    app_page.mouse.up()
    app_page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)
    assert python_position(app_page) == (142, 112)
