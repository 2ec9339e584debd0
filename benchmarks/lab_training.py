"""How fast the CNN lab trains and what its experiments show, with one torch thread as in the app.

    python -m benchmarks.lab_training              # the presets, then the pooling comparison with every seed
    python -m benchmarks.lab_training --seeds 0    # the pooling comparison with seed 0 only (about 1.5 minutes)

Prints, for each Biscione & Bowers preset, the training time and the accuracy at and far from the
trained location; then lesson 7's comparison of max pool and blur pool (`POOLING_COMPARISON`: the
lab's network on the whole canvas, nothing else changed, and blur pool stopped early at about max
pool's accuracy): for each network and seed the training time, the accuracy and Zhang's shift
consistency with small shifts (up to 8 px), over all pairs and given a correct first answer; then
each figure's mean ± standard deviation over the seeds. A benchmark, not a test: times depend on
the machine.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from models.lab_experiments import (
    POOLING_COMPARISON,
    POOLING_SEEDS,
    PRESETS,
    ShiftConsistency,
    Spread,
    consistency_on,
    load_teaching_model,
    pooling_figures,
    pooling_recipe,
    pooling_title,
    run_preset,
    shift_pair_scenes,
    train_recipe,
)


def percent(figure: Spread) -> str:
    """mean ± standard deviation, in percent."""
    return f"{figure.mean:.1%} ± {100 * figure.sd:.1f}"


def main(seeds: tuple[int, ...]) -> None:
    torch.set_num_threads(1)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread")
    pretrained = load_teaching_model("pretrained")
    for name in PRESETS:
        result = run_preset(name, pretrained)
        print(
            f"{result.recipe.title}: trained in {result.seconds:.1f} s; accuracy {result.at_location:.0%} at the "
            f"trained location, {result.far_from_location:.0%} far from it"
        )
    scenes = shift_pair_scenes()
    results: dict[str, list[ShiftConsistency]] = {name: [] for name in POOLING_COMPARISON}
    for seed in seeds:
        for name in POOLING_COMPARISON:
            recipe = pooling_recipe(name, seed)
            start = time.perf_counter()
            model, _ = train_recipe(recipe)
            seconds = time.perf_counter() - start
            result = consistency_on(model, scenes)
            results[name].append(result)
            print(
                f"{recipe.title}: trained in {seconds:.1f} s; accuracy {result.accuracy:.1%}, shift consistency "
                f"given a correct first answer {result.agree_given_correct:.1%}, over all {result.pairs} pairs "
                f"{result.agree:.1%}"
            )
    for name, seed_results in results.items():
        figures = pooling_figures(seed_results)
        print(
            f"{pooling_title(name)}, {len(seeds)} seeds: accuracy {percent(figures.accuracy)}, consistency given a "
            f"correct first answer {percent(figures.agree_given_correct)}, over all pairs {percent(figures.agree)}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=POOLING_SEEDS, help="seeds of the pooling comparison")
    main(tuple(parser.parse_args().seeds))
