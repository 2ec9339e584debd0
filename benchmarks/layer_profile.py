"""What do *Layer profiles over distance* cost? Prints, for MobileNetV2 at 224 px, the drag view's profiles of
both models as the app computes them (the scene's objects at three sizes, moved 0 to 104 px in four directions,
batches of 16, both models side by side with one torch thread each) against as many bare side-by-side forward
passes of batches made beforehand, measured in the same run, and the process's peak memory.

Run with `python -m benchmarks.layer_profile` (or `make bench`). The cost is the same with random weights, so
two scratch twins (seeds 0 and 1) stand for the pretrained model and its twin.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from datetime import date

import torch

from models import load_network, run_side_by_side
from models.families import PHOTOS
from models.geometry import imagenet_fields
from probes.layer_profile import DIRECTIONS
from scene import compose, load_object, make_background, to_tensor
from ui.profile_view import BATCH, SIZES, distances, profile_objects, side_by_side_profiles

MODEL, CANVAS = "mobilenet_v2", 224


def peak_mb() -> float:
    """The process's largest resident memory so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    torch.set_num_threads(1)
    print(
        f"Shift Lab layer profiles, {date.today()}, {platform.node()}: {os.cpu_count()} cores, torch "
        f"{torch.__version__} with 1 thread per model, load average {os.getloadavg()[0]:.1f}"
    )
    nets = {"pretrained": load_network(MODEL, "scratch", seed=1), "scratch": load_network(MODEL, "scratch")}
    fields = {variant: imagenet_fields(MODEL) for variant in nets}
    background = make_background("black", CANVAS)
    objects, others = profile_objects(PHOTOS, SIZES[0])
    sprites = {obj: load_object(*obj) for obj in {*objects, *others}}

    def scene_at(obj: tuple[str, int] | None, x: int, y: int) -> torch.Tensor:  # (3, H, W), as ui.profile_view's
        return to_tensor(background if obj is None else compose(background, sprites[obj], x, y))

    done = []
    before = peak_mb()
    start = time.perf_counter()
    side_by_side_profiles(nets, fields, scene_at, objects, others, CANVAS, done.append)
    whole = time.perf_counter() - start
    batches = torch.stack([scene_at(objects[0], CANVAS // 2, CANVAS // 2)] * BATCH)  # (B, 3, H, W)
    start = time.perf_counter()
    for _ in range(len(done)):
        run_side_by_side(nets, batches)
    forward = time.perf_counter() - start
    print()
    print(
        f"{MODEL}, {CANVAS} px, {len(objects)} objects ({len(PHOTOS.objects)} at {len(SIZES)} sizes) moved "
        f"{distances(CANVAS)[0]}–{distances(CANVAS)[-1]} px in {len(DIRECTIONS)} directions: {len(done)} batches of "
        f"up to {BATCH} images, both models side by side (one torch thread each):"
    )
    print()
    print("| bare forward passes, both models (s) | profiles, both models (s) | profiles / bare | peak memory (MB) |")
    print("|---|---|---|---|")
    print(f"| {forward:.1f} | {whole:.1f} | {whole / forward:.2f} | {peak_mb():.0f} (before: {before:.0f}) |")


if __name__ == "__main__":
    main()
