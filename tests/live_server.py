"""A real Shift Lab server and a real Chromium, for the browser tests and the benchmark."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from scripts.servers import ROOT, app_command, free_port, serving
from tests.plain_words import assert_plain_page

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "ROOT",
    "browser_page",
    "choose",
    "free_port",
    "launch_chromium",
    "running_app",
]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def running_app(
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    port: int | None = None,
    command: list[str] | None = None,
    log: BinaryIO | None = None,
) -> Iterator[str]:
    """Start `streamlit run app.py` (or `command`, which must listen on `port`) on `port` (default: a free
    loopback port), its output to `log` (default: a temporary file); yield its URL; stop it afterwards."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(command or app_command(port), url, env, log, timeout_s):
        yield url


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with no attempts to reach the internet."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@contextmanager
def browser_page(url: str, width: int = 1600, height: int = 1200) -> Iterator[Page]:
    """A page of a Chromium of its own (its own cookies: a new student), opened at `url`. When the test is done
    with it, the page, in whatever state it was left, must be in plain words (tests/plain_words.py)."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url)
            yield page
            assert_plain_page(page)
        finally:
            browser.close()


def choose(page: Page, box: str, option: str | re.Pattern[str]) -> None:
    """Pick `option` (a name, or a pattern of one) in the select box `box`; again if a rerun closed its list before
    the click (seen in CI)."""
    for _ in range(3):
        page.get_by_role("combobox", name=box).click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"{option!r} never showed in the list of {box!r}")
