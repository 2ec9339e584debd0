"""The CNN lab page, run headless with Streamlit's AppTest."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace

import pytest
import torch
from streamlit.testing.v1 import AppTest

from models import lab_experiments
from models.lab_experiments import (
    ANTI_ALIASING,
    ANTI_ALIASING_CLAIMS,
    ANTI_ALIASING_SEEDS,
    LAB_DEFAULTS,
    POOLING_CLAIMS,
    POOLING_COMPARISON,
    POOLING_SEEDS,
    LabControls,
    ShorterTraining,
    anti_aliasing_recipe,
    anti_aliasing_title,
    by_network,
    pooling_recipe,
)
from models.small_cnn import SmallCNNConfig, build_small_cnn
from ui.export import zip_bytes
from ui.lab_view import accuracy_note, consistency_text, pooling_table, pretraining_seed_note, shipped_pretrained
from ui.notes import NOTES

LAB = "from ui.state import init_state\nfrom ui.lab_view import lab_page\ninit_state()\nlab_page()"  # as app.py runs it


@pytest.fixture
def lab() -> AppTest:
    at = AppTest.from_string(LAB, default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key="lab_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception


def state_dict_file(config: SmallCNNConfig, seed: int) -> bytes:
    buffer = io.BytesIO()
    torch.save(build_small_cnn(config, seed).state_dict(), buffer)
    return buffer.getvalue()


def test_the_architecture_shows_its_receptive_field_and_stride(lab):
    caption = " ".join(c.value for c in lab.caption)
    assert "Receptive field of the last block: **22 px**" in caption and "cumulative stride **8**" in caption
    lab.selectbox(key="lab_head").set_value("gap")
    lab.selectbox(key="lab_downsample").set_value("none").run()
    caption = " ".join(c.value for c in lab.caption)
    assert "**7 px**" in caption and "cumulative stride **1**" in caption  # three 3×3 convs, nothing else


def test_an_architecture_that_cannot_be_built_is_explained_not_crashed(lab):
    lab.selectbox(key="lab_padding").set_value("valid")
    lab.slider(key="lab_depth").set_value(6).run()
    assert not lab.exception
    assert "shrink a 64-pixel canvas to nothing" in lab.error[0].value
    assert not [b for b in lab.button if b.key == "lab_train"]  # nothing to train


def test_training_keeps_the_model_in_the_session_and_tests_it_everywhere(lab):
    lab.slider(key="lab_per_class").set_value(20)
    lab.slider(key="lab_epochs").set_value(1)
    lab.button(key="lab_train").click().run()
    assert not lab.exception, lab.exception
    model = lab.session_state.lab_model
    assert model.finished and len(model.history) == model.history[-1].total_steps
    assert model.accuracy.accuracy.shape[0] == model.accuracy.accuracy.shape[1] > 5
    assert any("Accuracy at each position" in m.value for m in lab.markdown)
    maps = [h.proto.body for h in lab.get("html") if 'alt="accuracy at each position"' in h.proto.body]
    assert len(maps) == 4  # the experiment's three and yours, each with the key to its colours
    assert all('class="colour-scale"' in m and "<span>0%</span>" in m and "<span>100%</span>" in m for m in maps)


def test_uploaded_weights_of_the_chosen_architecture_are_loaded(lab):
    default = SmallCNNConfig(depth=3, width=16, classes=10, canvas=64)
    upload(lab, "mine.pt", state_dict_file(default, seed=7))
    loaded = lab.session_state.lab_model.model
    assert torch.equal(
        loaded.state_dict()["head.classifier.weight"], build_small_cnn(default, 7).head.classifier.weight
    )


@pytest.mark.parametrize(
    "name, data, says",
    [
        (
            "other.pt",
            state_dict_file(SmallCNNConfig(depth=2, width=16, classes=10, canvas=64), 0),
            "another architecture",
        ),
        ("broken.pt", b"not a model at all", "not a readable model file"),
        ("numbers.pt", b"", "not a readable model file"),
    ],
)
def test_a_file_that_does_not_fit_is_refused_and_the_model_is_kept(lab, name, data, says):
    lab.slider(key="lab_per_class").set_value(20)
    lab.slider(key="lab_epochs").set_value(1)
    lab.button(key="lab_train").click().run()
    before = lab.session_state.lab_model
    upload(lab, name, data)
    assert says in lab.error[0].value and "your model is unchanged" in lab.error[0].value
    assert lab.session_state.lab_model is before


def far_accuracies(at: AppTest) -> list[int]:
    """The "far from the training location" accuracy under each preset's map, in percent."""
    return [int(m) for m in re.findall(r"\*\*(\d+)%\*\* at least", " ".join(m.value for m in at.markdown))]


def test_the_experiment_shows_the_shipped_models_at_once_and_learnt_invariance_transfers(lab):
    maps = [h.proto.body for h in lab.get("html") if 'alt="accuracy at each position"' in h.proto.body]
    assert len(maps) == 3 and all('class="colour-scale"' in m for m in maps)  # each with the key to its colours
    scratch, transferred, fine_tuned = far_accuracies(lab)
    assert scratch <= 40 and transferred >= scratch + 40 and fine_tuned < transferred
    assert "The shipped models" in " ".join(c.value for c in lab.caption)


def test_the_experiment_can_be_trained_again_in_the_session(lab, monkeypatch):
    quick = {
        name: replace(recipe, per_class=10, settings=replace(recipe.settings, epochs=1))
        for name, recipe in lab_experiments.PRESETS.items()
    }
    monkeypatch.setattr(lab_experiments, "PRESETS", quick)
    monkeypatch.setattr("ui.lab_view.PRESETS", quick)
    lab.button(key="lab_run_experiment").click().run()
    assert not lab.exception, lab.exception
    assert "Your own run" in " ".join(c.value for c in lab.caption)
    assert len(far_accuracies(lab)) == 3 and "trained in" in " ".join(m.value for m in lab.markdown)


def test_missing_shipped_models_are_explained_and_the_rest_of_the_lab_works(monkeypatch, tmp_path):
    monkeypatch.setattr(lab_experiments, "TEACHING_MODELS", tmp_path)  # an empty folder
    shipped_pretrained.clear()
    try:
        at = AppTest.from_string(LAB, default_timeout=300).run()
        assert not at.exception, at.exception
        assert "could not be loaded" in at.error[0].value and "pretrained.json" in at.error[0].value
        assert "Receptive field" in " ".join(c.value for c in at.caption)  # build and train still works
    finally:
        shipped_pretrained.clear()  # later tests load the real files again


def test_the_download_holds_every_accuracy_map_and_the_training_curves(monkeypatch):
    offered = []
    monkeypatch.setattr("ui.lab_view.export_button", lambda files, name: offered.append(files))
    lab = AppTest.from_string(LAB, default_timeout=300)
    lab.run()
    lab.slider(key="lab_per_class").set_value(20)
    lab.slider(key="lab_epochs").set_value(1)
    lab.button(key="lab_train").click().run()
    assert not lab.exception, lab.exception
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(offered[-1])))
    rows = {n: list(csv.DictReader(io.StringIO(archive.read(n).decode()))) for n in archive.namelist() if ".csv" in n}
    model = lab.session_state.lab_model
    cells = model.accuracy.accuracy.numel()
    assert len(rows["experiment_accuracy.csv"]) == 3 * cells  # the three presets, on the same 64-px grid
    assert [row["preset"] for row in rows["experiment_summary.csv"]] == [
        r.title for r in lab_experiments.PRESETS.values()
    ]
    assert len(rows["your_model_accuracy.csv"]) == cells
    assert len(rows["your_model_training.csv"]) == model.history[-1].total_steps
    (consistency,) = rows["your_model_shift_consistency.csv"]
    assert float(consistency["shift_consistency"]) == pytest.approx(model.consistency.agree, abs=1e-4)
    given_correct = float(consistency["consistency_given_correct"])
    assert given_correct == pytest.approx(model.consistency.agree_given_correct, abs=1e-4, nan_ok=True)
    assert consistency["max_offset_px"] == "8" and consistency["pairs"] == "500"
    assert consistency_text(model.consistency) in [m.value for m in lab.markdown]
    models = [row["models"] for row in rows["pooling_comparison.csv"]]
    assert models.count("shipped") == len(ANTI_ALIASING) * len(ANTI_ALIASING_SEEDS)
    assert models.count("shipped, flatten head") == len(POOLING_COMPARISON) * len(POOLING_SEEDS)
    for figure in ("experiment_accuracy.png", "your_model_accuracy.png"):
        assert archive.read(figure).startswith(b"\x89PNG")
    shown = [m.value for m in lab.markdown]
    assert NOTES["accuracy_maps"] in shown and NOTES["training"] in shown  # each plot says how to read it


# --- lesson 7's comparison of max pool and blur pool, and preset (b)'s pretraining seed ---


@pytest.fixture
def trains(monkeypatch) -> list[LabControls]:
    """What the page's Train button would train, recorded instead of trained."""
    recorded: list[LabControls] = []
    monkeypatch.setattr("ui.lab_view.train_in_session", recorded.append)
    return recorded


def test_the_controls_first_show_the_lab_defaults(lab, trains):
    lab.button(key="lab_train").click().run()
    assert trains == [LAB_DEFAULTS]


@pytest.mark.parametrize("name", list(POOLING_COMPARISON))
def test_one_click_sets_the_controls_to_exactly_that_network_of_the_pooling_comparison(lab, trains, name):
    lab.button(key=f"lab_pooling_set_{name}").click().run()
    lab.button(key="lab_train").click().run()
    lab.number_input(key="lab_pooling_seed").set_value(2).run()
    lab.button(key=f"lab_pooling_set_{name}").click().run()
    lab.button(key="lab_train").click().run()
    assert not lab.exception, lab.exception
    assert trains == [POOLING_COMPARISON[name], replace(POOLING_COMPARISON[name], seed=2)]
    assert [t.recipe() for t in trains] == [replace(pooling_recipe(name, seed), title="your model") for seed in (0, 2)]


def test_the_page_shows_the_shipped_pooling_figures_over_the_seeds(lab):
    shown = [m.value for m in lab.markdown]
    assert pooling_table(POOLING_CLAIMS) in shown
    table = pooling_table(POOLING_CLAIMS)
    assert "| max pool, 20 epochs | 84.4% ± 4.8 (79.0%–88.3%) | **89.2% ± 3.3 (85.5%–91.8%)** |" in table
    assert "| blur pool, 8 epochs | 86.4% ± 7.9 (77.3%–91.5%) | **93.9% ± 3.8 (89.5%–96.5%)** |" in table


TINY_TRAINING = ShorterTraining(width=4, per_class=2, epochs=1, batch_size=8, learning_rate=1e-2)


def test_one_click_trains_every_network_of_the_anti_aliasing_comparison_with_every_seed_and_shows_them(
    lab, monkeypatch
):
    """The quick preset shrunk further, so that the test takes seconds: what is checked is what is trained, kept and
    shown, not how well."""
    trained: list[lab_experiments.Recipe] = []
    train_recipe = lab_experiments.train_recipe

    def recorded(recipe, **kwargs):
        trained.append(recipe)
        return train_recipe(recipe, **kwargs)

    monkeypatch.setattr(lab_experiments, "QUICK_TRAINING", TINY_TRAINING)
    monkeypatch.setattr("ui.lab_view.train_recipe", recorded)
    monkeypatch.setattr("ui.lab_view.shift_pair_scenes", lambda: lab_experiments.shift_pair_scenes(pairs=20))
    button = lab.button(key="lab_pooling_train")
    assert "(about a minute" in button.label
    button.click().run()
    assert not lab.exception, lab.exception
    expected = [TINY_TRAINING.of(anti_aliasing_recipe(n, s)) for s in ANTI_ALIASING_SEEDS for n in ANTI_ALIASING]
    assert trained == expected
    run = lab.session_state.lab_pooling
    assert len(run.measured) == run.total == len(expected) and run.seconds > 0
    results = by_network(run.measured)
    assert results.keys() == ANTI_ALIASING.keys() and all(len(r) == len(ANTI_ALIASING_SEEDS) for r in results.values())
    assert all(result.pairs == 20 for _, _, result in run.measured)
    shown = [m.value for m in lab.markdown]
    assert pooling_table(results, anti_aliasing_title) in shown
    assert any(m.startswith("**Your run** (the smaller training, in ") for m in shown)
    assert any(accuracy_note(results, anti_aliasing_title) in c.value for c in lab.caption)


def test_the_page_shows_the_shipped_anti_aliasing_figures_over_the_seeds_side_by_side(lab):
    table = pooling_table(ANTI_ALIASING_CLAIMS, anti_aliasing_title)
    assert table in [m.value for m in lab.markdown]
    rows = table.splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == [f"| {anti_aliasing_title(name)}" for name in ANTI_ALIASING]
    assert rows[-1].startswith("| circular padding + APS |") and "**100.0%** | 100.0% | 3 |" in rows[-1]
    captions = " ".join(c.value for c in lab.caption)
    assert accuracy_note(ANTI_ALIASING_CLAIMS, anti_aliasing_title) in captions
    assert "gives the same answer at both places for every pair with every seed (100%)" in captions


@pytest.mark.parametrize("name", list(ANTI_ALIASING))
def test_one_click_sets_the_controls_to_exactly_that_network_of_the_anti_aliasing_comparison(lab, trains, name):
    lab.number_input(key="lab_pooling_seed").set_value(1).run()
    lab.button(key=f"lab_antialiasing_set_{name}").click().run()
    lab.button(key="lab_train").click().run()
    assert not lab.exception, lab.exception
    assert trains == [replace(ANTI_ALIASING[name], seed=1)]
    assert trains[0].recipe() == replace(anti_aliasing_recipe(name, 1), title="your model")


def test_the_accuracy_note_says_when_the_networks_are_not_about_as_accurate():
    right = {
        name: [lab_experiments.ShiftConsistency(1.0, 1.0, accuracy, 10, 9)]
        for name, accuracy in (("max", 0.80), ("aps", 0.90))
    }
    note = accuracy_note(right, anti_aliasing_title)
    assert note.startswith(
        "Their accuracies differ, by up to 10.0 points on average (80.0% for max pool, 90.0% for APS)"
    )
    assert "About as accurate" not in note
    three = right | {"blur 3": [lab_experiments.ShiftConsistency(1.0, 1.0, 0.81, 10, 9)]}
    assert accuracy_note(three, anti_aliasing_title).endswith(
        "About as accurate as max pool (within 3 points): blur pool (filter 3)."
    )
    close = {
        name: [lab_experiments.ShiftConsistency(1.0, 1.0, 0.9 + gap, 10, 9)]
        for name, gap in (("max", 0.0), ("aps", 0.02))
    }
    assert accuracy_note(close, anti_aliasing_title).startswith("The networks are about as accurate (within 2.0")


def test_preset_b_says_how_its_pretraining_seed_was_chosen_and_the_spread_over_seeds(lab):
    captions = [c.value for c in lab.caption]
    assert pretraining_seed_note() in captions
    assert "(b)'s accuracy is 93% with seed 2, 90% with seed 3 and 89% with seed 4: expect 89% to 93%" in (
        pretraining_seed_note()
    )
    assert "Seed 2 was fixed first, when the lab was built, and the pretraining was tuned on it" in (
        pretraining_seed_note()
    )
