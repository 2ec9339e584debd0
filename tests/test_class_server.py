"""`make class` (scripts.class_server): the teacher secret is printed where the teacher started the server, and it
is the one the Teacher page takes."""

from __future__ import annotations

import re
import sys
import tempfile

from playwright.sync_api import expect, sync_playwright

from tests.live_server import free_port, launch_chromium, running_app
from ui.teacher_view import TEACHER_SECRET_ENV


def test_the_printed_secret_unlocks_the_teacher_page(monkeypatch, tmp_path):
    monkeypatch.delenv(TEACHER_SECRET_ENV, raising=False)
    port = free_port()
    command = [sys.executable, "-m", "scripts.class_server", f"--port={port}"]
    env = {"SHIFTLAB_DATA_DIR": str(tmp_path / "data"), "STREAMLIT_SERVER_HEADLESS": "true"}
    with tempfile.TemporaryFile() as log, running_app(env, port=port, command=command, log=log) as url:
        log.seek(0)
        secret = re.search(r"Teacher secret: (\S+)", log.read().decode())[1]
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{url}/teacher")
            field = page.get_by_label("Teacher secret")
            field.fill("not " + secret)
            field.press("Enter")
            expect(page.get_by_text("That is not this server's teacher secret")).to_be_visible(timeout=30_000)
            field.fill(secret)
            field.press("Enter")
            expect(page.get_by_role("button", name="Start a class")).to_be_visible(timeout=30_000)
            browser.close()
