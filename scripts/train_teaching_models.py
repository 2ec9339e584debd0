"""Train the lab's shipped teaching models, with fixed seeds, into assets/teaching_models/.

    python -m scripts.train_teaching_models

Writes <name>.pt (state_dict) and <name>.json (SmallCNNConfig) for:
  pretrained   the other classes (ten shapes and letters, 90 doodles) moved all over the canvas: the
               starting point of presets (b) and (c)
  scratch      preset (a): the new classes at one location, from random weights
  transferred  preset (b): the pretrained model, last layer trained on the new classes at one location
  fine_tuned   preset (c): the pretrained model, whole network fine-tuned at one location
and prints each model's accuracy at and far from the trained location. One torch thread, as in the app.
"""

from __future__ import annotations

import time

import torch

from models.lab_experiments import PRETRAINING, TEACHING_MODELS, evaluate, run_preset, train_recipe
from models.training import save_model

PRESET_FILES = (("a", "scratch"), ("b", "transferred"), ("c", "fine_tuned"))


def main() -> None:
    torch.set_num_threads(1)
    TEACHING_MODELS.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    pretrained, _ = train_recipe(PRETRAINING)
    seconds = time.perf_counter() - start
    _, at, far = evaluate(pretrained, PRETRAINING.classes)
    print(f"pretrained: {seconds:.0f} s, its own classes {at:.0%} at / {far:.0%} far")
    save_model(pretrained, TEACHING_MODELS / "pretrained.pt")
    for preset, name in PRESET_FILES:
        result = run_preset(preset, pretrained)
        print(
            f"{result.recipe.title}: {result.seconds:.0f} s, {result.at_location:.0%} at / "
            f"{result.far_from_location:.0%} far"
        )
        save_model(result.model, TEACHING_MODELS / f"{name}.pt")


if __name__ == "__main__":
    main()
