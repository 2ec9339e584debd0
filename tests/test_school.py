"""A school on loopback: two replicas behind HAProxy with one PostgreSQL store (scripts.servers.running_school), in
Debian's Chromium. One student's upload, drag and score map all reach their replica; their answer, cast on one
replica, shows on the teacher's page served by the other; when the student's replica is killed, their open page
moves to the other one by itself, with their picture, view and class answer intact."""

from __future__ import annotations

import re
import time

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from scripts.servers import AFFINITY_COOKIE, running_school
from tests.conftest import SECRET, app_env
from tests.live_server import choose, launch_chromium
from tests.plain_words import assert_plain_page
from tests.test_saved_work import picture as red_picture
from ui.lessons import ORDER, lesson_title
from ui.teacher_view import TEACHER_SECRET_ENV

ANSWER = "Move 20 cells"
STUDENT_AGENT = "Mozilla/5.0 (shiftlab-student)"  # how the proxy's log tells the student's requests apart


def served_by(proxy_log: str) -> list[str]:
    """The replica of each request the student's browser made, from HAProxy's log (`replicas/rN` per line)."""
    lines = [line for line in proxy_log.splitlines() if "shiftlab-student" in line]
    return [re.search(r" replicas/(\S+) ", line)[1] for line in lines]


def replica_of(context: BrowserContext) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == AFFINITY_COOKIE)


def start_class(teacher: Page, url: str) -> str:
    teacher.goto(f"{url}/teacher")
    field = teacher.get_by_label("Teacher secret")
    field.fill(SECRET)
    field.press("Enter")
    teacher.get_by_role("button", name="Start a class").click()
    heading = teacher.get_by_text(re.compile(r"Class code: [A-Z0-9]{5}"))
    expect(heading).to_be_visible(timeout=30_000)
    return heading.inner_text().split(":")[1].strip()


def answer_in_class(student: Page, code: str) -> None:
    choose(student, "Lesson", lesson_title(ORDER[1]))
    student.get_by_label("Class code").fill(code)
    student.get_by_role("button", name="Join").click()
    student.get_by_text(ANSWER, exact=True).click()
    expect(student.get_by_text(f"Answer taken: “{ANSWER}”")).to_be_visible(timeout=30_000)


def upload_drag_and_score(student: Page, picture) -> None:
    uploader = student.locator("[data-testid='stFileUploader']").filter(has_text="drag in your own")
    uploader.locator("input[type='file']").set_input_files(picture)
    expect(student.get_by_role("combobox", name="Object")).to_have_value("red.png (yours)", timeout=30_000)
    canvas = student.locator(".drag-canvas canvas")
    canvas.focus()
    canvas.press("Shift+ArrowRight")
    student.get_by_text("object at x = 122, y = 112").first.wait_for(timeout=30_000)
    student.get_by_role("button", name="Compute score maps").click()
    expect(student.locator("img.score-map").first).to_be_visible(timeout=120_000)


def test_two_replicas_keep_a_student_on_one_share_the_class_and_take_over_when_one_dies(tmp_path):
    picture = tmp_path / "red.png"
    picture.write_bytes(red_picture())
    env, proxy_log = app_env() | {TEACHER_SECRET_ENV: SECRET}, tmp_path / "haproxy.log"
    with (
        proxy_log.open("wb") as log,
        running_school(2, env=env, proxy_log=log) as (url, replicas),
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        student_context = browser.new_context(viewport={"width": 1600, "height": 1600}, user_agent=STUDENT_AGENT)
        student = student_context.new_page()
        student.goto(url)
        student.get_by_text("object at x = 112, y = 112").first.wait_for(timeout=120_000)
        home = replica_of(student_context)
        teacher_context = browser.new_context(viewport={"width": 1280, "height": 720})
        other = next(name for name in replicas if name != home)  # the teacher on the other replica, for certain
        teacher_context.add_cookies([{"name": AFFINITY_COOKIE, "value": other, "url": url}])
        teacher = teacher_context.new_page()
        code = start_class(teacher, url)
        assert replica_of(teacher_context) == other

        answer_in_class(student, code)
        expect(teacher.get_by_text(f"{ANSWER}: 1 of 1")).to_be_visible(timeout=30_000)  # cast on the other replica
        upload_drag_and_score(student, picture)
        assert replica_of(student_context) == home
        served = served_by(proxy_log.read_text())
        assert len(served) > 5 and set(served) == {home}, served  # every request of this student went to one replica

        sockets: list[str] = []
        student.on("websocket", lambda socket: sockets.append(socket.url))
        replicas[home].kill()  # the student's replica dies
        deadline = time.monotonic() + 60
        while not sockets and time.monotonic() < deadline:  # no reload: the page reconnects by itself
            student.wait_for_timeout(500)
        assert sockets and replica_of(student_context) == other, "the page did not reconnect to the other replica"
        # The new session starts where the old one was, with a new path (the old one's began at x = 112).
        student.get_by_text("(x = 122, y = 112, where the path began)").wait_for(timeout=120_000)
        canvas = student.locator(".drag-canvas canvas")
        canvas.focus()
        canvas.press("ArrowRight")  # answered by the new session
        student.get_by_text("object at x = 123, y = 112").first.wait_for(timeout=60_000)
        expect(student.get_by_role("combobox", name="Object")).to_have_value("red.png (yours)", timeout=30_000)
        expect(student.get_by_text(f"Answer taken: “{ANSWER}”")).to_be_visible(timeout=30_000)
        expect(teacher.get_by_text(f"{ANSWER}: 1 of 1")).to_be_visible()  # counted once still
        assert_plain_page(student)
        browser.close()
