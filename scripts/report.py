"""The drag view's measurements without the browser: one scene, every measurement, into a folder.

    python -m scripts.report --model mobilenet_v2 --object star --background black --canvas 224 --out report/
    python -m scripts.report --weights flowers.pth --labels flowers.txt --object my_photo.jpg --out report/

writes, for the object at (x, y) and moved by (dx, dy) from there: the per-layer table (measurements.csv), the
score maps, the one-pixel sweep at the object's height, shift consistency around it, the layer profiles and the
position read-out, each as the CSV and PNG files the app's download holds, and summary.json with the headline
figures. Every number is computed by the app's own functions (ui.measurements, ui.score_map_view,
ui.profile_view, ui.position_view) on the app's scene, so a file here equals the app's file for the same view.
A progress bar is drawn on the terminal (standard error).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from models import Network
from models.families import YOURS, Family, OwnModel, catalog, uploaded_model
from models.own_model import OwnModelError, read_own_weights
from models.weights import weights_dir
from probes import flip_rate, flips, grid_positions, random_shift_pairs, score_map, scores_at, shift_consistency
from scene.upload import UnreadableImage
from ui import resources
from ui.export import Exports
from ui.measurements import measure, measurement_exports
from ui.position_view import compute_readouts, readout_exports
from ui.profile_view import profile_exports, view_profiles
from ui.score_map_view import (
    CONSISTENCY_PAIRS,
    consistency_exports,
    default_step,
    logits_and_scene,
    score_map_exports,
    steps_for,
    sweep_exports,
    sweep_series,
    top1_names,
    tracked_name,
)
from ui.settings import Settings
from ui.uploads import add_upload

SECTIONS = ("measurements", "score_maps", "sweep", "consistency", "profiles", "readout")


def progress_bar(label: str, width: int = 30) -> Callable[[float], None]:
    """A progress(fraction) that redraws `label` and a bar on standard error, ending the line at 1."""

    def progress(fraction: float) -> None:
        done = round(width * min(max(fraction, 0.0), 1.0))
        sys.stderr.write(f"\r{label:<28} [{'#' * done}{'.' * (width - done)}] {fraction:4.0%}")
        if fraction >= 1:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return progress


def loaded_models(family: Family) -> dict[str, Network]:
    """Every column of the family that loads, by variant, as the app loads them (`ui.resources.load_columns`,
    with each column's own cache key); a column that cannot is named on standard error."""
    columns = resources.load_columns(family)
    for variant, reason in columns.unavailable.items():
        title = next(column.title for column in family.columns if column.key == variant)
        print(f"{title}: left out. {reason}", file=sys.stderr)
    return columns.loaded


def report(
    family: Family,
    view: Settings,
    position: tuple[int, int],
    move: tuple[int, int],
    step: int,
    sections: tuple[str, ...] = SECTIONS,
) -> tuple[Exports, dict]:
    """(the files, the summary) of the sections asked for, for `view` with the object at `position` (x, y) and
    moved by `move` (dx, dy) for the per-layer table; the score map's grid `step` pixels apart."""
    loaded = loaded_models(family)
    if not loaded:
        raise SystemExit("No model of this family could be loaded: nothing to measure.")
    settings = Settings(view.model, family.layers[-1], view.object, view.object_size, view.background, view.canvas)
    x, y = position
    moved = (x + move[0], y + move[1])
    outputs = {v: resources.outputs_at(net, view, view.object, x, y) for v, net in loaded.items()}
    tracked = {v: int(out["logits"][0].argmax()) for v, out in outputs.items()}
    files: Exports = {}
    summary: dict = {"model": view.model, "object": view.object, "object_size": view.object_size}
    summary |= {"background": view.background, "canvas": view.canvas, "position": position, "moved_to": moved}
    summary["tracked_class"] = {loaded[v].title: loaded[v].categories[i] for v, i in tracked.items()}

    def scores(points: list[tuple[int, int]], label: str, index_of: Callable[[str], int]) -> dict:
        bar, results = progress_bar(label), {}
        for n, (variant, net) in enumerate(loaded.items()):
            share = lambda f, n=n: bar((n + f) / len(loaded))  # noqa: E731 (one model's share of the bar)
            results[variant] = scores_at(*logits_and_scene(view, net), points, index_of(variant), progress=share)
        return results

    if "measurements" in sections:
        progress_bar("Per-layer measurements")(0)
        moved_outputs = {v: resources.outputs_at(net, view, view.object, *moved) for v, net in loaded.items()}
        history = [
            measure(settings, family, loaded, outputs, position, position),
            measure(settings, family, loaded, moved_outputs, position, moved),
        ]
        files |= measurement_exports(history, loaded)
        reports = history[-1].reports
        summary["equivariance_error"] = {
            loaded[v].title: {layer: r.equivariance_error for layer, r in layers.items()}
            for v, layers in reports.items()
        }
        progress_bar("Per-layer measurements")(1)
    if "score_maps" in sections:
        positions, bar = grid_positions(view.canvas, step), progress_bar("Score maps")
        maps = {}
        for n, (variant, net) in enumerate(loaded.items()):
            share = lambda f, n=n: bar((n + f) / len(loaded))  # noqa: E731
            maps[tracked_name(net, tracked[variant])] = score_map(
                *logits_and_scene(view, net), positions, tracked[variant], progress=share
            )
        files |= score_map_exports(maps, view.canvas, position)
        summary["score_map_top1_kept"] = {name: float(m.top1_kept.float().mean()) for name, m in maps.items()}
    if "sweep" in sections:
        results = scores([(sweep_x, y) for sweep_x in range(view.canvas)], "One-pixel sweep", tracked.get)
        changes = [flips(top1) for _, top1 in results.values()]
        files |= sweep_exports(*sweep_series(results, loaded, tracked), y, position[0], changes)
        summary["flip_rate"] = {loaded[v].title: flip_rate(top1) for v, (_, top1) in results.items()}
    if "consistency" in sections:
        pairs = random_shift_pairs(position, CONSISTENCY_PAIRS)
        results = scores([p for pair in pairs for p in pair], "Shift consistency", lambda variant: 0)
        files |= consistency_exports(pairs, top1_names(results, loaded))
        summary["shift_consistency"] = {
            loaded[v].title: shift_consistency(top1[0::2], top1[1::2]) for v, (_, top1) in results.items()
        }
    if "profiles" in sections:
        files |= profile_exports(
            view_profiles(view, family, loaded, progress_bar("Layer profiles")), loaded, view.model
        )
    if "readout" in sections:
        readouts = compute_readouts(view, loaded, progress_bar("Where is it?"))
        files |= readout_exports(view, {loaded[v].title: r for v, r in readouts.items()})
        summary["readout_r2"] = {
            loaded[v].title: {layer: r.r2 for layer, r in readout.layers.items()} for v, readout in readouts.items()
        }
    return files, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="an architecture or family of the model list (default: mobilenet_v2)")
    parser.add_argument("--weights", type=Path, help="weights of your own for an architecture (--model, or found)")
    parser.add_argument("--labels", type=Path, help="the class names of --weights, one per line")
    parser.add_argument("--object", default="star", help="a library object (cat, coffee, star), a shape, or a file")
    parser.add_argument("--size", type=int, help="the object's side in pixels (default: the family's middle size)")
    parser.add_argument("--background", help="default: the family's first")
    parser.add_argument("--canvas", type=int, help="default: the family's first")
    parser.add_argument("--x", type=int, help="object centre (default: the canvas centre)")
    parser.add_argument("--y", type=int, help="object centre (default: the canvas centre)")
    parser.add_argument("--move", type=int, nargs=2, default=(16, 0), metavar=("DX", "DY"))
    parser.add_argument("--step", type=int, help="score map grid step in pixels (default: the app's)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="measure only these")
    parser.add_argument("--out", type=Path, default=Path("report"), help="the folder to write into")
    args = parser.parse_args(argv)
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("streamlit")]:  # there is no runtime,
        logging.getLogger(name).setLevel(logging.ERROR)  # by design: no notes that it is missing
    torch.set_num_threads(1)  # as the app: one thread per model, the models side by side
    own = own_model(parser, args.weights, args.labels, args.model) if args.weights else None
    families = catalog(weights_dir(), own=own)
    model = YOURS if own else args.model or "mobilenet_v2"
    if model not in families:
        parser.error(f"unknown model {model!r}; choose one of {', '.join(families)}")
    family = families[model]
    scene = family.scene
    picture = Path(args.object)
    uploaded = picture.is_file() and scene.uploads
    if uploaded:
        try:
            args.object = add_upload(picture.name, picture.read_bytes())
        except UnreadableImage as error:
            parser.error(f"{args.object} cannot be the object: {error}")
    elif args.object not in scene.objects:
        parser.error(f"{family.label} shows these objects: {', '.join(scene.objects)}, or a picture file")
    canvas = args.canvas or scene.canvases[0]
    size = args.size or scene.object_sizes[len(scene.object_sizes) // 2]
    view = Settings(family.name, "", args.object, size, args.background or scene.backgrounds[0], canvas)
    step = args.step or default_step(steps_for(canvas), canvas)
    position = (args.x if args.x is not None else canvas // 2, args.y if args.y is not None else canvas // 2)
    files, summary = report(family, view, position, tuple(args.move), step, tuple(args.only))
    if uploaded:  # a picture of one's own: named by its file
        summary["object"] = picture.name
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in files.items():
        (args.out / name).write_bytes(make())
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"Wrote {len(files) + 1} files to {args.out}/")


def own_model(
    parser: argparse.ArgumentParser, weights: Path, labels: Path | None, architecture: str | None
) -> OwnModel:
    """The weights of your own as the app's upload makes them; a file that does not fit ends the run, saying why."""
    try:
        own = read_own_weights(weights.read_bytes(), labels.read_bytes() if labels else None, architecture)
    except (OSError, OwnModelError) as error:
        parser.error(f"{weights} was not used: {error}")
    return uploaded_model(own, weights.name, labels.name if labels else None)


if __name__ == "__main__":
    main()
