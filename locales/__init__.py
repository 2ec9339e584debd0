"""The page's languages: gettext catalogs (one .po file per language, kept with Babel) and `_`, which
translates a message into the language of the page being drawn.

Messages are English in the code. Text kept as data (a lesson, a family's description) is marked with
`N_` where it is written and translated with `_` where it is shown; text made where it is shown is
wrapped in `_` there, with named `{placeholders}` filled by `.format` after translation, so that a
translator can move them. Numbers are formatted by the code alike in every language: a class comparing
two screens reads the same digits.

The language is a context variable, set at the start of every run of a page (ui/language.py): each
session's runs have their own, so nothing here is shared between students except the catalogs, which
are read once and never change. `make messages` extracts the messages and brings every catalog up to
date (see README, "Languages").
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

FOLDER = Path(__file__).parent
DOMAIN = "shiftlab"
ENGLISH = "en"
# Each language by its code in a link (?lang=) and its name as its speakers write it.
LANGUAGES = {ENGLISH: "English", "de": "Deutsch", "es": "Español", "zh": "中文（简体）"}
CATALOG_LOCALES = {"de": "de", "es": "es", "zh": "zh_Hans"}  # each catalog's folder, a Babel locale

LANGUAGE: ContextVar[str] = ContextVar("language", default=ENGLISH)


def catalog_path(language: str) -> Path:
    return FOLDER / CATALOG_LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of `language`, read once from its .po file (compiled in memory: no build step, no binary
    file in the repository). Untranslated and fuzzy entries fall back to English."""
    if language not in CATALOG_LOCALES:
        return gettext.NullTranslations()
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=CATALOG_LOCALES[language], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the current page's language."""
    return translations(LANGUAGE.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural `message` for `n`, in the current page's language (whose plural rules may differ)."""
    return translations(LANGUAGE.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for the catalogs without translating it: it is data, translated with `_` where shown."""
    return message
