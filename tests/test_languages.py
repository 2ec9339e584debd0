"""Four languages: every message of the code translated in every catalog, with its placeholders and numbers; the
page in each language shows what the English page shows, number for number, with no English message left."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from locales import CATALOG_LOCALES, ENGLISH, LANGUAGE, LANGUAGES, _, catalog_path
from models import WEIGHTS_DIR_ENV
from scene.shapes import CLASS_NAMES
from ui.lessons import LESSONS

from .plain_words import app_texts

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
SOURCES = ["app.py", "ui", "models", "probes", "scene", "store"]  # as the Makefile's `messages` reads them
TRANSLATED = [code for code in LANGUAGES if code != ENGLISH]
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
PUNCTUATION = "，。：；！？、（）「」“”.,:;!?()"
IDENTIFIER = re.compile(r"[0-9a-f-]{16,}")


def code_messages() -> dict[str | tuple[str, str], str]:
    """Every message the code marks (`_`, `N_`, `ngettext`), with where it is: the singular and plural of a
    plural message as a pair."""
    found = {}
    for source in SOURCES:
        path = ROOT / source
        if path.is_file():
            entries = [(path.name, *entry) for entry in extract_from_file("python", path)]
        else:
            entries = extract_from_dir(path, method_map=[("**.py", "python")])
        for filename, line, message, *_rest in entries:
            found[message] = f"{source}/{filename}:{line}"
    return found


def unclosed_bold(text: str) -> bool:
    """Whether a **bold** of `text` ends in punctuation right before a letter ("**路径：**每个"): Markdown then
    prints the asterisks (a closing ** after punctuation must be followed by a space or punctuation)."""
    for bold in re.finditer(r"\*\*(.+?)\*\*", text, re.DOTALL):
        after = text[bold.end() : bold.end() + 1]
        if bold[1][-1] in PUNCTUATION and after and not after.isspace() and after not in PUNCTUATION + "*":
            return True
    return False


def catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=CATALOG_LOCALES[language])


def numbers(text: str) -> Counter:
    return Counter(NUMBER.findall(PLACEHOLDER.sub("", text)))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_of_the_code_is_translated(language):
    messages, translations = code_messages(), catalog(language)
    assert len(messages) > 300  # the marking reached the code
    untranslated = []
    for message, where in messages.items():
        entry = translations.get(message[0] if isinstance(message, tuple) else message)
        strings = entry.string if entry and isinstance(entry.string, tuple) else (entry.string if entry else "",)
        if entry is None or entry.fuzzy or not all(strings):
            untranslated.append(f"{where}: {message!r}")
    assert not untranslated, f"{len(untranslated)} messages want a {language} translation (make messages):\n" + (
        "\n".join(untranslated[:40])
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder_number_and_emphasis(language):
    broken = []
    for entry in catalog(language):
        if not entry.id or not entry.string:
            continue
        sources = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        for string in entry.string if isinstance(entry.string, tuple) else (entry.string,):
            source = sources[-1]  # the plural's placeholders and numbers are the English plural's
            if set(PLACEHOLDER.findall(string)) != set(PLACEHOLDER.findall(source)):
                broken.append(f"placeholders: {entry.id!r} → {string!r}")
            if numbers(string) != numbers(source) and numbers(string) != numbers(sources[0]):
                broken.append(f"numbers: {entry.id!r} → {string!r}")
            if string.count("**") != source.count("**") or string.count("`") != source.count("`"):
                broken.append(f"emphasis: {entry.id!r} → {string!r}")
            if unclosed_bold(string):  # Markdown would print the asterisks
                broken.append(f"bold ends in punctuation before a letter: {entry.id!r} → {string!r}")
    assert not broken, "\n".join(broken)


def test_the_language_is_the_pages_own_and_english_is_the_default():
    assert _("Language") == "Language"  # no page has chosen one: English
    for language in TRANSLATED:
        token = LANGUAGE.set(language)
        try:
            assert _("Language") != "Language"
        finally:
            LANGUAGE.reset(token)
    assert _("Language") == "Language"


def page_numbers(at: AppTest) -> Counter:
    """The numbers of every text on the page (not of the ids Streamlit gives elements, new in every run, nor of a
    component's data, which holds the session's id and drag token and JSON's escapes of letters such as ö)."""
    return sum(
        (
            numbers(text)
            for where, text in app_texts(at)
            if not IDENTIFIER.fullmatch(text) and not where.endswith("bidi_component.json")
        ),
        Counter(),
    )


def english_left(at: AppTest, language: str) -> list[str]:
    """Texts of the page that are a message of the catalog shown in English though it has a translation. The
    small CNNs' classes are named as those networks name them: "star" is a photo object (translated) and a
    shape class (not)."""
    translated = {entry.id for entry in catalog(language) if entry.id and entry.string and entry.string != entry.id}
    return sorted({text for _where, text in app_texts(at) if text in translated - set(CLASS_NAMES)})


def start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **link: str) -> AppTest:
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in link.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


LESSON_LANGUAGES = {lesson: TRANSLATED[index % len(TRANSLATED)] for index, lesson in enumerate(LESSONS)}


@pytest.mark.parametrize(
    ("lesson", "language"), [("free", code) for code in TRANSLATED] + list(LESSON_LANGUAGES.items())
)
def test_a_page_in_another_language_shows_the_same_numbers_and_no_english_message(
    monkeypatch, tmp_path, lesson, language
):
    english = start(monkeypatch, tmp_path, lesson=lesson)
    other = start(monkeypatch, tmp_path, lesson=lesson, lang=language)
    assert other.selectbox(key="lang").value == language
    assert page_numbers(other) == page_numbers(english)
    assert not english_left(other, language)
    assert other.query_params["lang"] == language  # a refresh, or the link shared, keeps it


def test_choosing_a_language_keeps_the_view(monkeypatch, tmp_path):
    at = start(monkeypatch, tmp_path, lesson="free")
    at.number_input(key="x").set_value(70).run()
    before = {key: at.query_params[key] for key in ("model", "layer", "x", "y")}
    at.selectbox(key="lang").set_value("zh").run()
    assert not at.exception, at.exception
    assert {key: at.query_params[key] for key in ("model", "layer", "x", "y")} == before
    assert "模型" in [header.value for header in at.sidebar.header] and at.query_params["lang"] == "zh"
    # Back to English and on, in a real browser (AppTest keeps a choice by its shown name): test_browser_access.
