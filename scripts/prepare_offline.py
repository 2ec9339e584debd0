"""Get the registry's pretrained weights ready for use without internet: run once where there is internet.

    python -m scripts.prepare_offline [model ...] [--to DIR]        (or: make offline)

For each model (default: every model in the registry), the weights the app would use offline
(`<model>.pth` in the weights folder, else torchvision's checkpoint in torch hub's cache) are loaded
into the architecture exactly as the app loads them (weights_only, strict). Missing ones are first
downloaded through torchvision's weights API, hash checked, into torch hub's cache. Prints one row
per model: ready (was here already), downloaded, or failed, with the reasons under the table.
Exits 1 if any model failed.

--to DIR copies every verified file to DIR/<model>.pth: a weights folder to carry, on a USB stick
say, to a classroom machine without internet, where the project's weights/ folder or
SHIFTLAB_WEIGHTS_DIR=DIR picks it up.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from torchvision.models import get_model_weights

from models import REGISTRY, WEIGHTS_DIR_ENV, OfflineWeights, WeightsUnavailable, offline_weights, weights_dir
from models.weights import load_pretrained, weights_file

ROW = "{:<14} {:<10} {:>9}  {}"


@dataclass(frozen=True)
class Outcome:
    """What preparing one model came to."""

    name: str
    status: str  # "ready" (was available offline), "downloaded" (now it is) or "failed"
    found: OfflineWeights | None  # the weights file, if there is one (a failed one too)
    problem: str = ""  # plain words, when failed

    def row(self) -> str:
        size = f"{self.found.path.stat().st_size / 1e6:.1f} MB" if self.found else "-"
        where = f"{self.found.path} ({self.found.origin})" if self.found else "-"
        return ROW.format(self.name, self.status, size, where)


def prepare(name: str, folder: Path) -> Outcome:
    """Load `name`'s pretrained weights as the app does, downloading them first if they are not
    available offline, and say how it went."""
    before = offline_weights(name, folder)
    try:
        load_pretrained(REGISTRY[name], get_model_weights(name).DEFAULT, folder, allow_download=True)
    except WeightsUnavailable as exc:
        return Outcome(name, "failed", offline_weights(name, folder), str(exc))
    return Outcome(name, "ready" if before else "downloaded", offline_weights(name, folder))


def copy_to(outcome: Outcome, to: Path) -> Outcome:
    """Copy a verified weights file to `to/<name>.pth` through a temporary name, so that an
    interrupted copy never leaves half a file under the name the app loads."""
    target = weights_file(to, outcome.name)
    if target.exists() and target.samefile(outcome.found.path):
        return outcome
    partial = target.with_name(target.name + ".part")
    try:
        to.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(outcome.found.path, partial)
        partial.replace(target)
    except OSError as exc:
        return replace(outcome, status="failed", problem=f"Verified, but could not copy it to {target}: {exc}")
    finally:
        if partial.is_file():  # a copy cut short
            partial.unlink()
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("models", nargs="*", metavar="model", help=f"default: all of {', '.join(REGISTRY)}")
    parser.add_argument("--to", type=Path, metavar="DIR", help="also copy the verified weights to DIR/<model>.pth")
    args = parser.parse_args(argv)
    # The app logs each failure's technical detail with its traceback; here the table says it in plain words.
    logging.basicConfig(level=logging.ERROR)
    if unknown := [name for name in args.models if name not in REGISTRY]:
        parser.error(f"unknown model {', '.join(unknown)}; choose from {', '.join(REGISTRY)}")

    folder = weights_dir()
    print(f"Weights folder: {folder} (set {WEIGHTS_DIR_ENV} to use another)\n")
    print(ROW.format("model", "status", "size", "weights file"))
    outcomes = []
    for name in args.models or REGISTRY:
        outcome = prepare(name, folder)
        if args.to and outcome.status != "failed":
            outcome = copy_to(outcome, args.to)
        print(outcome.row(), flush=True)
        outcomes.append(outcome)

    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    for outcome in failed:
        print(f"\n{outcome.name}: {outcome.problem}")
    ready = len(outcomes) - len(failed)
    print(f"\n{ready} of {len(outcomes)} models are ready to work offline.")
    if args.to and ready:
        print(
            f"The ready ones are copied to {args.to}. On a machine without internet, put those files in the "
            f"project's weights/ folder, or start the app with {WEIGHTS_DIR_ENV}={args.to}."
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
