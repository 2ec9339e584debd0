"""The page's language: chosen at the top of the sidebar or by `?lang=` in a link (ui.links.adopt_page_link);
locales/ holds the catalogs."""

from __future__ import annotations

import streamlit as st

from locales import CATALOG_LOCALES, ENGLISH, LANGUAGE, LANGUAGES, _
from ui.state import LANG, keep_choices

# The page's <html lang>, which screen readers read with: Streamlit's page says "en" whatever it shows.
_JS = """
export default function ({ data }) { document.documentElement.lang = data.lang; }
"""
_html_lang = st.components.v2.component("shiftlab.html_lang", html="<span></span>", js=_JS)


def use_language() -> None:
    """Translate what this run draws into the session's language. Called first in every run of a page, of a
    fragment and of a widget's callback: each is a run of its own, which starts in English."""
    LANGUAGE.set(LANG.get() if LANG.get() in LANGUAGES else ENGLISH)


def language_ui() -> None:
    """The chooser, each language named as its speakers write it (found without reading the current one); and the
    page's <html lang> set to match."""
    st.selectbox(
        ":material/translate: " + _("Language"),
        list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=LANG.name,
        on_change=keep_choices,
    )
    _html_lang(key="html_lang", data={"lang": CATALOG_LOCALES.get(LANG.get(), LANG.get()).replace("_", "-")})
