"""A real Shift Lab server and a real Chromium, for the browser tests and the benchmark."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from playwright.sync_api import Browser, Playwright

from scripts.servers import ROOT, app_command, free_port, serving

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "free_port", "launch_chromium", "running_app"]
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
