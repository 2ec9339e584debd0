"""Train the lab's shipped teaching models, with fixed seeds, into assets/teaching_models/.

    python -m scripts.train_teaching_models                     # every group below
    python -m scripts.train_teaching_models "pretraining seeds"  # only the groups named

Writes <name>.pt (state_dict) and <name>.json (SmallCNNConfig), in these groups:
  presets            pretrained   the other classes (ten shapes and letters, 90 doodles) moved all over the
                                  canvas, pretraining data seed 2: the starting point of presets (b) and (c)
                     scratch      preset (a): the new classes at one location, from random weights
                     transferred  preset (b): the pretrained model, last layer trained on the new classes at
                                  one location
                     fine_tuned   preset (c): the pretrained model, whole network fine-tuned at one location
  pretraining seeds  pretrained_seed3, pretrained_seed4: the same pretraining with other data, to show how
                     much preset (b) depends on it
  pooling            pooling_<network>_seed<n>: the lab's max pool vs blur pool comparison (POOLING_COMPARISON:
                     max, blur, blur_early), every seed
  anti-aliasing      antialiasing_<network>_seed<n>: the lab's anti-aliasing comparison (ANTI_ALIASING: max,
                     blur_3, blur_5, aps, circular_aps, on a global-average-pool head), every seed
  circular           circular_stride1, circular_stride32: the drag view's circular CNNs (CIRCULAR_MODELS), circular
                     padding and a global-average-pool head, with no downsampling and with max pooling, taught
                     at one location
and prints what each model scores. One torch thread, as in the app. Measured on the 2-core VM with other
jobs running: each pretraining 2–4 minutes, the pooling group about 5 minutes, the anti-aliasing group about
15 minutes, the presets seconds each.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

import torch

from models.lab_experiments import (
    ANTI_ALIASING_SEEDS,
    CIRCULAR_MODELS,
    POOLING_COMPARISON,
    POOLING_SEEDS,
    PRETRAINED_FILES,
    PRETRAINING,
    TEACHING_MODELS,
    Recipe,
    ShiftPairScenes,
    anti_aliasing_file,
    anti_aliasing_recipes,
    circular_recipe,
    consistency_on,
    evaluate,
    pooling_file,
    pooling_recipe,
    pretraining_recipe,
    run_preset,
    shift_pair_scenes,
    train_recipe,
)
from models.small_cnn import SmallCNN
from models.training import save_model

PRESET_FILES = (("a", "scratch"), ("b", "transferred"), ("c", "fine_tuned"))


def pretrain(data_seed: int) -> SmallCNN:
    """The pretrained model from pretraining data `data_seed`, saved under its name in PRETRAINED_FILES."""
    start = time.perf_counter()
    pretrained, _ = train_recipe(pretraining_recipe(data_seed))
    _, at, far = evaluate(pretrained, PRETRAINING.classes)
    seconds = time.perf_counter() - start
    print(f"pretrained, data seed {data_seed}: {seconds:.0f} s, its own classes {at:.0%} at / {far:.0%} far")
    save_model(pretrained, TEACHING_MODELS / f"{PRETRAINED_FILES[data_seed]}.pt")
    return pretrained


def print_preset(name: str, pretrained: SmallCNN | None = None) -> SmallCNN:
    """Train preset `name` and print its accuracy at and far from the trained location."""
    result = run_preset(name, pretrained)
    at, far = result.at_location, result.far_from_location
    print(f"  {result.recipe.title}: {result.seconds:.0f} s, {at:.0%} at / {far:.0%} far")
    return result.model


def make_presets() -> None:
    pretrained = pretrain(PRETRAINING.data_seed)
    for preset, name in PRESET_FILES:
        save_model(print_preset(preset, pretrained), TEACHING_MODELS / f"{name}.pt")


def make_pretraining_seeds() -> None:
    """The other pretraining seeds, each with the preset (b) it gives (printed, not saved: a test retrains it)."""
    for data_seed in PRETRAINED_FILES:
        if data_seed != PRETRAINING.data_seed:
            print_preset("b", pretrain(data_seed))


def train_and_measure(recipe: Recipe, scenes: ShiftPairScenes, file_name: str) -> None:
    """Train one network of a comparison, print its time, accuracy and shift consistency, and save it."""
    start = time.perf_counter()
    model, _ = train_recipe(recipe)
    seconds = time.perf_counter() - start
    result = consistency_on(model, scenes)
    print(
        f"{recipe.title}: {seconds:.0f} s; accuracy {result.accuracy:.1%}, consistency {result.agree:.1%}, "
        f"given a correct first answer {result.agree_given_correct:.1%} ({result.first_correct} right at first)",
        flush=True,
    )
    save_model(model, TEACHING_MODELS / f"{file_name}.pt")


def make_pooling_comparison() -> None:
    scenes = shift_pair_scenes()
    for seed in POOLING_SEEDS:
        for name in POOLING_COMPARISON:
            train_and_measure(pooling_recipe(name, seed), scenes, pooling_file(name, seed))


def make_anti_aliasing_comparison() -> None:
    scenes = shift_pair_scenes()
    for name, seed, recipe in anti_aliasing_recipes():
        train_and_measure(recipe, scenes, anti_aliasing_file(name, seed))
    print(f"seeds {', '.join(map(str, ANTI_ALIASING_SEEDS))} done")


def make_circular() -> None:
    """The drag view's circular CNNs (CIRCULAR_MODELS), each taught at one location."""
    for file_name in CIRCULAR_MODELS:
        recipe = circular_recipe(file_name)
        start = time.perf_counter()
        model, _ = train_recipe(recipe)
        _, at, far = evaluate(model, recipe.classes)
        print(f"{recipe.title}: {time.perf_counter() - start:.0f} s, {at:.0%} at / {far:.0%} far")
        save_model(model, TEACHING_MODELS / f"{file_name}.pt")


GROUPS: Mapping[str, Callable[[], None]] = MappingProxyType(
    {
        "presets": make_presets,
        "pretraining seeds": make_pretraining_seeds,
        "pooling": make_pooling_comparison,
        "anti-aliasing": make_anti_aliasing_comparison,
        "circular": make_circular,
    }
)


def main(groups: list[str]) -> None:
    unknown = set(groups) - GROUPS.keys()
    if unknown:
        sys.exit(f"unknown group {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")
    torch.set_num_threads(1)
    TEACHING_MODELS.mkdir(parents=True, exist_ok=True)
    for group in groups or GROUPS:
        GROUPS[group]()


if __name__ == "__main__":
    main(sys.argv[1:])
