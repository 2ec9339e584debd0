"""What each registry architecture costs the app: tracing its graph (once per process, at start-up), building
its scratch twin (what loading costs besides reading weights), one forward pass at 224 px, and measuring its
receptive fields (once per process, when the model is first measured). The forward pass is also given as a
ratio to MobileNetV2's, measured in the same run, so that machines and busy spells compare.

Run with `make bench`, or `python -m benchmarks.architectures resnet50 vgg16` (MobileNetV2 is always timed
too); `--no-fields` leaves out the receptive fields (the slowest part). One torch thread, as in the app. The
cost is the same with random weights, so the scratch twin is timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

import torch

from models import REGISTRY, load_network
from models.geometry import imagenet_fields
from models.network import extractor_graph

REFERENCE = "mobilenet_v2"
CANVAS = 224


def seconds(work, *args: object) -> float:
    """How long work(*args) takes, in seconds."""
    start = time.perf_counter()
    work(*args)
    return time.perf_counter() - start


def forward_time(name: str, repeats: int = 5) -> float:
    """The shortest of `repeats` forward passes of one image (after a warm-up), in seconds."""
    net = load_network(name, "scratch")
    image = torch.rand(1, 3, CANVAS, CANVAS)  # (1, 3, 224, 224)
    net(image)
    return min(seconds(net, image) for _ in range(repeats))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", metavar="model", help=f"default: all of {', '.join(REGISTRY)}")
    parser.add_argument("--no-fields", action="store_true", help="do not time the receptive-field measurement")
    args = parser.parse_args(argv)
    if unknown := [name for name in args.models if name not in REGISTRY]:
        parser.error(f"unknown model {', '.join(unknown)}; choose from {', '.join(REGISTRY)}")
    names = list(dict.fromkeys([REFERENCE, *(args.models or REGISTRY)]))
    torch.set_num_threads(1)
    print(
        f"Shift Lab architectures, {date.today()}, {platform.node()}: {os.cpu_count()} cores, "
        f"torch {torch.__version__} with 1 thread, one image of {CANVAS} px, scratch twins"
    )
    print()
    print("| model | group | trace (s) | build (s) | forward (ms) | forward / MobileNetV2 | receptive fields (s) |")
    print("|---|---|---|---|---|---|---|")
    reference = None
    for name in names:
        trace = seconds(extractor_graph, name)
        build = seconds(load_network, name, "scratch")
        forward = forward_time(name)
        reference = reference or forward  # MobileNetV2 comes first
        fields = "-" if args.no_fields else f"{seconds(imagenet_fields, name):.1f}"
        print(
            f"| {REGISTRY[name].label} | {REGISTRY[name].group} | {trace:.2f} | {build:.2f} | {forward * 1000:.1f} | "
            f"{forward / reference:.1f} | {fields} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
