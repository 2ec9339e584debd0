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
from models.small_cnn import SmallCNNConfig, build_small_cnn
from ui.export import zip_bytes
from ui.lab_view import shipped_pretrained
from ui.notes import NOTES

LAB = "from ui.lab_view import lab_page\nlab_page()"


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
    assert len(lab.get("html")) >= 3
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
    assert any(f"**Shift consistency:** {model.consistency.agree:.0%} of 500" in m.value for m in lab.markdown)
    for figure in ("experiment_accuracy.png", "your_model_accuracy.png"):
        assert archive.read(figure).startswith(b"\x89PNG")
    shown = [m.value for m in lab.markdown]
    assert NOTES["accuracy_maps"] in shown and NOTES["training"] in shown  # each plot says how to read it
