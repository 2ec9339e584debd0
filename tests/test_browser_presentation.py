"""Presentation mode in Chromium: at 1280 × 720 and 1024 × 768, in normal text and in large text (in German, whose
words are longest: English large text takes less room), free exploration and every lesson show the lesson, the
scene, both models' maps, class bars and numbers inside the screen, none over another; and the switch is kept in
the link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import combinations

import pytest
from playwright.sync_api import Page

from tests.live_server import ROOT, browser_page
from tests.plain_words import assert_plain_page
from ui.lessons import LESSONS

ARTIFACTS = ROOT / "test-artifacts"
SCREENS = [(1280, 720), (1024, 768)]
# What a class must see at once, each a CSS selector (several elements each for the models' parts).
SHOWN = {
    "lesson": ".st-key-lesson_box",
    "canvas": ".drag-canvas canvas",
    "maps": ".feature-maps",
    "class bars": ".top5",
    "numbers": ".readout",
}


@pytest.fixture(scope="module")
def presenting(app_url: str) -> Iterator[Page]:
    with browser_page(f"{app_url}/?lesson=free&present=1") as page:
        settled(page)
        yield page


def settled(page: Page) -> None:
    """The run has finished and its view is drawn (the drag canvas comes last)."""
    page.locator(".drag-canvas canvas").wait_for(timeout=120_000)
    page.locator(".top5").first.wait_for(timeout=120_000)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=120_000)


def boxes(page: Page) -> dict[str, dict]:
    """Each shown element's bounding box, named "<what> <i>"."""
    found = {}
    for what, selector in SHOWN.items():
        elements = page.locator(selector).all()
        if what == "lesson" and not elements and "lesson=free" in page.url:
            continue  # free exploration has no lesson box
        assert elements, f"no {what} on the page"
        found |= {f"{what} {i}": element.bounding_box() for i, element in enumerate(elements)}
    return found


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"] - 1
        and b["x"] < a["x"] + a["width"] - 1
        and a["y"] < b["y"] + b["height"] - 1
        and b["y"] < a["y"] + a["height"] - 1
    )


def check_screen(page: Page, width: int, height: int, name: str) -> None:
    page.set_viewport_size({"width": width, "height": height})
    for _attempt in range(40):  # the layout follows the new size; a rerun may be replacing an element meanwhile
        page.wait_for_timeout(300)
        found = boxes(page)
        if None not in found.values():
            break
    outside = {what: box for what, box in found.items() if box is None or not inside(box, width, height)}
    assert not outside, (name, width, height, outside)
    touching = [(a, b) for a, b in combinations(found, 2) if overlap(found[a], found[b])]
    assert not touching, (name, width, height, touching)
    page.screenshot(path=ARTIFACTS / f"present_{name}_{width}x{height}.png")


def inside(box: dict, width: int, height: int) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


def test_every_lesson_fits_both_projector_screens_in_normal_and_large_text(presenting: Page):
    page = presenting
    ARTIFACTS.mkdir(exist_ok=True)
    for text, language in (("normal", "en"), ("large", "de")):  # large text in German: the longest words, the most room
        link = (
            "present=1" + ("&text=large" if text == "large" else "") + (f"&lang={language}" if language != "en" else "")
        )
        for number, key in enumerate(["free", *LESSONS]):
            if number <= 1:  # free exploration has no lesson box with a way on: the link leads into the lessons
                page.goto(page.url.split("?")[0] + f"?lesson={key}&{link}")
            else:
                page.locator(".st-key-lesson_next button").click()
            page.wait_for_url(re.compile(f"lesson={key}&"), timeout=60_000)
            settled(page)
            assert page.get_by_test_id("stSidebar").is_hidden()
            root_px = page.evaluate("() => getComputedStyle(document.documentElement).fontSize")
            assert root_px == ("21px" if text == "large" else "16px"), (key, text, root_px)
            for width, height in SCREENS:
                check_screen(page, width, height, f"{number}_{key}_{text}_{language}")
            page.set_viewport_size({"width": 1600, "height": 1200})
    assert "text=large" in page.url and "present=1" in page.url  # the URL keeps both


def test_the_class_bars_names_are_whole_at_1280_px(presenting: Page):
    page = presenting
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(300)
    names = page.locator(".top5-name").all()
    assert names
    cut = [name.inner_text() for name in names if name.evaluate("e => e.scrollWidth > e.clientWidth + 1")]
    assert not cut, cut
    bars = [bar.bounding_box()["width"] for bar in page.locator(".top5-bar").all()]
    assert min(bars) >= 80, bars  # a bar a class can read, not a stub


# Text cut short: an element that clips its text (overflow hidden, or an ellipsis) narrower than that text, or a
# text box whose value is wider than the box (a selectbox shows its choice in one).
CUT_TEXTS = """() => {
  const cut = [], measure = document.createElement('canvas').getContext('2d');
  for (const e of document.querySelectorAll('[data-testid=stSidebar] *, [data-testid=stMain] *')) {
    if (!e.getClientRects().length) continue;
    const style = getComputedStyle(e);
    if (e.tagName === 'INPUT') {
      if (e.type !== 'text' || !e.value) continue;
      measure.font = style.font;
      const room = e.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      if (measure.measureText(e.value).width > room + 1) cut.push(e.value);
    } else if ([style.overflowX, style.textOverflow].some(v => ['hidden', 'clip', 'ellipsis'].includes(v))
               && e.scrollWidth > e.clientWidth + 1 && e.innerText.trim() && e.getBoundingClientRect().height < 90) {
      cut.push(e.innerText.trim());
    }
  }
  return cut;
}"""


def test_no_label_is_cut_at_1280_px_in_any_language_or_text_size(presenting: Page, app_url: str):
    """With the sidebar open at 1280 × 720, no label is cut short: the lesson chooser and every other choice, the
    lesson's buttons, *Pin reference here*, the class names. Every lesson in Spanish large text (the longest
    labels, measured), free exploration in every language in normal text and in German large text."""
    views = [("es", True, key) for key in ["free", *LESSONS]]
    views += [(language, False, "free") for language in ("en", "de", "zh")] + [("de", True, "free")]
    page = presenting.context.browser.new_page(viewport={"width": 1280, "height": 720})  # another student
    try:
        for language, large, key in views:
            page.goto(f"{app_url}/?lesson={key}&lang={language}" + ("&text=large" if large else ""))
            settled(page)
            cut = page.evaluate(CUT_TEXTS)
            assert not cut, (language, "large" if large else "normal", key, cut)
            hints = page.get_by_text(re.compile(r"\d+MB per file")).filter(visible=True)  # Streamlit's, in English
            assert not hints.count(), (language, hints.all_inner_texts())
        assert_plain_page(page)
    finally:
        page.close()
