"""The plain-words scanner (tests/plain_words.py) on known answers, and its guard on AppTest runs."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.plain_words import technical_text, visible_html_text

# The issue's case: what the pretrained column showed offline, without weights.
ISSUE_12 = (
    "No pretrained weights for MobileNetV2 here: there is no /work/shared/weights/x.pth and torchvision could "
    "not download them: URLError: <urlopen error [Errno -2] Name or service not known>."
)


@pytest.mark.parametrize(
    "text, what",
    [
        (ISSUE_12, "an exception class"),
        (ISSUE_12, "an errno"),
        (ISSUE_12, "a server path"),
        ("could not use it (UnpicklingError)", "an exception class"),
        ("Traceback (most recent call last):", "an exception class"),
        ("the download broke off (IncompleteRead: 0 bytes read)", "an exception class"),
        ("errno 13", "an errno"),
        ("Could not use /tmp/pytest-of-root/weights as the weights folder", "a server path"),
        ("cached in ~/.cache/torch/hub", "a server path"),
        ("in '/root/.cache/torch/hub/checkpoints/squeezenet1_1-b8a52dc0.pth'", "a server path"),
        ("(/home/teacher/weights)", "a server path"),
        ("the file hub/checkpoints/squeezenet1_1-b8a52dc0.pth", "a server path"),
        ("seen in torch/serialization.py", "a server path"),
        ('File "app.py", line 12, in main', "a server path"),
        ("from .venv/lib/python3.11/site-packages", "a server path"),
        (r"C:\Users\teacher\weights", "a server path"),
    ],
)
def test_technical_text_is_refused(text: str, what: str) -> None:
    assert any(finding.startswith(what) for finding in technical_text(text)), technical_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "equivariance error 0.004",
        "The equivariance error ‖F(T_Δ x) − T_{Δ/s} F(x)‖ / ‖F(x)‖, away from the canvas border",
        "Open http://localhost:8501/?lesson=aliasing to start a lesson",
        "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
        "a shift of 1/16 of a cell; 4.6 updates/s; x / y",
        "Error: the file is empty",  # plain, if curt: the word alone is no class
        "Put mobilenet_v2.pth (a state_dict) in the project's weights folder (or the folder named by the "
        "SHIFTLAB_WEIGHTS_DIR environment variable), or run `make offline`.",
        "“broken.pt” was not loaded, and your model is unchanged",
        "Your CNN lab model (trained in the lab, 3 blocks)",
    ],
)
def test_plain_text_passes(text: str) -> None:
    assert technical_text(text) == []


def test_html_is_read_as_a_browser_shows_it() -> None:
    html = (
        '<style>.x { background: url("/usr/share/x.png") }</style><img src="data:image/png;base64,Ab/usr/Error+=">'
        '<span title="from /work/shared/weights">top-5</span>'
    )
    assert visible_html_text(html).split("\n") == ["from /work/shared/weights", "top-5"]


LEAKY_PAGES = {
    "error": 'st.error("URLError: <urlopen error [Errno -2] Name or service not known>")',
    "markdown": 'st.warning("could not download them: <urlopen error [Errno -2] Name or service not known>")',
    "tooltip": 'st.subheader("Pretrained", help="ImageNet weights from /work/shared/weights/mobilenet_v2.pth")',
    "option": 'st.selectbox("Object", ["cat", "/tmp/upload.png"])',
    "expander": 'st.expander("Details of OSError")',
    "html": 'st.html("<p>read /root/.cache/torch/hub</p>")',
    "exception": 'st.exception(ValueError("boom"))',
}


@pytest.mark.parametrize("script", LEAKY_PAGES.values(), ids=LEAKY_PAGES.keys())
def test_every_apptest_run_that_shows_technical_text_fails(script: str) -> None:
    at = AppTest.from_string(f"import streamlit as st\n{script}")
    with pytest.raises(pytest.fail.Exception, match="the page shows"):
        at.run()


def test_a_plain_page_passes_the_guard() -> None:
    at = AppTest.from_string(
        'import streamlit as st\nst.warning("No pretrained weights for MobileNetV2. The scratch twin still works.")\n'
        'st.caption("equivariance error 0.004 at http://localhost:8501/?lesson=aliasing")'
    ).run()
    assert "scratch twin" in at.warning[0].value
