"""Every lesson's claims, each on the lesson's own scenario with the real models: the lesson's view is
opened as a class opens it, the object is moved as the lesson asks, and the numbers the app then holds
are the ones the text quotes. When a measurement disagrees, the lesson's text changes, not this test."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from models import REGISTRY, WEIGHTS_DIR_ENV
from models.families import catalog, circular_family
from models.geometry import imagenet_fields
from models.lab_experiments import POOLING_CLAIMS, POOLING_SEEDS, SHIFT_WINDOW, pooling_figures
from probes import flip_rate
from scene.shapes import default_style, render
from ui.lessons import LESSONS, Claim
from ui.state import CANVAS_KEY

from .conftest import SHARED_WEIGHTS

APP = str(Path(__file__).resolve().parents[1] / "app.py")
CASES = [(key, index) for key, lesson in LESSONS.items() for index in range(len(lesson.claims))]


class LessonSession:
    """One AppTest session of a lesson, opened by its link, with the object moved by each claim's move."""

    def __init__(self, key: str) -> None:
        self.lesson = LESSONS[key]
        self.at = AppTest.from_file(APP, default_timeout=300)
        self.at.query_params["lesson"] = key
        self.at.run()
        assert not self.at.exception, self.at.exception
        self.start = int(self.lesson.view["x"]), int(self.lesson.view["y"])
        self.seq = 0
        self.start_classes = self.first_classes()
        self.swept = False

    def first_classes(self) -> list[str]:
        """The class ranked first by each model shown, in column order."""
        bars = [e.proto.body for e in self.at.get("html") if 'class="top5"' in e.proto.body]
        return [re.search(r'top5-name">([^<]*)<', body).group(1) for body in bars]

    def move(self, dx: int, dy: int) -> None:
        """Move the object to the start + (dx, dy) and let it rest there (everything is measured)."""
        self.seq += 1
        x, y = self.start[0] + dx, self.start[1] + dy
        self.at.session_state[CANVAS_KEY] = {"pos": {"x": x, "y": y, "seq": self.seq, "dragging": False}}
        self.at.run()
        assert not self.at.exception, self.at.exception
        assert self.at.session_state.measured[-1].position == (x, y)

    def observe(self, claim: Claim, variant: str) -> float:
        self.move(*claim.move)
        latest = self.at.session_state.measured[-1]
        report = latest.reports[variant][claim.layer or self.lesson.view["layer"]]
        column = list(latest.reports).index(variant)
        measured = report.measured_cells or (math.nan, math.nan)
        values = {
            "shift_x": lambda: measured[0],
            "shift_y": lambda: measured[1],
            "equivariance_error": lambda: report.equivariance_error,
            "whole_map_similarity": lambda: report.flat.same,
            "pooled_similarity": lambda: report.pooled.same,
            "pooled_baseline": lambda: report.pooled.baseline,
            "start_class_probability": lambda: self.at.session_state.path[-1][variant],
            "start_class_first": lambda: float(self.first_classes()[column] == self.start_classes[column]),
            "sweep_flip_rate": lambda: self.flip_rate(variant),
        }
        return values[claim.quantity]()

    def flip_rate(self, variant: str) -> float:
        if not self.swept:
            self.at.button(key="compute_sweep").click().run()
            assert not self.at.exception, self.at.exception
            self.swept = True
        family = catalog(SHARED_WEIGHTS)[self.lesson.view["model"]]
        cache_key = next(column.cache_key for column in family.columns if column.key == variant)
        (top1,) = [
            top1 for key, (_, top1) in self.at.session_state.score_maps.items() if key[:2] == ("sweep", cache_key)
        ]
        return flip_rate(top1)


@pytest.fixture(scope="module")
def sessions():
    """One session per lesson, shared by its claims (opening a lesson loads its models once)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(WEIGHTS_DIR_ENV, str(SHARED_WEIGHTS))
        yield functools.cache(LessonSession)


@pytest.mark.parametrize(("key", "index"), CASES, ids=[f"{key}-{index}" for key, index in CASES])
def test_lesson_claim_holds_on_its_own_scenario(sessions, key: str, index: int):
    lesson = LESSONS[key]
    claim = lesson.claims[index]
    assert claim.says in lesson.predict + " " + lesson.notice, "a claim backs words of its lesson"
    offline = lesson.view["model"] in REGISTRY and not (SHARED_WEIGHTS / f"{lesson.view['model']}.pth").is_file()
    session = sessions(key)
    for variant in claim.models:
        if variant == "pretrained" and offline:
            continue
        value = session.observe(claim, variant)
        print(f"{key}: {claim.says!r} {variant} {claim.quantity} = {value:.6f}")
        assert claim.low <= value <= claim.high, f"{variant}: “{claim.says}” measured {value:.4f}"
    if offline and "pretrained" in claim.models:
        pytest.skip(
            f"checked the scratch twin only: the pretrained model needs real ImageNet weights in {SHARED_WEIGHTS}"
        )


def test_lesson_2_needs_the_larger_canvas_for_its_layer_to_have_cells_clear_of_the_border():
    field = imagenet_fields("mobilenet_v2")["features.13.add"]
    assert "its receptive field being 267 px" in LESSONS["aliasing"].notice and field.size == 267
    assert LESSONS["aliasing"].view["canvas"] == "448" and field.fits(448) and not field.fits(224)


def test_lesson_7_quotes_the_lab_pooling_comparison_the_shipped_models_back():
    # the shipped models' figures are checked against POOLING_CLAIMS in tests/test_lab_training.py
    notice = LESSONS["anti_aliasing"].notice
    figures = {name: pooling_figures(results) for name, results in POOLING_CLAIMS.items()}
    assert f"({figures['blur'].accuracy.mean:.1%} right against {figures['max'].accuracy.mean:.1%}" in notice
    assert f"about as accurate as max pool ({figures['blur early'].accuracy.mean:.1%})" in notice
    for name in ("blur early", "max"):
        given_correct = figures[name].agree_given_correct
        assert f"{given_correct.mean:.1%}".replace("%", f" ± {100 * given_correct.sd:.1f}%") in notice
    assert f"up to {SHIFT_WINDOW - 1} px away" in notice and f"over {len(POOLING_SEEDS)} seeds" in notice
    gains = [
        100 * (blur.agree_given_correct - plain.agree_given_correct)
        for blur, plain in zip(POOLING_CLAIMS["blur early"], POOLING_CLAIMS["max"], strict=True)
    ]
    assert all(3.5 <= gain <= 6.5 for gain in gains) and "by 4 to 6 points" in notice


def test_lesson_5_the_circular_stride_1_network_scores_the_whole_diamond_the_same_everywhere():
    # "its scores are equal to the last digit wherever the whole diamond is": circular padding, no downsampling and
    # a global-average-pool head make moving an object that stays whole on black a circular shift, exactly
    assert "equal to the last digit wherever the whole diamond is" in LESSONS["built_in"].notice
    family = circular_family()
    nets = {column.key: column.load() for column in family.columns}
    style = default_style(64)
    half = style.size // 2
    places = [(x, y) for x in range(half, 64 - half, 3) for y in range(half, 64 - half, 3)]  # the diamond stays whole
    images = torch.stack([render("diamond", x, y, 64, style) for x, y in places])  # (P, 3, 64, 64)
    logits = {key: net(images)["logits"] for key, net in nets.items()}  # (P, classes) each
    spread = {key: float((values - values[0]).abs().max() / values[0].abs().max()) for key, values in logits.items()}
    assert spread["stride_1"] < 1e-5, spread  # float rounding only
    assert spread["stride_32"] > 0.1, spread  # max pooling to stride 32: it matters where the object is
