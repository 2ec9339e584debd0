"""Training a SmallCNN on the CPU, and saving and loading it.

Training is reproducible: the batches are shuffled by a private generator seeded from the settings,
so the same model, data and settings give the same weights (on the same machine and thread count).
It reports every step through a callback, for a progress bar and live curves, and stops early,
keeping what it has learnt so far, when `should_stop()` turns true.

A saved model is two files side by side: `<name>.pt`, its state_dict (read back with
`torch.load(..., weights_only=True)`, so a file cannot run code), and `<name>.json`, its config.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import torch
import torch.nn.functional as F
from torch import nn

from locales import _
from models.small_cnn import SmallCNN, SmallCNNConfig, build_small_cnn
from models.unavailable import ModelUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """How to train: epochs over the data, batch size, optimiser and learning rate, which layers learn, seed."""

    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: Literal["adam", "sgd"] = "adam"  # adam: AdamW (decoupled weight decay); sgd: momentum 0.9
    weight_decay: float = 0.0  # pulls unused weights towards zero
    learns: Literal["all", "classifier"] = "all"  # "classifier": only the last layer; the rest stays frozen
    seed: int = 0  # order of the batches


@dataclass(frozen=True)
class Progress:
    """One training step, as a callback sees it: loss and accuracy on the batch just trained."""

    step: int  # 1-based
    total_steps: int
    epoch: int  # 1-based
    loss: float
    accuracy: float


@dataclass(frozen=True)
class TrainResult:
    model: nn.Module  # the trained model (the one passed in, trained in place)
    stopped: bool  # True when should_stop() ended training early: the model is only partly trained
    steps: int  # steps done


def _trainable_parameters(model: nn.Module, learns: str) -> list[nn.Parameter]:
    if learns == "all":
        return list(model.parameters())
    if learns == "classifier":
        return list(model.get_submodule("head.classifier").parameters())
    raise ValueError(f"unknown choice of layers to train {learns!r}; choose all or classifier")


def _optimizer(parameters: list[nn.Parameter], settings: TrainSettings) -> torch.optim.Optimizer:
    if settings.optimizer == "adam":
        return torch.optim.AdamW(parameters, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    if settings.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=settings.learning_rate, momentum=0.9, weight_decay=settings.weight_decay)
    raise ValueError(f"unknown optimizer {settings.optimizer!r}; choose adam or sgd")


def train(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    settings: TrainSettings,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    should_stop: Callable[[], bool] = lambda: False,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
) -> TrainResult:
    """Train `model` in place with cross-entropy on images (N, 3, H, W) and labels (N,).

    augment(batch, generator), when given, changes every batch before it is used (for example
    `scene.shapes.move_objects`); it draws from the training's own generator, so it is reproducible too.

    should_stop() is asked before every batch; when it says True, training ends there and the partly
    trained model comes back with stopped=True. The model is left in eval mode.
    """
    parameters = _trainable_parameters(model, settings.learns)
    learning = {id(p) for p in parameters}
    for parameter in model.parameters():
        parameter.requires_grad_(id(parameter) in learning)
    optimizer = _optimizer(parameters, settings)
    generator = torch.Generator().manual_seed(settings.seed)
    batches_per_epoch = -(-len(labels) // settings.batch_size)  # ceil
    total = settings.epochs * batches_per_epoch
    step = 0
    model.train()
    try:
        for epoch in range(1, settings.epochs + 1):
            order = torch.randperm(len(labels), generator=generator)  # (N,)
            for batch in order.split(settings.batch_size):
                if should_stop():
                    return TrainResult(model, stopped=True, steps=step)
                inputs = images[batch] if augment is None else augment(images[batch], generator)  # (B, 3, H, W)
                logits = model(inputs)  # (B, classes)
                loss = F.cross_entropy(logits, labels[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                accuracy = float((logits.argmax(dim=1) == labels[batch]).float().mean())
                on_progress(Progress(step, total, epoch, loss.item(), accuracy))
    finally:
        model.eval()
        for parameter in model.parameters():
            parameter.requires_grad_(True)
    return TrainResult(model, stopped=False, steps=step)


class ModelFileError(ModelUnavailable, ValueError):
    """A model file that cannot be used: unreadable, not a state_dict, or made for another architecture.
    str(exc) says so in plain words, in the page's language, naming the file but no exception, errno or server path
    (the log has those)."""


def save_model(model: SmallCNN, path: Path) -> None:
    """Write model.state_dict() to path (.pt) and model.config to the same name with .json."""
    path = Path(path)
    torch.save(model.state_dict(), path)
    path.with_suffix(".json").write_text(json.dumps(asdict(model.config), indent=2) + "\n")


def load_config(path: Path) -> SmallCNNConfig:
    """The SmallCNNConfig saved beside a model file (same name, .json)."""
    config_path = Path(path).with_suffix(".json")
    try:
        return SmallCNNConfig(**json.loads(config_path.read_text()))
    except (OSError, ValueError, TypeError) as error:  # missing file, bad JSON, unknown or invalid fields
        logger.warning(
            "Could not read a model's settings from %s (%s: %s)",
            config_path,
            type(error).__name__,
            error,
            exc_info=True,
        )
        raise ModelFileError(_config_problem(error, config_path.name)) from error


def _config_problem(error: Exception, file: str) -> str:
    """Why the config file `file` could not be read, in plain words. SmallCNNConfig's own refusals already are."""
    if isinstance(error, FileNotFoundError):
        return _("cannot read the model's settings from {file}: the file is missing").format(file=file)
    if isinstance(error, OSError):
        return _("cannot read the model's settings from {file}: the file cannot be opened").format(file=file)
    if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
        return _(
            "cannot read the model's settings from {file}: it is damaged, or is not a settings file saved by this lab"
        ).format(file=file)
    if isinstance(error, TypeError):  # not a JSON object, or unknown settings
        return _(
            "cannot read the model's settings from {file}: it does not hold the settings of a network of this lab"
        ).format(file=file)
    # SmallCNNConfig: e.g. "depth must be a whole number from 1 to 6, got 9"
    return _("cannot read the model's settings from {file}: {reason}").format(file=file, reason=error)


def load_weights(model: nn.Module, source: Path | BinaryIO) -> None:
    """Load a state_dict file (a path, or the bytes of an upload) into `model`, after checking it fits:
    same layer names, same shapes.

    Raises ModelFileError, in plain words, for a file that is unreadable, is not a state_dict, or was
    saved from another architecture. The model is untouched then.
    """
    # TRANSLATORS: an uploaded file, as the subject of "the file is not a readable model file"
    name = source.name if isinstance(source, Path) else _("the file")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # many kinds for a damaged or foreign file. None is shown: torch's own
        # text is a page long and tells how to load the file with weights_only=False, i.e. unsafely.
        logger.warning("Could not read %s as a model file (%s: %s)", source, type(error).__name__, error, exc_info=True)
        raise ModelFileError(
            _(
                "{file} is not a readable model file: it is damaged or cut short, or holds more than a model's weights "
                "(anything that could run code is refused, never run). Use a {suffix} file downloaded from this lab."
            ).format(file=name, suffix=".pt")
        ) from error
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ModelFileError(_("{file} does not hold a model's weights (a state_dict of tensors)").format(file=name))
    expected = model.state_dict()
    missing, unexpected = sorted(expected.keys() - state.keys()), sorted(state.keys() - expected.keys())
    if missing or unexpected:
        # TRANSLATORS: what a list of layers says when it is empty
        none = _("none")
        raise ModelFileError(
            _(
                "{file} was saved from another architecture: layers missing from the file {missing}, layers the model "
                "does not have {unexpected}"
            ).format(file=name, missing=missing or none, unexpected=unexpected or none)
        )
    for layer, tensor in expected.items():
        if state[layer].shape != tensor.shape:
            raise ModelFileError(
                _(
                    "{file} was saved from another architecture: {layer} has shape {saved} in the file but {model} in "
                    "this model"
                ).format(file=name, layer=layer, saved=tuple(state[layer].shape), model=tuple(tensor.shape))
            )
    model.load_state_dict(state, strict=True)


def load_model(path: Path) -> SmallCNN:
    """The SmallCNN saved at path (.pt) with its config (.json), in eval mode."""
    model = build_small_cnn(load_config(path))
    load_weights(model, Path(path))
    return model.eval()
