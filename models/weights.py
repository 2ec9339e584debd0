"""Where a model's weights come from: a seeded random initialisation, a local file, or
torchvision's own download (cached by torch hub, so it works offline once fetched)."""

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.error import ContentTooShortError, HTTPError, URLError
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision.models import WeightsEnum, get_model, get_model_weights

from locales import N_
from scene.words import Words

from .registry import REGISTRY, ModelSpec
from .unavailable import ModelUnavailable

WEIGHTS_DIR_ENV = "SHIFTLAB_WEIGHTS_DIR"
# Messages name the weights folder so, with no server path in anything a user reads (the log has it): "the
# project's weights folder (or the folder named by the {env} environment variable)", env=WEIGHTS_DIR_ENV.

logger = logging.getLogger(__name__)

# torch's random generator is one per process. App sessions run in threads, so seeded
# builds take turns; otherwise two scratch twins built at once would mix their streams.
_RNG_LOCK = threading.Lock()


@dataclass(frozen=True)
class OfflineWeights:
    """A file that pretrained weights would load from with no network: found, not yet read."""

    path: Path
    origin: str  # plain words: "weights folder" or "torchvision's cache"


class WeightsUnavailable(ModelUnavailable):
    """Pretrained weights could not be had; str(exc) is a plain-words message for the UI
    saying what happened and what to do, with no exception name, errno or server path: those
    go to the log where the cause is caught."""


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


IMAGENET_CLASSES = 1000


def architecture(name: str, classes: int = IMAGENET_CLASSES) -> nn.Module:
    """torchvision's builder for the registry model `name`, with its entry's builder options (the
    architecture its ImageNet weights were trained as) and a head of `classes` outputs, randomly
    initialised from torch's generator."""
    return get_model(name, num_classes=classes, **dict(REGISTRY[name].options))


def build(name: str, seed: int = 0, classes: int = IMAGENET_CLASSES) -> nn.Module:
    """Run torchvision's builder under a private RNG seeded with `seed`: the same seed gives
    the same random initialisation, and the caller's random stream is left as it was."""
    with _RNG_LOCK, torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)  # CPU only, like the fork: GPU streams stay untouched
        return architecture(name, classes)


def renamed(spec: ModelSpec, state: dict) -> dict:
    """A checkpoint's state_dict with its keys renamed to the model's own (the entry's `renames`), in place:
    the dict keeps the metadata some architectures read when loading (MNASNet's version)."""
    for pattern, replacement in spec.renames:
        for key in list(state):
            if (new := re.sub(pattern, replacement, key)) != key:
                state[new] = state.pop(key)
    return state


def load_pretrained(spec: ModelSpec, weights: WeightsEnum, folder: Path, allow_download: bool) -> tuple[nn.Module, str]:
    """The pretrained model and where its weights came from: `folder/<name>.pth` if present,
    else torchvision's download. Raises WeightsUnavailable when neither works."""
    path = weights_file(folder, spec.name)
    if path.is_file():
        return _load_file(spec, path), Words(N_("ImageNet weights from {file} in the weights folder"), file=path.name)
    if not allow_download:
        logger.warning("No pretrained weights for %s: there is no %s and downloading is switched off", spec.name, path)
        switched_off = N_("There is no {file} in the weights folder, and downloading is switched off.")
        raise _missing(spec, Words(switched_off, file=path.name))
    source = Words(N_("torchvision ImageNet weights ({weights})"), weights=weights.name)
    return _load_torchvision(spec, weights, path), source


def _load_torchvision(spec: ModelSpec, weights: WeightsEnum, path: Path) -> nn.Module:
    """torchvision's checkpoint, read from torch hub's cache, downloaded there first (hash checked)
    if missing. Not through get_model(name, weights=...): torch hub reads the cached file with full
    unpickling by default, so a file planted in the cache would run code; here weights_only=True.
    `path` is the weights folder's file that was not there, for the log."""
    cached = hub_checkpoint(weights)
    try:
        model = build(spec.name)
        model.load_state_dict(renamed(spec, weights.get_state_dict(check_hash=True, weights_only=True)), strict=True)
    except Exception as exc:  # no network (URLError), a cut download, a hash mismatch, a damaged cached file, ...
        if cached.is_file():  # torch hub only keeps a download that arrived whole, so this copy is the problem
            logger.warning(
                "No pretrained weights for %s: there is no %s, and torch hub's cached copy %s cannot be used (%s: %s)",
                spec.name,
                path,
                cached,
                type(exc).__name__,
                exc,
                exc_info=True,
            )
            raise _missing(
                spec,
                Words(
                    N_(
                        "There is no {file} in the weights folder, and the copy torchvision keeps in torch hub's "
                        "cache ({cached}) cannot be used: it is damaged or cut short, or is not a weights file "
                        "(anything that could run code is refused, never run)."
                    ),
                    file=f"{spec.name}.pth",
                    cached=cached.name,
                ),
                Words(
                    N_(
                        "Delete that copy so that it is downloaded again (`make offline` shows where it is), or put "
                        "{file} (a state_dict) in the project's weights folder (or the folder named by the {env} "
                        "environment variable)."
                    ),
                    file=f"{spec.name}.pth",
                    env=WEIGHTS_DIR_ENV,
                ),
            ) from exc
        logger.warning(
            "No pretrained weights for %s: there is no %s, and downloading %s to %s failed (%s: %s)",
            spec.name,
            path,
            weights.url,
            cached,
            type(exc).__name__,
            exc,
            exc_info=True,
        )
        raise _missing(spec, _download_failed(spec, exc)) from exc
    return model


def _download_failed(spec: ModelSpec, exc: Exception) -> Words:
    """What went wrong with torchvision's download, in plain words (the details are in the log)."""
    file = f"{spec.name}.pth"
    if isinstance(exc, HTTPError):
        message = N_(
            "There is no {file} in the weights folder, and downloading the weights failed: the download server "
            "refused to send them. Try again later."
        )
    elif isinstance(exc, URLError) and not isinstance(exc, ContentTooShortError):
        message = N_(
            "There is no {file} in the weights folder, and downloading the weights failed: the download server "
            "could not be reached (is there no internet connection here?)."
        )
    elif isinstance(exc, RuntimeError) and "hash" in str(exc):
        message = N_(
            "There is no {file} in the weights folder, and downloading the weights failed: what arrived was not "
            "the weights file (a network that wants you to log in first sends its log-in page instead). Nothing "
            "was kept."
        )
    else:
        message = N_(
            "There is no {file} in the weights folder, and downloading the weights failed: the download broke off "
            "before it was complete. Nothing was kept; try again."
        )
    return Words(message, file=file)


def _load_file(spec: ModelSpec, path: Path) -> nn.Module:
    """Load a state_dict file into the architecture. weights_only=True unpickles tensors and
    plain containers only, so a file carrying code is refused, never run."""
    model = build(spec.name)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a bad file fails in many ways: zip, pickle, EOF, ...
        logger.warning(
            "Could not read %s as weights for %s (%s: %s)", path, spec.name, type(exc).__name__, exc, exc_info=True
        )
        raise _unusable_file(spec, path, damaged=True) from exc
    try:
        model.load_state_dict(renamed(spec, state), strict=True)
    except Exception as exc:  # not a state_dict, or missing, unexpected or misshapen layers
        logger.warning("Could not load %s into %s (%s: %s)", path, spec.name, type(exc).__name__, exc, exc_info=True)
        raise _unusable_file(spec, path, damaged=False) from exc
    return model


def _unusable_file(spec: ModelSpec, path: Path, damaged: bool) -> WeightsUnavailable:
    """The file is `damaged` (or holds more than weights), or holds other weights."""
    if damaged:
        message = N_(
            "The file {file} in the weights folder cannot be used as weights for {model}: it is damaged or cut "
            "short, or holds more than weights (anything that could run code is refused). It must be a state_dict "
            "of torchvision's {name}, saved with torch.save(model.state_dict(), path). Replace or remove it; the "
            "scratch twin still works."
        )
    else:
        message = N_(
            "The file {file} in the weights folder cannot be used as weights for {model}: it holds something other "
            "than the weights of torchvision's {name} (another architecture's?). It must be a state_dict of "
            "torchvision's {name}, saved with torch.save(model.state_dict(), path). Replace or remove it; the "
            "scratch twin still works."
        )
    return WeightsUnavailable(Words(message, file=path.name, model=spec.label, name=spec.name))


def _missing(spec: ModelSpec, what_happened: Words, what_to_do: Words | None = None) -> WeightsUnavailable:
    """No pretrained weights, in plain words: what happened and what to do (by default: give the
    weights folder the file, or let torchvision download it once)."""
    what_to_do = what_to_do or Words(
        N_(
            "To have them, put {file} (a state_dict) in the project's weights folder (or the folder named by the "
            "{env} environment variable), or start the app once with internet (or run `make offline`) so that "
            "torchvision downloads and keeps them."
        ),
        file=f"{spec.name}.pth",
        env=WEIGHTS_DIR_ENV,
    )
    return WeightsUnavailable(
        Words(
            N_("No pretrained weights for {model}. {what_happened} {what_to_do} The scratch twin still works."),
            model=spec.label,
            what_happened=what_happened,
            what_to_do=what_to_do,
        )
    )
