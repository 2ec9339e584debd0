"""Where is it? Absolute position in the lab's small CNNs, and what padding has to do with it.

Kayhan & van Gemert (2020) show that a CNN can classify *identical* image patches by where they are, with
a head that pools over all positions: only the canvas border can tell it where, and zero padding lets it
see the border. Their location task, on the lab's small CNNs:

    canvas 32 × 32 black; one fixed 5 × 5 patch (the same pixels in every image); its class is the
    quadrant it lies in (top left, top right, bottom left, bottom right); the network has a global-
    average-pool head, so nothing but padding can give position away; it is trained with each padding
    mode (zeros, reflect, circular, valid), nothing else changed, and tested on placements it never saw.

Circular padding cannot learn it, exactly: the border wraps round, so the network's maps move with a
circular shift of the canvas; the blocks downsample by a stride-2 conv each (cumulative stride 16), so
a shift by 16 px, half the canvas, moves every map by whole cells, and the average over all positions
is unchanged. That shift maps each quadrant onto another and every placement onto one of the others'
(the same offset within its quadrant), so the four placements of one offset get the same answer,
trained or not, and at most one of them is right: 25 % on the training and on the held-out placements.

`lab_readouts` asks the same question of a lab net as the page first builds it, with each padding, at
random initialisation (the architecture alone, no training): how well a linear read-out recovers a
drawn shape's (x, y) from each block's pooled maps (`probes.position_readout`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from PIL import Image

from locales import N_
from models.lab_experiments import LAB_DEFAULTS, NEW_CLASSES
from models.small_cnn import PADDINGS, SmallCNN, SmallCNNConfig, build_small_cnn
from models.small_network import small_cnn_network
from models.training import Progress, TrainSettings, train
from probes.position_readout import PositionReadout, pooled_activations, position_readout, whole_placements
from scene.compose import compose, to_tensor
from scene.shapes import ShapeSet, default_style, draw_shape

# The classes: class k is the quadrant in row k // 2 and column k % 2 (in English: translated where shown).
QUADRANTS: tuple[str, ...] = (N_("top left"), N_("top right"), N_("bottom left"), N_("bottom right"))


@dataclass(frozen=True)
class LocationTask:
    """The data of the location task: one patch, its placements in each quadrant, which of them are held out."""

    canvas: int = 32
    patch: int = 5  # side of the square patch, in pixels
    held_out: int = 48  # offsets within a quadrant kept for testing, of (canvas / 2 − patch + 1)² = 144
    seed: int = 0  # the patch's colours and which offsets are held out

    @property
    def offsets_per_side(self) -> int:
        """Positions of the patch's top-left corner along each side of a quadrant, the patch wholly inside it."""
        return self.canvas // 2 - self.patch + 1


LOCATION_TASK = LocationTask()
# The network: four blocks of a 3 × 3 conv with stride 2 (the lab's "strided convolution"), 16 channels, so that
# its last cells see 31 px, about the whole canvas, and a 16-px shift moves every map by whole cells. With the lab's
# default instead (3 blocks with max pooling: 22-px fields, stride 8), zero padding learnt the quadrant only in part
# (54–65 % held out with seeds 0 and 1 and 20–30 epochs, measured), while reflect and valid reached 100 %: on a
# black canvas zero padding looks like the canvas itself, and the border shows only through biases learnt on the way.
LOCATION_CONFIG = SmallCNNConfig(depth=4, width=16, downsample="stride", head="gap", classes=len(QUADRANTS), canvas=32)
LOCATION_SETTINGS = TrainSettings(epochs=10, batch_size=32, learning_rate=3e-3)


def location_config(padding: str) -> SmallCNNConfig:
    """The location task's network with `padding` (a key of `models.small_cnn.PADDINGS`)."""
    return replace(LOCATION_CONFIG, padding=padding)


def the_patch(task: LocationTask) -> torch.Tensor:
    """(3, patch, patch) in [0.25, 1]: random bright colours from the task's seed, the same in every image."""
    return 0.25 + 0.75 * torch.rand(3, task.patch, task.patch, generator=torch.Generator().manual_seed(task.seed))


def _scenes(task: LocationTask, offsets: torch.Tensor) -> ShapeSet:
    """The patch at every offset (M, 2) (its top-left corner within a quadrant, (u, v)) in each quadrant in turn:
    images (4M, 3, H, W), labels (4M,) the quadrant, positions (4M, 2) the patch's centre (x, y), its top-left
    corner plus patch // 2 (as `scene.compose` places a sprite)."""
    half = task.canvas // 2
    corners = torch.tensor([[(k % 2) * half, (k // 2) * half] for k in range(len(QUADRANTS))])  # (4, 2) as (x, y)
    positions = (corners[:, None, :] + offsets[None, :, :]).reshape(-1, 2)  # (4M, 2)
    labels = torch.arange(len(QUADRANTS)).repeat_interleave(len(offsets))  # (4M,)
    images = torch.zeros(len(positions), 3, task.canvas, task.canvas)  # (4M, 3, H, W)
    patch = the_patch(task)
    for image, (x, y) in zip(images, positions.tolist(), strict=True):
        image[:, y : y + task.patch, x : x + task.patch] = patch
    return ShapeSet(images, labels, positions + task.patch // 2)


def location_data(task: LocationTask = LOCATION_TASK) -> tuple[ShapeSet, ShapeSet]:
    """(training, held-out) scenes: the offsets within a quadrant are split at random (the task's seed), and the
    same offsets are used in all four quadrants, so no held-out placement is a training placement anywhere."""
    side = task.offsets_per_side
    if not 0 < task.held_out < side * side:
        raise ValueError(f"hold out between 1 and {side * side - 1} of the {side * side} offsets, not {task.held_out}")
    order = torch.randperm(side * side, generator=torch.Generator().manual_seed(task.seed))  # (side²,)
    offsets = torch.stack([order % side, order // side], dim=1)  # (side², 2) as (u, v)
    return _scenes(task, offsets[task.held_out :]), _scenes(task, offsets[: task.held_out])


@dataclass(frozen=True)
class LocationResult:
    """One network trained on the location task."""

    padding: str
    model: SmallCNN
    train_accuracy: float
    test_accuracy: float  # on the held-out placements; chance is 1 / 4
    seconds: float  # training time
    stopped: bool  # training was stopped early: a partly trained model


def accuracy(model: SmallCNN, scenes: ShapeSet) -> float:
    """Fraction of the scenes whose top-1 class is their label."""
    with torch.no_grad():
        return float((model.eval()(scenes.images).argmax(dim=1) == scenes.labels).double().mean())


def train_location(
    padding: str,
    task: LocationTask = LOCATION_TASK,
    data: tuple[ShapeSet, ShapeSet] | None = None,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> LocationResult:
    """Train the location task's network with `padding` from random weights (the task's seed, which also orders
    the batches) and test it; `data` is `location_data(task)`, made here when not given."""
    train_set, test_set = data if data is not None else location_data(task)
    model = build_small_cnn(location_config(padding), seed=task.seed)
    start = time.perf_counter()
    settings = replace(LOCATION_SETTINGS, seed=task.seed)
    stopped = train(model, train_set.images, train_set.labels, settings, on_progress, should_stop).stopped
    seconds = time.perf_counter() - start
    return LocationResult(padding, model, accuracy(model, train_set), accuracy(model, test_set), seconds, stopped)


def location_results(
    task: LocationTask = LOCATION_TASK, progress: Callable[[float], None] = lambda fraction: None
) -> dict[str, LocationResult]:
    """The location task trained with every padding mode on the same data, by padding; progress(fraction done)."""
    data = location_data(task)
    results = {}
    for index, padding in enumerate(PADDINGS):

        def on_progress(step: Progress, index: int = index) -> None:
            progress((index + step.step / step.total_steps) / len(PADDINGS))

        results[padding] = train_location(padding, task, data, on_progress)
    return results


# The read-out of a lab net as the page first builds it: its drawn shape, on black, at the drag view's size.
READOUT_CONFIG = LAB_DEFAULTS.config
READOUT_SHAPE = NEW_CLASSES[0]
READOUT_PLACEMENTS, READOUT_TRAIN, READOUT_SEED = 300, 200, 0


def lab_readout(
    config: SmallCNNConfig,
    shape: str = READOUT_SHAPE,
    count: int = READOUT_PLACEMENTS,
    train_count: int = READOUT_TRAIN,
    seed: int = READOUT_SEED,
    progress: Callable[[float], None] = lambda fraction: None,
) -> PositionReadout:
    """How well each block's pooled maps of the architecture `config`, randomly initialised (seed 0), tell where
    `shape` is: drawn as the drag view draws it, on black, at `count` seeded placements that keep it whole, the
    read-out fitted on the first `train_count` and tested on the others."""
    net = small_cnn_network(build_small_cnn(config, seed=0), "untrained", "untrained", "random weights (seed 0)")
    canvas = config.canvas
    sprite, blank = draw_shape(shape, default_style(canvas)), Image.new("RGB", (canvas, canvas))

    def scene_at(x: int, y: int) -> torch.Tensor:  # (3, H, W)
        return to_tensor(compose(blank, sprite, x, y))

    positions = whole_placements(canvas, sprite.width, count, seed)
    features = pooled_activations(lambda images: {"net": net(images)}, scene_at, positions, 64, progress)["net"]
    return position_readout(features, positions, train_count)


def lab_readouts(
    config: SmallCNNConfig = READOUT_CONFIG, progress: Callable[[float], None] = lambda fraction: None
) -> dict[str, PositionReadout]:
    """`lab_readout` of `config` with each padding mode (`config` must be buildable with each), by padding."""
    readouts = {}
    for index, padding in enumerate(PADDINGS):
        readouts[padding] = lab_readout(
            replace(config, padding=padding), progress=lambda f, i=index: progress((i + f) / len(PADDINGS))
        )
    return readouts
