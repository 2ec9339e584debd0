"""Is the score map as fast as the network allows? Prints, per model, images per second for bare
batched forward passes of the score map's images (made and normalised beforehand) through the
plain torchvision model and through the app's feature extractor, and for the whole score map
(composing each scene, the forward passes, softmax). The ratio is against the faster of the two
bare figures; the target is ≥ 80%.

Run with `make bench`, or `python -m benchmarks.score_map_throughput resnet18`. One torch thread,
as in the app. The cost is the same with random weights, so the scratch twin is timed.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import date

import torch

from models import load_network
from models.weights import build
from probes import grid_positions, score_map
from scene import compose, load_object, make_background, to_tensor

MODELS = ("mobilenet_v2", "resnet18")
CANVAS, STEP, BATCH = 224, 16, 16


def best_times(works: list, repeats: int = 3) -> list[float]:
    """The shortest of `repeats` timings of each work(), taken in turns after one warm-up of each, so
    that a busy spell of the machine does not favour one of them."""
    best = [float("inf")] * len(works)
    for repeat in range(repeats + 1):
        for i, work in enumerate(works):
            start = time.perf_counter()
            work()
            if repeat:
                best[i] = min(best[i], time.perf_counter() - start)
    return best


def throughput(name: str) -> tuple[float, float, float, int]:
    """(plain model, extractor, score map: each in images/s; images per map) for one model."""
    net = load_network(name, "scratch")
    background, sprite = make_background("black", CANVAS), load_object("cat", 96)

    def scene_at(x: int, y: int) -> torch.Tensor:  # (3, H, W), as the app's scene_batch
        return to_tensor(compose(background, sprite, x, y))

    positions = grid_positions(CANVAS, STEP)
    images = torch.stack([scene_at(x, y) for y in positions for x in positions])  # (N, 3, H, W)
    mean, std = torch.tensor(net.mean).view(1, 3, 1, 1), torch.tensor(net.std).view(1, 3, 1, 1)
    batches = ((images - mean) / std).split(BATCH)
    model = build(name, seed=0).eval()

    def plain() -> None:
        with torch.inference_mode():
            for batch in batches:
                model(batch)

    def extractor() -> None:
        with torch.inference_mode():
            for batch in batches:
                net.extractor(batch)

    def whole_map() -> None:
        score_map(lambda batch: net(batch)["logits"], scene_at, positions, class_index=285, batch_size=BATCH)

    return (*(len(images) / seconds for seconds in best_times([plain, extractor, whole_map])), len(images))


def main() -> None:
    torch.set_num_threads(1)
    print(
        f"Shift Lab score-map throughput, {date.today()}, {platform.node()}: {os.cpu_count()} cores, "
        f"torch {torch.__version__} with 1 thread, canvas {CANVAS} px, step {STEP} px, batches of {BATCH}"
    )
    print()
    print("| model | images per map | images/s: plain model / extractor / score map | score map / faster bare |")
    print("|---|---|---|---|")
    for name in sys.argv[1:] or MODELS:
        plain, extractor, whole, count = throughput(name)
        print(
            f"| {name} | {count} | {plain:.1f} / {extractor:.1f} / {whole:.1f} | {whole / max(plain, extractor):.0%} |"
        )


if __name__ == "__main__":
    main()
