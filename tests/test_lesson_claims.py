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
from models.lab_experiments import ANTI_ALIASING_CLAIMS, ANTI_ALIASING_SEEDS, SHIFT_WINDOW, pooling_figures
from probes import flip_rate
from probes.layer_profile import Profile
from scene.shapes import default_style, render
from ui.lab_view import train_all_label
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
        self.asked: set[str] = set()  # the sidebar buttons clicked so far

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
        layer = claim.layer or self.lesson.view["layer"]
        if claim.quantity.startswith("profile_"):  # of the profile, at the distance move[0]: no move needed
            return self.profile_value(claim, variant, layer)
        if claim.quantity.startswith("readout_"):  # of the position read-out: no move needed
            return self.readout_value(claim, variant, layer)
        self.move(*claim.move)
        latest = self.at.session_state.measured[-1]
        report = latest.reports[variant][layer]
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

    def profile_value(self, claim: Claim, variant: str, layer: str) -> float:
        """A layer profile's average over its objects, at the distance claim.move[0] (the baseline: any)."""
        self.ask("compute_profiles")
        (profiles,) = [value for key, value in self.at.session_state.score_maps.items() if key[0] == "profile"]
        profile: Profile = profiles[variant]
        measure = claim.quantity.removeprefix("profile_")
        if measure == "pooled_baseline":
            return float(profile.baselines[layer]["pooled"].mean())
        return float(profile.mean(layer, measure)[profile.distances.index(claim.move[0])])

    def ask(self, button: str) -> None:
        """Click the sidebar button `button` once per session: its result is then kept."""
        if button not in self.asked:
            self.at.button(key=button).click().run()
            assert not self.at.exception, self.at.exception
            self.asked.add(button)

    def readout_value(self, claim: Claim, variant: str, layer: str) -> float:
        """The position read-out's figure of the layer, on its held-out placements."""
        self.ask("compute_position_readout")
        (readouts,) = [value for key, value in self.at.session_state.score_maps.items() if key[0] == "position readout"]
        readout = readouts[variant].layers[layer]
        return {
            "readout_r2_x": readout.r2[0],
            "readout_r2_y": readout.r2[1],
            "readout_error_px": readout.error_px,
            "readout_baseline_px": readout.baseline_px,
        }[claim.quantity]

    def result(self, kind: str, variant: str):
        """The session's one result of `kind` for the model in column `variant`."""
        family = catalog(SHARED_WEIGHTS)[self.lesson.view["model"]]
        cache_key = next(column.cache_key for column in family.columns if column.key == variant)
        (found,) = [value for key, value in self.at.session_state.score_maps.items() if key[:2] == (kind, cache_key)]
        return found

    def flip_rate(self, variant: str) -> float:
        self.ask("compute_sweep")
        _, top1 = self.result("sweep", variant)
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
    # and lesson 4's profiles on 224 px show no equivariance error for the deepest layers
    assert "the deepest layers have no cell clear of the border on 224 px" in LESSONS["profiles"].notice
    assert not imagenet_fields("mobilenet_v2")["features.18"].fits(224)


def test_the_anti_aliasing_lesson_quotes_the_lab_comparison_the_shipped_models_back():
    # the shipped models' figures are checked against ANTI_ALIASING_CLAIMS in tests/test_anti_aliasing.py; the button
    # the lesson names is the page's (tests/test_lab_page.py clicks it)
    notice = LESSONS["anti_aliasing"].notice
    claims = ANTI_ALIASING_CLAIMS
    figures = {name: pooling_figures(results) for name, results in claims.items()}

    def given_correct(name: str) -> str:
        figure = figures[name].agree_given_correct
        return f"{figure.mean:.1%}".replace("%", f" ± {100 * figure.sd:.1f}%")

    assert f"max pool keeps {given_correct('max')};" in notice
    blur, plain = figures["blur 3"].accuracy.mean, figures["max"].accuracy.mean
    assert f"about as accurate ({blur:.1%} right against {plain:.1%}), keeps {given_correct('blur 3')}" in notice
    assert abs(blur - plain) < 0.03 and "more with each seed" in notice
    assert all(
        b.agree_given_correct > m.agree_given_correct for b, m in zip(claims["blur 3"], claims["max"], strict=True)
    )
    assert "keeps every one, 100% with each seed" in notice
    assert all(r.agree == r.agree_given_correct == 1.0 for r in claims["circular aps"])
    assert f"up to {SHIFT_WINDOW - 1} px away" in notice and f"{len(ANTI_ALIASING_SEEDS)} seeds each" in notice
    assert f"*{train_all_label()}*" in notice and "blur pool with filters 3 and 5" in notice


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
