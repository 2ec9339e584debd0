"""How fast the CNN lab trains and what its experiments show, with one torch thread as in the app.

    python -m benchmarks.lab_training

Prints, for each Biscione & Bowers preset, the training time and the accuracy at and far from the
trained location; then Zhang's shift consistency (how often two random positions of the same object
get the same top-1 class) of the lab network with max pooling and with blur pooling, both trained on
the same synthetic data over the whole canvas. A benchmark, not a test: times depend on the machine.
"""

from __future__ import annotations

import dataclasses
import platform
import time

import torch

from models.lab_experiments import (
    LAB_CONFIG,
    NEW_CLASSES,
    PRESETS,
    Recipe,
    lab_shift_consistency,
    load_teaching_model,
    run_preset,
    train_recipe,
)
from models.training import TrainSettings


def main() -> None:
    torch.set_num_threads(1)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread")
    pretrained = load_teaching_model("pretrained")
    for name in PRESETS:
        result = run_preset(name, pretrained)
        print(
            f"{result.recipe.title}: trained in {result.seconds:.1f} s; accuracy {result.at_location:.0%} at the "
            f"trained location, {result.far_from_location:.0%} far from it"
        )
    whole = Recipe(
        "whole canvas",
        "scratch",
        NEW_CLASSES,
        "whole canvas",
        per_class=150,
        settings=TrainSettings(epochs=10, learning_rate=1e-3),
        data_seed=3,
    )
    for downsample in ("max", "blur"):
        recipe = dataclasses.replace(whole, config=dataclasses.replace(LAB_CONFIG, downsample=downsample))
        start = time.perf_counter()
        model, _ = train_recipe(recipe)
        seconds = time.perf_counter() - start
        result = lab_shift_consistency(model.eval(), NEW_CLASSES, recipe.config.canvas)
        print(
            f"{downsample} pooling, whole canvas: trained in {seconds:.1f} s; shift consistency {result.agree:.1%} "
            f"over {result.pairs} pairs (accuracy {result.accuracy:.1%})"
        )


if __name__ == "__main__":
    main()
