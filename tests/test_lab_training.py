"""Tests for the CNN lab's training, model files, accuracy maps and the Biscione & Bowers presets.

Known answers first (a fake classifier's accuracy map, exact reproducibility, files that must be
refused), then one real experiment with fixed seeds.
"""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from models.lab_experiments import (
    FAR,
    LAB_CONFIG,
    NEW_CLASSES,
    PRESETS,
    PRETRAINING,
    PRETRAINING_CLASSES,
    TEACHING_MODELS,
    grid_through_location,
    lab_shift_consistency,
    load_teaching_model,
    run_preset,
    starting_model,
    trained_location,
)
from models.small_cnn import SmallCNNConfig, build_small_cnn
from models.training import ModelFileError, Progress, TrainSettings, load_model, load_weights, save_model, train
from probes.accuracy_map import accuracy_at, accuracy_far_from, accuracy_map
from scene.shapes import CLASS_NAMES, REGIONS, make_dataset

TINY = SmallCNNConfig(depth=2, width=4, hidden=8, classes=3, canvas=32)


@pytest.fixture(scope="module")
def tiny_data() -> tuple[torch.Tensor, torch.Tensor]:
    images, labels, _ = make_dataset(CLASS_NAMES[:3], 8, REGIONS["one location"], TINY.canvas, seed=0)
    return images, labels  # (24, 3, 32, 32), (24,)


def trained_tiny(data, seed: int = 0, **fields) -> torch.nn.Module:
    model = build_small_cnn(TINY, seed=0)
    train(model, *data, TrainSettings(epochs=2, batch_size=8, seed=seed, **fields))
    return model


# --- accuracy maps: a fake classifier that knows the answer only on the left ---


def left_only_samples(x: int, y: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Four 'images' that carry their x in every pixel, labelled 0..3."""
    return torch.full((4, 3, 2, 2), float(x)), torch.arange(4)


def right_when_left(images: torch.Tensor) -> torch.Tensor:
    """Logits that pick the true label (0..3) when x < 30, else always class 0."""
    x = images[:, 0, 0, 0]  # (B,)
    picked = torch.where(x < 30, torch.arange(len(images)), torch.zeros(len(images), dtype=torch.long))  # (B,)
    return torch.nn.functional.one_hot(picked, 4).float()  # (B, 4)


def test_accuracy_map_of_a_classifier_right_only_on_the_left_is_one_there_and_chance_elsewhere():
    result = accuracy_map(right_when_left, left_only_samples, [10, 20, 40, 50])
    assert result.positions == (10, 20, 40, 50)
    expected_row = torch.tensor([1.0, 1.0, 0.25, 0.25], dtype=torch.float64)
    assert torch.equal(result.accuracy, expected_row.expand(4, 4))  # indexed [y, x]
    assert accuracy_at(right_when_left, left_only_samples, 40, 0) == 0.25


def test_far_accuracy_averages_exactly_the_grid_points_at_least_that_far():
    result = accuracy_map(right_when_left, left_only_samples, [10, 20, 40, 50])
    # from (10, 10), 35 px or more away: (10, 50) and (20, 50) on the left (1.0); (40, 40), (40, 50) and
    # x = 50 at every y on the right (6 points, 0.25). (40, 20) is only √(30² + 10²) ≈ 31.6 px away.
    assert accuracy_far_from(result, 10, 10, 35) == pytest.approx((2 * 1.0 + 6 * 0.25) / 8)
    assert accuracy_far_from(result, 10, 10, 1000) != accuracy_far_from(result, 10, 10, 1000)  # nan: no point


# --- training ---


def test_training_twice_with_the_same_seed_gives_identical_weights(tiny_data):
    first, again = trained_tiny(tiny_data, seed=1), trained_tiny(tiny_data, seed=1)
    other = trained_tiny(tiny_data, seed=2)
    for (name, a), b in zip(first.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert not torch.equal(first.head.classifier.weight, other.head.classifier.weight)


def test_training_leaves_the_global_random_state_alone(tiny_data):
    before = torch.get_rng_state()
    trained_tiny(tiny_data)
    assert torch.equal(torch.get_rng_state(), before)


def test_progress_is_reported_after_every_step_with_loss_and_accuracy(tiny_data):
    reports: list[Progress] = []
    model = build_small_cnn(TINY)
    result = train(model, *tiny_data, TrainSettings(epochs=3, batch_size=10), on_progress=reports.append)
    assert [p.step for p in reports] == list(range(1, 10))  # 3 epochs × ⌈24 / 10⌉ batches
    assert {p.total_steps for p in reports} == {9} and [p.epoch for p in reports][::3] == [1, 2, 3]
    assert all(p.loss > 0 and 0 <= p.accuracy <= 1 for p in reports)
    assert not result.stopped and result.steps == 9 and not model.training


def test_should_stop_ends_training_early_and_returns_the_partly_trained_model(tiny_data):
    reports: list[Progress] = []
    model = build_small_cnn(TINY)
    initial = model.head.classifier.weight.clone()
    result = train(
        model,
        *tiny_data,
        TrainSettings(epochs=5, batch_size=8),
        on_progress=reports.append,
        should_stop=lambda: len(reports) >= 4,
    )
    assert result.stopped and result.steps == 4 and result.model is model
    assert not torch.equal(model.head.classifier.weight, initial)
    assert all(p.requires_grad for p in model.parameters())


def test_training_only_the_classifier_leaves_every_other_weight_unchanged(tiny_data):
    before = build_small_cnn(TINY).state_dict()
    after = trained_tiny(tiny_data, learns="classifier").state_dict()
    for name, tensor in before.items():
        changed = not torch.equal(tensor, after[name])
        assert changed == name.startswith("head.classifier"), name


def test_training_learns_a_task_at_one_location(tiny_data):
    model = build_small_cnn(SmallCNNConfig(depth=2, width=8, hidden=16, classes=3, canvas=32))
    train(model, *tiny_data, TrainSettings(epochs=20, batch_size=8, learning_rate=1e-2))
    with torch.no_grad():
        assert (model(tiny_data[0]).argmax(dim=1) == tiny_data[1]).float().mean() == 1.0


# --- model files ---


def test_a_saved_model_loads_back_with_its_config_and_gives_the_same_logits(tmp_path: Path):
    model = build_small_cnn(TINY, seed=4).eval()
    save_model(model, tmp_path / "tiny.pt")
    loaded = load_model(tmp_path / "tiny.pt")
    assert loaded.config == TINY
    images = torch.rand(2, 3, 32, 32)  # (B, 3, H, W)
    with torch.no_grad():
        assert torch.equal(loaded(images), model(images))


def test_loading_weights_of_another_architecture_is_refused_in_plain_words(tmp_path: Path):
    save_model(build_small_cnn(TINY), tmp_path / "tiny.pt")
    wider = build_small_cnn(SmallCNNConfig(depth=2, width=8, hidden=8, classes=3, canvas=32))
    with pytest.raises(ModelFileError, match=r"another architecture: features.0.conv.weight has shape \(4, 3, 3, 3\)"):
        load_weights(wider, tmp_path / "tiny.pt")
    deeper = build_small_cnn(SmallCNNConfig(depth=3, width=4, hidden=8, classes=3, canvas=32))
    with pytest.raises(ValueError, match="layers the model does not have none"):  # ModelFileError is a ValueError
        load_weights(deeper, tmp_path / "tiny.pt")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a model at all", "is not a readable model file"),
        (b"", "is not a readable model file"),
    ],
)
def test_a_damaged_model_file_is_refused_in_plain_words(tmp_path: Path, content: bytes, message: str):
    (tmp_path / "bad.pt").write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load_weights(build_small_cnn(TINY), tmp_path / "bad.pt")


def test_a_file_that_is_not_a_state_dict_is_refused(tmp_path: Path):
    torch.save([torch.zeros(3)], tmp_path / "list.pt")
    with pytest.raises(ModelFileError, match="does not hold a model's weights"):
        load_weights(build_small_cnn(TINY), tmp_path / "list.pt")


def test_a_model_with_a_missing_or_invalid_config_is_refused(tmp_path: Path):
    save_model(build_small_cnn(TINY), tmp_path / "tiny.pt")
    (tmp_path / "tiny.json").write_text(json.dumps({"depth": 9}))
    with pytest.raises(ModelFileError, match="depth must be a whole number from 1 to 6"):
        load_model(tmp_path / "tiny.pt")
    (tmp_path / "tiny.json").unlink()
    with pytest.raises(ModelFileError, match="cannot read the model's settings from tiny.json"):
        load_model(tmp_path / "tiny.pt")


# --- the shipped teaching models and the experiment ---


def test_shipped_teaching_models_load_are_small_and_fit_the_lab_architecture():
    files = sorted(TEACHING_MODELS.glob("*.pt"))
    assert {path.stem for path in files} == {"pretrained", "scratch", "transferred", "fine_tuned"}
    for path in files:
        assert path.stat().st_size <= 1_000_000, path.name
        expected = PRETRAINING.config if path.stem == "pretrained" else LAB_CONFIG
        assert load_teaching_model(path.stem).config == expected, path.name
    assert PRETRAINING.config == replace(LAB_CONFIG, classes=len(PRETRAINING_CLASSES))


def test_a_pretrained_start_keeps_every_learnt_layer_but_the_last():
    pretrained = load_teaching_model("pretrained")
    start = starting_model(PRESETS["b"], pretrained)
    assert start.config == LAB_CONFIG and start.head.classifier.out_features == len(NEW_CLASSES)
    learnt = pretrained.state_dict()
    for name, tensor in start.state_dict().items():
        assert name.startswith("head.classifier.") or torch.equal(tensor, learnt[name]), name


def test_the_trained_location_lies_on_the_accuracy_grid():
    x, y = trained_location()
    assert x in grid_through_location() and y in grid_through_location()
    assert max(grid_through_location()) - x >= FAR  # some grid points are far from it


def test_biscione_bowers_scratch_fails_away_from_the_trained_location_but_pretrained_invariance_transfers():
    """Fixed seeds, one thread as in the app: (a) ≥ 90 % at the trained location, ≤ 40 % far from it;
    (b) ≥ 80 % far from it. The pretrained model passed in is not changed by (b)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        scratch = run_preset("a")
        pretrained = load_teaching_model("pretrained")
        before = {name: tensor.clone() for name, tensor in pretrained.state_dict().items()}
        transferred = run_preset("b", pretrained)
    finally:
        torch.set_num_threads(threads)
    assert scratch.at_location >= 0.9 and scratch.far_from_location <= 0.4
    assert transferred.far_from_location >= 0.8
    assert all(torch.equal(tensor, before[name]) for name, tensor in pretrained.state_dict().items())
    assert scratch.recipe == PRESETS["a"] and not scratch.stopped


def test_a_model_that_always_answers_the_same_class_is_perfectly_consistent_and_right_one_time_in_ten() -> None:
    def always_first(images: torch.Tensor) -> torch.Tensor:
        return torch.eye(len(NEW_CLASSES))[torch.zeros(len(images), dtype=torch.long)]  # (B, classes)

    result = lab_shift_consistency(always_first, NEW_CLASSES, canvas=64, pairs=500)
    assert (result.agree, result.accuracy, result.pairs) == (1.0, 0.1, 500)  # 50 of the 500 objects are class 0


def test_a_model_that_answers_by_position_agrees_only_when_both_places_fall_on_the_same_side() -> None:
    def left_or_right(images: torch.Tensor) -> torch.Tensor:
        columns = images.sum(dim=(1, 2))  # (B, W): how bright each column is
        centre = (columns * torch.arange(images.shape[-1])).sum(dim=1) / columns.sum(dim=1)  # (B,)
        return torch.eye(2)[(centre >= images.shape[-1] / 2).long()]  # class 0 on the left, 1 on the right

    result = lab_shift_consistency(left_or_right, NEW_CLASSES[:2], canvas=64, pairs=500)
    assert 0.4 < result.agree < 0.6  # two independent uniform places are on the same side half of the time
    assert 0.4 < result.accuracy < 0.6
