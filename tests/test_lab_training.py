"""Tests for the CNN lab's training, model files, accuracy maps and the Biscione & Bowers presets.

Known answers first (a fake classifier's accuracy map, exact reproducibility, files that must be
refused), then one real experiment with fixed seeds.
"""

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from models.lab_experiments import (
    CIRCULAR_MODELS,
    FAR,
    LAB_CONFIG,
    LAB_DEFAULTS,
    MAX_EPOCHS,
    NEW_CLASSES,
    POOLING_CLAIMS,
    POOLING_COMPARISON,
    POOLING_SEEDS,
    PRESET_B_FAR,
    PRESETS,
    PRETRAINED_FILES,
    PRETRAINING,
    PRETRAINING_CLASSES,
    SHIFT_WINDOW,
    TEACHING_MODELS,
    ShiftConsistency,
    ShiftPairScenes,
    anti_aliasing_file,
    anti_aliasing_recipes,
    consistency_of,
    consistency_on,
    evaluate,
    grid_through_location,
    lab_shift_consistency,
    load_teaching_model,
    nearby_pairs,
    pooling_figures,
    pooling_file,
    pooling_recipe,
    run_preset,
    shift_pair_scenes,
    shipped_pooling_results,
    starting_model,
    train_on,
    trained_location,
    training_data,
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
    pooling = {
        pooling_file(name, seed): pooling_recipe(name, seed).config
        for name in POOLING_COMPARISON
        for seed in POOLING_SEEDS
    }
    pooling |= {anti_aliasing_file(name, seed): recipe.config for name, seed, recipe in anti_aliasing_recipes()}
    expected = {name: PRETRAINING.config for name in PRETRAINED_FILES.values()}
    expected |= {"scratch": LAB_CONFIG, "transferred": LAB_CONFIG, "fine_tuned": LAB_CONFIG} | pooling | CIRCULAR_MODELS
    assert {path.stem for path in files} == expected.keys()
    for path in files:
        assert path.stat().st_size <= 1_000_000, path.name
        assert load_teaching_model(path.stem).config == expected[path.stem], path.name
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
    assert transferred.far_from_location == pytest.approx(PRESET_B_FAR[PRETRAINING.data_seed], abs=0.03)
    assert all(torch.equal(tensor, before[name]) for name, tensor in pretrained.state_dict().items())
    assert scratch.recipe == PRESETS["a"] and not scratch.stopped


# --- shift consistency with Zhang's small shifts ---


def test_consistency_counts_agreeing_pairs_and_among_right_first_answers_the_kept_ones() -> None:
    first, second = torch.tensor([1, 2, 3, 0, 4]), torch.tensor([1, 0, 3, 0, 2])
    labels = torch.tensor([1, 2, 0, 0, 4])
    result = consistency_of(first, second, labels)
    assert result.agree == 3 / 5  # pairs 0, 2 and 3 agree; pair 2 agrees on a wrong answer
    assert result.first_correct == 4 and result.agree_given_correct == 2 / 4  # right first: 0, 1, 3, 4; kept: 0, 3
    assert result.accuracy == 6 / 10 and result.pairs == 5


def test_consistency_given_a_correct_first_answer_is_nan_when_no_first_answer_is_right() -> None:
    result = consistency_of(torch.tensor([1, 1]), torch.tensor([1, 1]), torch.tensor([0, 0]))
    assert result.agree == 1.0 and result.first_correct == 0 and math.isnan(result.agree_given_correct)


def test_nearby_pairs_stay_in_the_box_and_move_by_every_offset_up_to_the_window() -> None:
    box = (12, 12, 51, 51)
    places = nearby_pairs(4000, box, SHIFT_WINDOW, torch.Generator().manual_seed(0))  # (P, 2, 2)
    assert places.shape == (4000, 2, 2)
    assert places.min() >= 12 and places.max() <= 51
    moves = places[:, 1] - places[:, 0]  # (P, 2)
    assert set(moves.flatten().tolist()) == set(range(-(SHIFT_WINDOW - 1), SHIFT_WINDOW))
    assert set(places[:, 0, 0].tolist()) == set(range(12, 52))  # first places reach every column of the box
    assert SHIFT_WINDOW == 9  # Zhang's 32 offsets of 224 px, scaled to the 64-px canvas
    with pytest.raises(ValueError, match="no room for 9 offsets"):
        nearby_pairs(1, (0, 0, 7, 40), 9, torch.Generator())


def label_and_x_scenes(pairs: list[tuple[int, int, int]]) -> ShiftPairScenes:
    """Fake scenes for (label, x at the first place, x at the second): pixel (0, 0) holds the label, (0, 1) x."""
    images = torch.zeros(2, len(pairs), 3, 2, 2)  # (first or second, P, 3, 2, 2)
    for i, (label, *xs) in enumerate(pairs):
        for place, x in enumerate(xs):
            images[place, i, 0, 0, 0], images[place, i, 0, 0, 1] = label, x
    return ShiftPairScenes(images[0], images[1], torch.tensor([label for label, _, _ in pairs]))


def right_on_the_left_half(images: torch.Tensor) -> torch.Tensor:
    """Logits of 10 classes: the true label where x < 32, else class 9, always."""
    labels, x = images[:, 0, 0, 0].long(), images[:, 0, 0, 1]  # (B,), (B,)
    return torch.eye(10)[torch.where(x < 32, labels, 9)]  # (B, 10)


def test_a_model_right_only_on_the_left_half_keeps_only_the_answers_that_stay_on_the_left() -> None:
    scenes = label_and_x_scenes([(0, 10, 12), (1, 20, 40), (2, 30, 31), (3, 40, 20), (4, 50, 52)])
    result = consistency_on(right_on_the_left_half, scenes)
    assert result.first_correct == 3 and result.agree_given_correct == 2 / 3  # pair 1 leaves the left half
    assert result.agree == 3 / 5  # pair 4 agrees on the wrong class 9 at both places; pairs 1 and 3 do not
    assert result.accuracy == 6 / 10  # right: both places of pairs 0 and 2, the first of 1, the second of 3


def test_a_model_that_always_answers_the_same_class_is_perfectly_consistent_and_right_one_time_in_ten() -> None:
    def always_first(images: torch.Tensor) -> torch.Tensor:
        return torch.eye(len(NEW_CLASSES))[torch.zeros(len(images), dtype=torch.long)]  # (B, classes)

    result = lab_shift_consistency(always_first, NEW_CLASSES, canvas=64, pairs=500)
    assert (result.agree, result.agree_given_correct, result.accuracy) == (1.0, 1.0, 0.1)
    assert result.first_correct == 50  # 50 of the 500 objects are class 0


def test_small_shifts_rarely_carry_an_object_across_the_middle_unlike_two_places_anywhere() -> None:
    def left_or_right(images: torch.Tensor) -> torch.Tensor:
        columns = images.sum(dim=(1, 2))  # (B, W): how bright each column is
        centre = (columns * torch.arange(images.shape[-1])).sum(dim=1) / columns.sum(dim=1)  # (B,)
        return torch.eye(2)[(centre >= images.shape[-1] / 2).long()]  # class 0 on the left, 1 on the right

    nearby = lab_shift_consistency(left_or_right, NEW_CLASSES[:2], canvas=64, pairs=200)
    anywhere = lab_shift_consistency(left_or_right, NEW_CLASSES[:2], canvas=64, pairs=200, window=40)
    assert nearby.agree > 0.85  # only objects within 8 px of the middle can cross it
    assert 0.4 < anywhere.agree < 0.6  # a window as wide as the box: two independent places, same side half the time
    assert 0.4 < nearby.accuracy < 0.6 and 0.4 < anywhere.accuracy < 0.6


def test_the_shipped_presets_shift_consistency_is_as_the_readme_says() -> None:
    """README, *The CNN lab*: of the objects right at the first place, (b) keeps 96 % and (a) 67 %; over all pairs,
    92 % and 67 % agree; 95 % and 13 % of the scenes are right."""
    scenes = shift_pair_scenes()
    transferred = consistency_on(load_teaching_model("transferred"), scenes)
    scratch = consistency_on(load_teaching_model("scratch"), scenes)
    assert (round(100 * transferred.agree_given_correct), round(100 * scratch.agree_given_correct)) == (96, 67)
    assert (round(100 * transferred.agree), round(100 * scratch.agree)) == (92, 67)
    assert (round(100 * transferred.accuracy), round(100 * scratch.accuracy)) == (95, 13)


# --- the pooling comparison (lesson 7) and preset (b)'s pretraining seeds ---


def test_the_pooling_comparison_changes_only_the_downsampling_and_the_training_time() -> None:
    max_pool, blur, early = (POOLING_COMPARISON[name] for name in ("max", "blur", "blur early"))
    assert replace(blur, config=replace(blur.config, downsample="max")) == max_pool
    assert replace(early, epochs=max_pool.epochs) == blur and early.epochs < blur.epochs
    assert max_pool == replace(LAB_DEFAULTS, region="whole canvas", epochs=MAX_EPOCHS)  # the lab's longest training
    recipe = pooling_recipe("blur early", 2)
    assert (recipe.data_seed, recipe.model_seed, recipe.settings.seed, recipe.settings.epochs) == (2, 2, 2, 8)


def test_the_shipped_pooling_models_are_the_recipes_networks() -> None:
    for name in POOLING_COMPARISON:
        for seed in POOLING_SEEDS:
            assert load_teaching_model(pooling_file(name, seed)).config == pooling_recipe(name, seed).config


@pytest.fixture(scope="module")
def pooling_results() -> dict[str, tuple[ShiftConsistency, ...]]:
    return shipped_pooling_results()


def test_the_shipped_pooling_models_give_the_figures_the_page_shows_and_lesson_6_states(pooling_results) -> None:
    """POOLING_CLAIMS, seed by seed. The shipped models and the test objects are fixed, so the figures are too, but
    for a few answers on a knife edge that another CPU's rounding may flip: 0.5 percentage points is 2 of the 500
    pairs, or of the 400-odd right first answers."""
    for name, results in pooling_results.items():
        for seed, measured, claimed in zip(POOLING_SEEDS, results, POOLING_CLAIMS[name], strict=True):
            for figure in ("agree", "agree_given_correct", "accuracy"):
                assert getattr(measured, figure) == pytest.approx(getattr(claimed, figure), abs=0.005), (name, seed)
            assert measured.pairs == claimed.pairs and abs(measured.first_correct - claimed.first_correct) <= 2


def test_blur_pool_is_more_consistent_than_max_pool_with_every_seed_even_when_no_more_accurate() -> None:
    """The lesson's claims, seed by seed: with the same training blur pool is both more accurate and more
    consistent given a correct first answer; stopped early it is about as accurate as max pool (within 3 points
    on average) and still more consistent, with each seed. (The claims are the shipped models' figures: above.)"""
    max_pool, blur, early = (POOLING_CLAIMS[name] for name in ("max", "blur", "blur early"))
    for m, b, e in zip(max_pool, blur, early, strict=True):
        assert b.accuracy > m.accuracy and b.agree_given_correct > m.agree_given_correct
        assert e.agree_given_correct > m.agree_given_correct
    accuracy = {name: pooling_figures(results).accuracy.mean for name, results in POOLING_CLAIMS.items()}
    assert abs(accuracy["blur early"] - accuracy["max"]) < 0.03
    gaps = [
        round(100 * (e.agree_given_correct - m.agree_given_correct), 1) for m, e in zip(max_pool, early, strict=True)
    ]
    assert gaps == [3.9, 6.2, 4.0]  # the README's figures, seed by seed


def test_the_shipped_max_pool_model_is_what_its_recipe_trains_and_had_levelled_off() -> None:
    """Max pool, seed 0, retrained from its recipe, scores as its shipped file does: the same on a machine of the
    project's kind; 2 points allow another CPU's rounding. And over its last six epochs it gained less than 2
    points of accuracy (models/lab_experiments.py; under 1 where the files were made, 1.5 on 2026-12-02's CPU:
    86.8 → 88.3 %): training it longer would not make it as accurate as blur pool, some 10 points ahead."""
    recipe = pooling_recipe("max", 0)
    scenes = shift_pair_scenes()
    model = starting_model(recipe)
    steps_per_epoch = -(-recipe.per_class * len(recipe.classes) // recipe.settings.batch_size)
    six_before: list[ShiftConsistency] = []

    def six_epochs_before_the_end(progress: Progress) -> None:
        if progress.step == (recipe.settings.epochs - 6) * steps_per_epoch:
            six_before.append(consistency_on(model, scenes))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_on(model, recipe, training_data(recipe), six_epochs_before_the_end)
    finally:
        torch.set_num_threads(threads)
    again = consistency_on(model, scenes)
    shipped = consistency_on(load_teaching_model(pooling_file("max", 0)), scenes)
    assert again.accuracy == pytest.approx(shipped.accuracy, abs=0.02)
    assert again.agree_given_correct == pytest.approx(shipped.agree_given_correct, abs=0.02)
    assert abs(again.accuracy - six_before[0].accuracy) < 0.02


@pytest.mark.parametrize("data_seed", [seed for seed in PRETRAINED_FILES if seed != PRETRAINING.data_seed])
def test_preset_b_from_another_pretraining_seed_reaches_the_far_accuracy_the_page_states(data_seed: int) -> None:
    """PRESET_B_FAR, as the lab page states it under preset (b): 3 points allow another CPU's rounding in the
    training of the last layer (on a machine of the project's kind it is the same to the last digit)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_preset("b", load_teaching_model(PRETRAINED_FILES[data_seed]))
    finally:
        torch.set_num_threads(threads)
    assert result.far_from_location == pytest.approx(PRESET_B_FAR[data_seed], abs=0.03)


def test_the_shipped_pretraining_seed_is_the_best_of_those_tried() -> None:
    """What the page says of it (the far accuracy of each seed is checked above and in the presets' test)."""
    assert max(PRESET_B_FAR, key=PRESET_B_FAR.get) == PRETRAINING.data_seed
    assert PRESET_B_FAR.keys() == PRETRAINED_FILES.keys() and PRETRAINED_FILES[PRETRAINING.data_seed] == "pretrained"


def test_the_shipped_circular_cnns_are_right_everywhere_without_downsampling_and_not_with_max_pooling() -> None:
    # assets/teaching_models/README.md: 100 % / 100 % and 100 % / 25 % at / far from the trained location
    shown = {"circular_stride1": (1.00, 1.00), "circular_stride32": (1.00, 0.25)}
    for file_name, (at_spot, far) in shown.items():
        model = load_teaching_model(file_name)
        assert model.config == CIRCULAR_MODELS[file_name]
        _, at, away = evaluate(model, NEW_CLASSES)
        assert (round(at, 2), round(away, 2)) == (at_spot, far), file_name
