"""What models cost: the shared models held stay within a memory budget (the least recently used are released),
a model's forward pass is measured against MobileNetV2's, and the score map's grid is limited by that cost."""

from __future__ import annotations

import pytest

from models.ledger import ModelLedger
from models.network import relative_cost
from ui import resources
from ui.score_map_view import GRID_STEPS, steps_for

from .test_app import start_app


def test_the_ledger_releases_the_least_recently_used_models_beyond_the_budget_never_those_in_use():
    released = []
    ledger = ModelLedger(budget=100)

    def model(key: str, size: int) -> dict:
        return {key: (size, lambda: released.append(key))}

    assert ledger.use(model("a", 60)) == [] and ledger.use(model("b", 30)) == []
    assert ledger.use(model("c", 30)) == ["a"] and released == ["a"]  # 120 > 100: the oldest goes
    ledger.use(model("b", 30))  # b used again: now c is the oldest
    assert ledger.use(model("d", 50)) == ["c"] and ledger.held == ["b", "d"] and ledger.held_bytes == 80
    assert ledger.use(model("e", 70) | model("f", 70)) == ["b", "d"]  # a family larger than the budget still shows
    assert ledger.held == ["e", "f"] and released == ["a", "c", "b", "d"]


def test_relative_cost_is_the_ratio_of_the_shortest_passes_after_a_warm_up(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("models.network.time.perf_counter", lambda: clock[0])
    passes = {"slow": iter([100.0, 3.0, 2.5, 4.0]), "fast": iter([100.0, 1.0, 1.25, 1.0])}  # the first: warm-up

    def network(name: str):
        def run(images):
            clock[0] += next(passes[name])

        return run

    assert relative_cost(network("slow"), network("fast"), images=None) == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("canvas", "cost", "steps"),
    [
        (224, 1.0, GRID_STEPS),  # MobileNetV2: every step up to 56 x 56 positions
        (224, 1.4, GRID_STEPS),  # within the tolerance of a measurement
        (224, 0.2, GRID_STEPS),  # cheaper models get no more than MobileNetV2
        (224, 8.0, (32, 16)),  # 14 x 14 = 196 positions x 8 < 3136 x 1.5; 28 x 28 = 784 x 8 > 3136 x 1.5
        (224, 36.8, (32,)),  # Wide ResNet-50-2 (measured 36.8 x MobileNetV2 on these machines)
        (320, 200.0, (32,)),  # the coarsest step is always offered
    ],
)
def test_the_score_map_grid_is_limited_by_the_models_cost(canvas, cost, steps):
    assert steps_for(canvas, cost) == steps


def test_the_app_keeps_the_shared_models_within_its_budget_and_says_what_a_drag_costs(monkeypatch, tmp_path):
    monkeypatch.setenv(resources.MODEL_MEMORY_ENV, "60")
    resources.model_ledger.clear()
    at = start_app(monkeypatch, tmp_path)  # no weights: only the scratch twins load
    for model in ("resnet18", "squeezenet1_1"):
        at.selectbox(key="model").set_value(model).run()
        assert not at.exception, at.exception
    # MobileNetV2 (14 MB) + ResNet-18 (45 MB) + SqueezeNet 1.1 (5 MB) > 60 MB: MobileNetV2, used longest ago, goes
    assert resources.model_ledger().held == ["resnet18/scratch", "squeezenet1_1/scratch"]
    at.selectbox(key="model").set_value("vgg16").run()  # 528 MB alone: held, as it is in use
    assert resources.model_ledger().held == ["vgg16/scratch"]
    sidebar = " ".join(caption.value for caption in at.sidebar.caption)
    assert "times as long as MobileNetV2's on this server" in sidebar
    assert 4 not in at.selectbox(key="score_map_step").options  # 56 x 56 VGG-16 passes are not offered
    at.selectbox(key="model").set_value("mobilenet_v2").run()  # released before, loaded again
    assert not at.exception and [s.value for s in at.subheader][-1] == "Scratch twin"
    resources.model_ledger.clear()
