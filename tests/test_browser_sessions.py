"""Two students on one server: each browser session keeps its own object, position and results,
even while both drag at the same time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.live_server import choose, launch_chromium
from tests.plain_words import assert_plain_page
from tests.test_browser import POSITION, python_position

STAR_FILL = [255, 190, 20]  # scene.library's star: its flat fill shows where the star is drawn
CAT_CLASSES = {"Egyptian cat", "tabby", "tiger cat", "Persian cat", "Siamese cat", "lynx"}
# Session 1 drags the cat left and down, session 2 the star right and up: from the common start
# (112, 112) their paths share no other position, so a position of the other's on a page is a leak.
START = (112, 112)
CAT_PATH_END, CAT_END = (60, 150), (50, 150)  # then Shift+ArrowLeft
STAR_PATH_END, STAR_END = (164, 70), (174, 70)  # then Shift+ArrowRight
STEPS = 12


def open_session(browser: Browser, url: str, errors: list[str]) -> Page:
    """A new browser context (own cookies and storage, own websocket): another student."""
    page = browser.new_context(viewport={"width": 1600, "height": 1200}).new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page


def canvas_point(page: Page, x: float, y: float) -> tuple[float, float]:
    """Viewport coordinates of canvas pixel (x, y)."""
    box = page.locator(".drag-canvas canvas").bounding_box()
    scale = box["width"] / 224
    return box["x"] + x * scale, box["y"] + y * scale


def star_pixels(page: Page) -> int:
    """How many pixels of the page's canvas have the star's exact fill colour."""
    return page.locator(".drag-canvas canvas").evaluate(
        """(canvas, fill) => {
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 0; i < data.length; i += 4)
                if (data[i] === fill[0] && data[i + 1] === fill[1] && data[i + 2] === fill[2]) count += 1;
            return count;
        }""",
        STAR_FILL,
    )


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 20) -> None:
    """Poll `condition` (for what Playwright's expect cannot see, such as canvas pixels)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {timeout_s} s"
        time.sleep(0.2)


def pretrained_top1(page: Page) -> str | None:
    """The pretrained model's first class on the page (None when it has no weights here)."""
    heading = page.get_by_role("heading", name="ImageNet-pretrained", exact=True)
    names = page.get_by_test_id("stColumn").filter(has=heading).locator(".top5-name")
    return names.first.inner_text() if names.count() else None


def shown_results(page: Page) -> list[str]:
    """What the server computed for the page: every column's top-5 and feature-map image."""
    maps = page.locator("img.feature-maps").evaluate_all("images => images.map(image => image.src)")
    return page.locator(".top5").all_inner_texts() + maps


def settle_at(page: Page, position: tuple[int, int]) -> None:
    """Wait until every model column shows `position`."""
    columns = page.get_by_text(POSITION).count()
    shown = page.get_by_text(f"object at x = {position[0]}, y = {position[1]}")
    expect(shown, f"every model column should show the page's own position {position}").to_have_count(
        columns, timeout=20_000
    )


@pytest.fixture
def two_sessions(app_url: str) -> Iterator[tuple[Page, Page, list[str]]]:
    """Two sessions of one app in one Chromium, both loaded; and the page errors of either."""
    errors: list[str] = []
    url = app_url
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        pages = [open_session(browser, url, errors) for _ in range(2)]  # both load at once
        for page in pages:
            page.get_by_text(f"object at x = {START[0]}, y = {START[1]}").first.wait_for(timeout=90_000)
        yield *pages, errors
        try:
            for number, page in enumerate(pages, start=1):
                assert_plain_page(page, f"session {number}'s page")
        finally:
            browser.close()


def test_two_sessions_dragging_at_once_each_keep_their_own_object_position_and_results(
    two_sessions: tuple[Page, Page, list[str]],
) -> None:
    cat, star, errors = two_sessions
    choose(star, "Object", "star")
    wait_for(lambda: star_pixels(star) > 1000, "the star on the second page's canvas")

    # Both drag at once: one mouse move on each page in turn, reading both pages' positions.
    seen = {"cat": set(), "star": set()}
    for page in (cat, star):
        page.mouse.move(*canvas_point(page, *START))
        page.mouse.down()
    for step in range(1, STEPS + 1):
        for page, name, end in ((cat, "cat", CAT_PATH_END), (star, "star", STAR_PATH_END)):
            x, y = (s + (e - s) * step / STEPS for s, e in zip(START, end, strict=True))
            page.mouse.move(*canvas_point(page, x, y))
            seen[name].add(python_position(page))
    for page in (cat, star):
        page.mouse.up()
    cat.locator(".drag-canvas canvas").press("Shift+ArrowLeft")
    star.locator(".drag-canvas canvas").press("Shift+ArrowRight")
    settle_at(cat, CAT_END)
    settle_at(star, STAR_END)

    def on_cat_side(p: tuple[int, int]) -> bool:
        return p[0] <= START[0] and p[1] >= START[1]

    def on_star_side(p: tuple[int, int]) -> bool:
        return p[0] >= START[0] and p[1] <= START[1]

    assert len(seen["cat"] - {START}) >= 2 and len(seen["star"] - {START}) >= 2, f"too few updates seen: {seen}"
    assert all(on_cat_side(p) for p in seen["cat"]), f"the cat's page showed the star's positions: {seen}"
    assert all(on_star_side(p) for p in seen["star"]), f"the star's page showed the cat's positions: {seen}"

    # Each page still has its own object: in the sidebar, on the canvas, and in the model's words.
    expect(cat.get_by_role("combobox", name="Object")).to_have_value("cat")
    expect(star.get_by_role("combobox", name="Object")).to_have_value("star")
    assert star_pixels(cat) == 0 and star_pixels(star) > 1000
    top1 = {"cat": pretrained_top1(cat), "star": pretrained_top1(star)}
    if top1["cat"] is not None:  # with ImageNet weights, the model names what it sees
        assert top1["cat"] in CAT_CLASSES and top1["star"] not in CAT_CLASSES, top1

    # And its own results: a rerun that sends no position (pinning the reference) happens with the
    # other page idle; it must keep the page's position and recompute exactly what the page showed.
    for page, end in ((cat, CAT_END), (star, STAR_END)):
        shown = shown_results(page)
        chart = page.locator(".path-chart img")
        path_before = chart.get_attribute("src")
        page.get_by_role("button", name="Pin reference here").click()
        expect(chart).not_to_have_attribute("src", path_before, timeout=20_000)  # the path restarted
        settle_at(page, end)
        assert shown_results(page) == shown, "what the page showed after the joint drag is not its own"
    assert not errors, errors
    for page in (cat, star):
        expect(page.get_by_test_id("stException")).to_have_count(0)
