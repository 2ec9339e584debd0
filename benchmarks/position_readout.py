"""What does *Where is it?* cost? Prints, for MobileNetV2 at 224 px, the drag view's position read-out of both
models (the object at 300 places, batches of 16, both models side by side with one torch thread each, as the app
runs it) against bare forward passes of the same images made beforehand, side by side too, measured in the same
run; then the CNN lab's location task: each padding mode's training time, and the untrained lab net's read-out.

Run with `python -m benchmarks.position_readout` (or `make bench`). The cost is the same with random weights, so
two scratch twins (seeds 0 and 1) stand for the pretrained model and its twin.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import date

import torch

from benchmarks.score_map_throughput import best_times
from models import load_network, run_side_by_side
from models.location_task import LOCATION_SETTINGS, PADDINGS, lab_readouts, location_data, train_location
from probes.position_readout import pooled_activations, position_readout, whole_placements
from scene import compose, load_object, make_background, to_tensor

MODEL, CANVAS, OBJECT_SIZE = "mobilenet_v2", 224, 96
PLACEMENTS, TRAIN, BATCH = 300, 200, 16  # as ui.position_view


def readout_against_forward() -> tuple[float, float, float]:
    """(bare side-by-side forward passes, the whole read-out, the ridge fits alone), in seconds."""
    nets = {"pretrained": load_network(MODEL, "scratch", seed=1), "scratch": load_network(MODEL, "scratch")}
    background, sprite = make_background("black", CANVAS), load_object("cat", OBJECT_SIZE)

    def scene_at(x: int, y: int) -> torch.Tensor:  # (3, H, W), as the app's scene_batch
        return to_tensor(compose(background, sprite, x, y))

    positions = whole_placements(CANVAS, OBJECT_SIZE, PLACEMENTS)
    batches = torch.stack([scene_at(x, y) for x, y in positions.tolist()]).split(BATCH)  # made beforehand

    def bare() -> None:
        for batch in batches:
            run_side_by_side(nets, batch)

    features = {}

    def readout() -> None:
        pooled = pooled_activations(lambda images: run_side_by_side(nets, images), scene_at, positions, BATCH)
        features.update(pooled)
        for layers in pooled.values():
            position_readout(layers, positions, TRAIN)

    def fits() -> None:
        for layers in features.values():
            position_readout(layers, positions, TRAIN)

    forward, whole = best_times([bare, readout], repeats=2)
    (fitting,) = best_times([fits], repeats=1)
    return forward, whole, fitting


def main() -> None:
    torch.set_num_threads(1)
    print(
        f"Shift Lab position read-out, {date.today()}, {platform.node()}: {os.cpu_count()} cores, torch "
        f"{torch.__version__} with 1 thread per model, load average {os.getloadavg()[0]:.1f}"
    )
    print()
    forward, whole, fitting = readout_against_forward()
    print(
        f"{MODEL}, {CANVAS} px, the cat ({OBJECT_SIZE} px) at {PLACEMENTS} places, batches of {BATCH}, two models "
        "side by side (one torch thread each), best of 2 after a warm-up:"
    )
    print()
    print(
        "| bare forward passes, both models (s) | read-out, both models (s) | of which ridge fits (s) "
        "| read-out / bare |"
    )
    print("|---|---|---|---|")
    print(f"| {forward:.1f} | {whole:.1f} | {fitting:.2f} | {whole / forward:.2f} |")
    print()
    data = location_data()
    print(
        f"Location task ({len(data[0].labels)} training and {len(data[1].labels)} held-out images, "
        f"{LOCATION_SETTINGS.epochs} epochs, 1 thread):"
    )
    print()
    print("| padding | training time (s) | accuracy, training placements | accuracy, held-out placements |")
    print("|---|---|---|---|")
    for padding in PADDINGS:
        result = train_location(padding, data=data)
        print(f"| {padding} | {result.seconds:.1f} | {result.train_accuracy:.0%} | {result.test_accuracy:.0%} |")
    print()
    start = time.perf_counter()
    lab_readouts()
    print(f"The untrained lab net's read-out, all {len(PADDINGS)} padding modes: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
