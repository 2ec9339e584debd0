"""Where a model's weights come from: a seeded random initialisation, a local file, or
torchvision's own download (cached by torch hub, so it works offline once fetched)."""

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision.models import WeightsEnum, get_model, get_model_weights

from .registry import ModelSpec

WEIGHTS_DIR_ENV = "SHIFTLAB_WEIGHTS_DIR"

# torch's random generator is one per process. App sessions run in threads, so seeded
# builds take turns; otherwise two scratch twins built at once would mix their streams.
_RNG_LOCK = threading.Lock()


@dataclass(frozen=True)
class OfflineWeights:
    """A file that pretrained weights would load from with no network: found, not yet read."""

    path: Path
    origin: str  # plain words: "weights folder" or "torchvision's cache"


class WeightsUnavailable(Exception):
    """Pretrained weights could not be had; str(exc) is a plain-words message for the UI
    saying what happened and what to do."""


def weights_dir() -> Path:
    """The folder searched for `<name>.pth`: $SHIFTLAB_WEIGHTS_DIR, else `<project>/weights`."""
    return Path(os.environ.get(WEIGHTS_DIR_ENV) or Path(__file__).resolve().parents[1] / "weights")


def weights_file(folder: Path, name: str) -> Path:
    """The local file a registry model's pretrained weights are read from: `folder/<name>.pth`."""
    return folder / f"{name}.pth"


def offline_weights(name: str, folder: Path) -> OfflineWeights | None:
    """Where `load_pretrained` would find `name`'s weights without network, in its order:
    `folder/<name>.pth`, else torch hub's cached copy of torchvision's default checkpoint; None if
    neither exists. Only looks for the files, so a model list can ask for every model at once;
    whether they load is found out when they do (`make offline` checks that ahead of a class)."""
    path = weights_file(folder, name)
    if path.is_file():
        return OfflineWeights(path, "weights folder")
    cached = hub_checkpoint(get_model_weights(name).DEFAULT)
    return OfflineWeights(cached, "torchvision's cache") if cached.is_file() else None


def hub_checkpoint(weights: WeightsEnum) -> Path:
    """The file torch hub keeps `weights` in once downloaded (named as load_state_dict_from_url names it)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name


def build(name: str, seed: int = 0) -> nn.Module:
    """Run torchvision's builder under a private RNG seeded with `seed`: the same seed gives
    the same random initialisation, and the caller's random stream is left as it was."""
    with _RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)  # CPU only, like the fork: GPU streams stay untouched
        return get_model(name)


def load_pretrained(spec: ModelSpec, weights: WeightsEnum, folder: Path, allow_download: bool) -> tuple[nn.Module, str]:
    """The pretrained model and where its weights came from: `folder/<name>.pth` if present,
    else torchvision's download. Raises WeightsUnavailable when neither works."""
    path = weights_file(folder, spec.name)
    if path.is_file():
        return _load_file(spec, path), f"ImageNet weights from {path}"
    if not allow_download:
        raise _missing(spec, folder, f"there is no {path} and downloading is switched off")
    return _load_torchvision(spec, weights, folder), f"torchvision ImageNet weights ({weights.name})"


def _load_torchvision(spec: ModelSpec, weights: WeightsEnum, folder: Path) -> nn.Module:
    """torchvision's checkpoint, read from torch hub's cache, downloaded there first (hash checked)
    if missing. Not through get_model(name, weights=...): torch hub reads the cached file with full
    unpickling by default, so a file planted in the cache would run code; here weights_only=True."""
    cached = hub_checkpoint(weights)
    try:
        model = build(spec.name)
        model.load_state_dict(weights.get_state_dict(check_hash=True, weights_only=True), strict=True)
    except Exception as exc:  # no network (URLError), a cut download, a hash mismatch, a damaged cached file, ...
        if cached.is_file():
            reason = f"torchvision's cached copy {cached} cannot be used ({_gist(exc)}); delete it to download it again"
        else:
            reason = (
                f"there is no {weights_file(folder, spec.name)} and torchvision could not download them: {_gist(exc)}"
            )
        raise _missing(spec, folder, reason) from exc
    return model


def _load_file(spec: ModelSpec, path: Path) -> nn.Module:
    """Load a state_dict file into the architecture. weights_only=True unpickles tensors and
    plain containers only, so a file carrying code is refused, never run."""
    model = build(spec.name)
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    except Exception as exc:  # a bad file fails in many ways: zip, pickle, EOF, key and shape errors
        raise WeightsUnavailable(
            f"Could not use {path} as weights for {spec.label} ({_gist(exc)}). The file must be a state_dict "
            f"of torchvision's {spec.name}, saved with torch.save(model.state_dict(), path). "
            "Replace or remove it; the scratch twin still works."
        ) from exc
    return model


def _missing(spec: ModelSpec, folder: Path, reason: str) -> WeightsUnavailable:
    return WeightsUnavailable(
        f"No pretrained weights for {spec.label} here: {reason}. Put {spec.name}.pth (a state_dict) in {folder} "
        f"or point the {WEIGHTS_DIR_ENV} environment variable at a folder that has it, or run once with internet "
        "so torchvision can download and cache them. The scratch twin still works."
    )


def _gist(exc: BaseException, limit: int = 160) -> str:
    """The error's type and first sentence, short enough for a message box."""
    first = " ".join(str(exc).split()).split(". ")[0]
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
