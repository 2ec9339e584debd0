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
from torch import nn

from models.lab_experiments import (
    LAB_CONFIG,
    NEW_CLASSES,
    PRESETS,
    Recipe,
    load_teaching_model,
    run_preset,
    train_recipe,
)
from models.training import TrainSettings
from probes.score_map import shift_consistency
from scene.shapes import REGIONS, random_styles, render, sample_positions

CONSISTENCY_PAIRS = 500


def consistency(
    model: nn.Module, classes: tuple[str, ...], pairs: int = CONSISTENCY_PAIRS, seed: int = 7
) -> tuple[float, float]:
    """(shift consistency, accuracy): the fraction of `pairs` random objects whose top-1 class is the same at
    two random positions on the canvas, and the fraction of all those scenes classified right (a model that
    always answers the same class would be perfectly consistent, so the accuracy belongs beside it)."""
    canvas = LAB_CONFIG.canvas
    generator = torch.Generator().manual_seed(seed)
    styles = random_styles(pairs, canvas, generator)
    first, second = (sample_positions(REGIONS["whole canvas"], pairs, canvas, generator) for _ in range(2))  # (P, 2)
    labels = torch.arange(pairs) % len(classes)  # (P,)
    top1 = []
    for positions in (first, second):
        images = torch.stack(
            [
                render(classes[label], x, y, canvas, style)
                for label, (x, y), style in zip(labels.tolist(), positions.tolist(), styles, strict=True)
            ]
        )  # (P, 3, H, W)
        with torch.no_grad():
            top1.append(model.eval()(images).argmax(dim=1))  # (P,)
    return shift_consistency(*top1), float((torch.cat(top1) == labels.repeat(2)).double().mean())


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
        agree, accuracy = consistency(model, NEW_CLASSES)
        print(
            f"{downsample} pooling, whole canvas: trained in {seconds:.1f} s; shift consistency {agree:.1%} "
            f"over {CONSISTENCY_PAIRS} pairs (accuracy {accuracy:.1%})"
        )


if __name__ == "__main__":
    main()
