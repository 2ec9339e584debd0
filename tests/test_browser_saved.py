"""Nothing lost, in Debian's Chromium: a model trained in the lab and the view dragged to are there again after a
reload, after the server is restarted (the open page reconnects by itself), and at the app's bare address."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import app_env
from tests.live_server import choose, free_port, launch_chromium, running_app
from tests.plain_words import assert_plain_page
from ui.saved_work import COOKIE

LAB_LABEL = re.compile(r"Your CNN lab model \(objects at: ")


def shown_view(page: Page, position: str) -> None:
    """The drag view with the lab model chosen and the object at `position` ("x = …, y = …")."""
    page.get_by_text(f"object at {position}").first.wait_for(timeout=90_000)
    expect(page.get_by_role("combobox", name="Architecture")).to_have_value(LAB_LABEL, timeout=30_000)


def cookie_expiry(page: Page) -> float:
    """When the browser's student cookie expires (s since the epoch)."""
    return next(c["expires"] for c in page.context.cookies() if c["name"] == COOKIE)


def test_a_trained_lab_model_and_the_view_survive_a_reload_and_a_server_restart(tmp_path):
    env, port = app_env() | {"SHIFTLAB_DATA_DIR": str(tmp_path / "data")}, free_port()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        with running_app(env, port=port) as url:
            page.goto(f"{url}/lab")
            page.get_by_text("Build and train your own").wait_for(timeout=90_000)
            page.get_by_role("slider", name="Epochs").press("Home")  # one epoch: seconds
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text(re.compile(r"Your model \(trained; objects at"))).to_be_visible(timeout=120_000)
            page.get_by_role("link", name="Drag view").click()
            choose(page, "Architecture", LAB_LABEL)
            page.get_by_text("object at x = 32, y = 32").first.wait_for(timeout=60_000)  # the lab's 64-px canvas
            canvas = page.locator(".drag-canvas canvas")
            canvas.focus()
            for key in ("ArrowRight", "ArrowRight", "Shift+ArrowDown"):
                canvas.press(key)
            position = "x = 34, y = 42"
            shown_view(page, position)
            page.wait_for_timeout(1000)  # the page run at rest, which saves the view
            expires = cookie_expiry(page)
            page.reload()
            shown_view(page, position)
            page.wait_for_timeout(1000)
            assert cookie_expiry(page) > expires  # each visit renews it: it lasts KEEP_DAYS from the last one
        with running_app(env, port=port) as url:  # the same address, a new process: nothing in its memory
            shown_view(page, position)  # the open page reconnected by itself
            page.goto(url)  # the bare address: the view this browser was at last
            shown_view(page, position)
            assert_plain_page(page)
        browser.close()
