"""Shared test setup: where the real ImageNet weights are, when this machine has them; the class store the tests
use; and the plain-words guard on every page an AppTest run reaches."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models import WEIGHTS_DIR_ENV
from tests.live_server import running_app
from tests.plain_words import app_texts, exception_report, leak_report, leaks
from ui import classroom_view

SHARED_WEIGHTS = Path(__file__).resolve().parents[2] / "shared" / "weights"


@pytest.fixture
def shared_weights() -> Path:
    """The folder of real pretrained weights beside the checkout; skips (saying why) without it."""
    if not (SHARED_WEIGHTS / "mobilenet_v2.pth").is_file():
        pytest.skip(f"needs real ImageNet weights in {SHARED_WEIGHTS}, which this machine does not have")
    return SHARED_WEIGHTS


SECRET = "a-teacher-secret"
# The class store of every test that does not make its own (and of the app servers the tests start): never the
# checkout's data folder.
os.environ.setdefault(classroom_view.DATA_DIR_ENV, tempfile.mkdtemp(prefix="shiftlab-test-data-"))


@pytest.fixture
def store_env(monkeypatch, tmp_path):
    """A class store of this test's own (SQLite in its temporary folder), the teacher secret SECRET, no weights."""
    monkeypatch.setenv("SHIFTLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHIFTLAB_TEACHER_SECRET", SECRET)
    monkeypatch.setenv("SHIFTLAB_WEIGHTS_DIR", str(tmp_path))
    classroom_view.class_store.clear()
    yield
    classroom_view.class_store.clear()


def app_env() -> dict[str, str]:
    """Environment for a real app server: the shared weights when there are any, so the
    pretrained column shows; without them the app runs offline on its scratch twins."""
    return {WEIGHTS_DIR_ENV: str(SHARED_WEIGHTS)} if SHARED_WEIGHTS.is_dir() else {}


# Tests that start app servers, a school or a browser. `make test` runs them one at a time, after the others have run
# two at a time (pytest-xdist: most tests are single-threaded torch, and the machines have two cores), so that no
# other test's work slows the pages they watch. Marked here, by what their module uses, so none can be forgotten.
SERVING = re.compile(r"\b(running_app|running_school|browser_page|sync_playwright|app_url|scripts\.school)\b")


@cache
def serves(module: Path) -> bool:
    return SERVING.search(module.read_text()) is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if serves(item.path):
            item.add_marker(pytest.mark.serving)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """One app server for every browser test that needs no server of its own: each opens a Chromium of its own
    on it (tests.live_server.browser_page), so each is a new student, and the models it loads stay loaded."""
    with running_app(app_env()) as url:
        yield url


@pytest.fixture(autouse=True)
def plain_words_on_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every AppTest run of every test is checked as it ends: a user never reads an exception
    (no st.exception element), nor an exception class, an errno or a server path in any text of
    the page (see tests/plain_words.py); the log gets those. A leak fails the test at that run."""
    run = AppTest._run  # every run goes through it: at.run(), a widget's .run(), switch_page...

    def checked_run(self: AppTest, *args: object, **kwargs: object) -> AppTest:
        result = run(self, *args, **kwargs)
        if self.exception:
            pytest.fail(f"the page shows an exception:\n{exception_report(self)}", pytrace=False)
        if found := leaks(app_texts(self)):
            pytest.fail(leak_report(found, "the page"), pytrace=False)
        return result

    monkeypatch.setattr(AppTest, "_run", checked_run)
