"""How fast the CNN lab trains and what its experiments show, with one torch thread as in the app.

    python -m benchmarks.lab_training                              # everything below
    python -m benchmarks.lab_training --parts anti-aliasing        # only the one-click anti-aliasing comparison
    python -m benchmarks.lab_training --parts pooling --seeds 0    # the first pooling comparison, seed 0 only

Prints, for each Biscione & Bowers preset ("presets"), the training time and the accuracy at and far from the
trained location. Then lesson 7's anti-aliasing comparison ("anti-aliasing"; `ANTI_ALIASING`: max pool, blur pool
with filters 3 and 5, APS and circular padding + APS on a global-average-pool head, nothing else changed): the
page's one-click run, every network with every seed trained smaller (`QUICK_TRAINING`) and measured, as the page
does it, with its total time and each network's figures; then the shipped, full-size networks' figures. Each figure
is the accuracy and Zhang's shift consistency with small shifts (up to 8 px), given a correct first answer and over
all pairs, as mean ± standard deviation (range) over the seeds. Last ("pooling"), the first comparison (a flatten
head, max pool against blur pool, `POOLING_COMPARISON`), trained again with the seeds asked for. A benchmark, not a
test: times depend on the machine.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable, Mapping, Sequence

import torch

from models.lab_experiments import (
    ANTI_ALIASING_SEEDS,
    POOLING_COMPARISON,
    POOLING_SEEDS,
    PRESETS,
    QUICK_TRAINING,
    ShiftConsistency,
    Spread,
    anti_aliasing_recipes,
    anti_aliasing_title,
    by_network,
    consistency_on,
    load_teaching_model,
    pooling_figures,
    pooling_recipe,
    pooling_title,
    run_preset,
    shift_pair_scenes,
    shipped_anti_aliasing_results,
    train_recipe,
)

PARTS = ("presets", "anti-aliasing", "pooling")


def percent(figure: Spread) -> str:
    """mean ± standard deviation (range), in percent."""
    return f"{figure.mean:.1%} ± {100 * figure.sd:.1f} ({figure.low:.1%}–{figure.high:.1%})"


def print_figures(results: Mapping[str, Sequence[ShiftConsistency]], title: Callable[[str], str]) -> None:
    for name, seed_results in results.items():
        figures = pooling_figures(seed_results)
        print(
            f"  {title(name)}, {len(seed_results)} seeds: accuracy {percent(figures.accuracy)}, consistency given a "
            f"correct first answer {percent(figures.agree_given_correct)}, over all pairs {percent(figures.agree)}"
        )


def presets() -> None:
    pretrained = load_teaching_model("pretrained")
    for name in PRESETS:
        result = run_preset(name, pretrained)
        print(
            f"{result.recipe.title}: trained in {result.seconds:.1f} s; accuracy {result.at_location:.0%} at the "
            f"trained location, {result.far_from_location:.0%} far from it"
        )


def anti_aliasing() -> None:
    """The page's one click (`ui.lab_view.train_pooling`): the test objects drawn, then every network trained smaller
    and measured, one after another; then the shipped networks."""
    start = time.perf_counter()
    scenes = shift_pair_scenes()
    measured = []
    for name, seed, recipe in anti_aliasing_recipes(quick=True):
        began = time.perf_counter()
        model, _ = train_recipe(recipe)
        trained = time.perf_counter() - began
        measured.append((name, seed, consistency_on(model, scenes)))
        measuring = time.perf_counter() - began - trained
        print(f"  {recipe.title}: trained in {trained:.1f} s, measured in {measuring:.1f} s")
    seconds = time.perf_counter() - start
    quick = QUICK_TRAINING
    print(
        f"One click, {len(measured)} networks ({quick.width} channels, {quick.per_class} objects per class, "
        f"{quick.epochs} epochs, batches of {quick.batch_size}, learning rate {quick.learning_rate:g}; seeds "
        f"{', '.join(map(str, ANTI_ALIASING_SEEDS))}): {seconds:.1f} s in all"
    )
    print_figures(by_network(measured), anti_aliasing_title)
    print("The shipped networks (full size):")
    print_figures(shipped_anti_aliasing_results(scenes), anti_aliasing_title)


def pooling(seeds: tuple[int, ...]) -> None:
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
    print("The first comparison (flatten head):")
    print_figures(results, pooling_title)


def main(parts: Sequence[str], seeds: tuple[int, ...]) -> None:
    torch.set_num_threads(1)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread")
    if "presets" in parts:
        presets()
    if "anti-aliasing" in parts:
        anti_aliasing()
    if "pooling" in parts:
        pooling(seeds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=PARTS, help="what to run")
    parser.add_argument("--seeds", type=int, nargs="+", default=POOLING_SEEDS, help="seeds of the pooling comparison")
    arguments = parser.parse_args()
    main(arguments.parts, tuple(arguments.seeds))
