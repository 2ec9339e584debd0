"""Biscione & Bowers (2021) in three clicks: is a CNN's translation invariance built in, or learnt?

  (a) scratch    A network trained from scratch with objects at one location only: its accuracy
                 collapses away from that location. The architecture alone is not invariant.
  (b) pretrained The same network first trained on *other* classes moved all over the canvas (the
                 shipped "pretrained" teaching model: the ten other shapes and letters and 90 doodles),
                 then only its last layer trained on the new classes at one location: the new classes
                 are recognised about as well everywhere as at that location. The invariance was
                 learnt, and it carries over to objects never seen elsewhere.
  (c) fine-tuned The same start as (b), but the whole network, not only its last layer, learns the
                 new classes at one location: the learnt invariance erodes.

Every recipe is data (`Recipe`), trained on the CPU in seconds with one thread, and judged by an
accuracy-by-position map (`probes.accuracy_map`).

Zhang (2019) in one click too: does blurring before subsampling make the lab's network more shift-consistent?
`POOLING_COMPARISON` trains it with max pool and with blur pool, nothing else changed, and `lab_shift_consistency`
shows every test object at a place and again a few pixels away, reporting how often the answer is kept among the
right first answers, beside plain agreement and accuracy (a network that always says the same is consistent).
`ANTI_ALIASING` compares the cures fairly: max pool, blur pool with two filters, adaptive polyphase sampling (APS)
and circular padding + APS, on one network whose head pools over positions, with the same seeds; `QUICK_TRAINING` is
its one-click version, all of it in about a minute.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal, NamedTuple

import torch

from locales import N_, _, ngettext
from models.small_cnn import SmallCNN, SmallCNNConfig, build_small_cnn, initialise
from models.training import Progress, TrainSettings, load_model, train
from probes.accuracy_map import AccuracyMap, accuracy_at, accuracy_far_from, accuracy_map
from probes.score_map import shift_consistency
from scene.shapes import (
    CLASS_NAMES,
    REGIONS,
    ShapeSet,
    doodle_classes,
    make_dataset,
    move_objects,
    random_styles,
    region_box,
    render,
    samples_at,
)

TEACHING_MODELS = Path(__file__).resolve().parent.parent / "assets" / "teaching_models"

# The experiment teaches half of the named classes; the pretrained model learns the other half and many
# doodles. Like ImageNet's thousand classes for a real network, a hundred classes make it learn general
# features, on which a last layer can tell new classes apart: pretrained on the ten named classes alone,
# preset (b) reached only 67–77 % far from the trained location (the map was flat: invariance did transfer,
# but the frozen features, tailored to ten classes, separated the new ones poorly); with the hundred, 93 %
# (81–93 % across pretraining data seeds 2, 3 and 4).
NEW_CLASSES: tuple[str, ...] = CLASS_NAMES[1::2]
PRETRAINING_DOODLES = 90
PRETRAINING_CLASSES: tuple[str, ...] = CLASS_NAMES[0::2] + doodle_classes(PRETRAINING_DOODLES)

# A VGG-like little network: max pooling after every block (64 px -> a 2 × 2 map), zero padding, and a
# flatten + fully-connected head, so that each cell of the last map has its own weights and nothing is
# position-invariant by construction.
LAB_CONFIG = SmallCNNConfig(
    depth=5, width=16, downsample="max", padding="zeros", head="flatten", hidden=64, classes=len(NEW_CLASSES), canvas=64
)

TRAINED_LOCATION = "one location"  # a region of `scene.shapes.REGIONS`
GRID_STEP = 5  # pixels between the points of an accuracy map
FAR = LAB_CONFIG.canvas / 3  # "far from the trained location": at least this many pixels away
EVALUATION_PER_CLASS = 3  # objects of each class shown at every grid point
EVALUATION_SEED = 1_000  # the same objects at every grid point, none of them a training object
CONSISTENCY_PAIRS = 500  # new objects, each shown at two nearby places, for Zhang's shift consistency
CONSISTENCY_SEED = 7
# Zhang (2019) compares two random 224-px crops of a 256-px image: the object moves by offsets in [0, 31]² between
# them, 32 offsets per axis on 224 px (a seventh). A seventh of the lab's 64-px canvas is 9 px: each object is
# shown at a place and again at most 8 px away along each axis.
SHIFT_WINDOW = round(32 / 224 * LAB_CONFIG.canvas)  # 9 offsets per axis, 0 to 8 px


@dataclass(frozen=True)
class Recipe:
    """How one lab model is trained: where it starts, on what, where the objects are, and how long."""

    title: str  # in English; a preset's is marked for the catalogs, and translated where shown
    start: Literal["scratch", "pretrained"]  # "pretrained": the shipped model, with a new last layer
    classes: tuple[str, ...]
    region: str  # where the training objects are: a key of `scene.shapes.REGIONS`
    per_class: int  # training images of each class
    settings: TrainSettings
    move_objects: bool = False  # move every object to a new random place in every batch (augmentation)
    data_seed: int = 0
    model_seed: int = 0  # initial weights (of the new last layer, for a pretrained start)
    config: SmallCNNConfig = LAB_CONFIG  # the architecture; a pretrained start must match it but for the classes


PRETRAINING = Recipe(
    "pretrained: other classes, whole canvas",
    "scratch",
    PRETRAINING_CLASSES,
    "whole canvas",
    per_class=60,
    settings=TrainSettings(epochs=15, learning_rate=1e-3),
    move_objects=True,
    data_seed=2,
    config=replace(LAB_CONFIG, classes=len(PRETRAINING_CLASSES)),
)

# The pretraining data seeds tried, and the shipped model of each. Seed 2 was fixed in the lab's first version
# (pretrained on the ten other named classes only) and the 100-class recipe above was tuned on it; seeds 3 and 4
# were tried afterwards, to see the spread. Seed 2 happens to be the best of the three for preset (b), so its
# far accuracy is the top of a range, not a typical run: the other two are shipped as well, to show the range.
PRETRAINED_FILES: Mapping[int, str] = MappingProxyType(
    {PRETRAINING.data_seed: "pretrained", 3: "pretrained_seed3", 4: "pretrained_seed4"}
)
# Preset (b)'s accuracy at least FAR px from the trained location, started from each of those shipped models, as
# the lab page states it (the tests train (b) from each and check). The README once gave 85 % and 81 % for seeds 3
# and 4; the seed-3 and seed-4 files, made later by the script on a 2-core VM of the project's kind, give 90 % and
# 89 %. Pretraining is not the same to the bit from machine to machine: seed 2, pretrained again there, gave 95 %
# (the shipped seed-2 file is the original, 93 %), so the ranking of seeds is only roughly stable.
PRESET_B_FAR: Mapping[int, float] = MappingProxyType({2: 0.93, 3: 0.90, 4: 0.89})

PRESETS: Mapping[str, Recipe] = MappingProxyType(
    {
        "a": Recipe(
            N_("(a) from scratch at one location"),
            "scratch",
            NEW_CLASSES,
            TRAINED_LOCATION,
            per_class=150,
            settings=TrainSettings(epochs=5, learning_rate=1e-3),
            data_seed=1,
        ),
        "b": Recipe(
            N_("(b) pretrained, last layer trained at one location"),
            "pretrained",
            NEW_CLASSES,
            TRAINED_LOCATION,
            per_class=150,
            settings=TrainSettings(epochs=10, learning_rate=1e-2, learns="classifier"),
            data_seed=1,
        ),
        "c": Recipe(
            N_("(c) pretrained, whole network fine-tuned at one location"),
            "pretrained",
            NEW_CLASSES,
            TRAINED_LOCATION,
            per_class=150,
            settings=TrainSettings(epochs=8, learning_rate=3e-3),
            data_seed=1,
        ),
    }
)


@dataclass(frozen=True)
class LabControls:
    """What the lab page's *Build and train your own* controls hold: one click on *Train* trains `recipe()`."""

    config: SmallCNNConfig
    region: str  # where the training objects appear: a key of `scene.shapes.REGIONS`
    per_class: int
    epochs: int
    seed: int  # one seed for the data, the initial weights and the order of the batches

    def recipe(self, title: str = "your model") -> Recipe:
        return Recipe(
            title,
            "scratch",
            NEW_CLASSES,
            self.region,
            self.per_class,
            TrainSettings(epochs=self.epochs, seed=self.seed),
            data_seed=self.seed,
            model_seed=self.seed,
            config=self.config,
        )


# The lab page's bounds: one student's training must not hold the server for long.
MAX_PER_CLASS, MAX_EPOCHS = 200, 20
# The lab page's controls as they first appear.
LAB_DEFAULTS = LabControls(
    SmallCNNConfig(depth=3, width=16, classes=len(NEW_CLASSES), canvas=LAB_CONFIG.canvas),
    TRAINED_LOCATION,
    per_class=100,
    epochs=5,
    seed=0,
)

# Does blurring before subsampling help (Zhang 2019)? The lab's first network trained on the whole canvas with
# max pool and with blur pool, nothing else changed, for the lab's longest training (20 epochs: max pool's accuracy
# has levelled off by then, gaining under 2 points over its last six epochs, so training it longer would not close
# the gap; tests/test_lab_training.py); and, since blur pool
# learns faster and ends more accurate, which alone makes a network more consistent, also blur pool stopped at
# 8 epochs, when it is about as accurate as max pool at 20. Every network is one click in the lab page; several
# seeds, since one seed's difference may be luck.
POOLING_COMPARISON: Mapping[str, LabControls] = MappingProxyType(
    {
        name: replace(
            LAB_DEFAULTS,
            config=replace(LAB_DEFAULTS.config, downsample=downsample),
            region="whole canvas",
            epochs=epochs,
        )
        for name, downsample, epochs in (
            ("max", "max", MAX_EPOCHS),
            ("blur", "blur", MAX_EPOCHS),
            ("blur early", "blur", 8),
        )
    }
)
POOLING_SEEDS = (0, 1, 2)


_POOLS = MappingProxyType({"max": N_("max pool"), "blur": N_("blur pool")})  # the pooling comparison's, in words


def pooling_title(name: str) -> str:
    """What one network of the pooling comparison is, in the page's words and language: "blur pool, 8 epochs"."""
    controls = POOLING_COMPARISON[name]
    downsample = controls.config.downsample
    pool = _(_POOLS[downsample]) if downsample in _POOLS else f"{downsample} pool"
    # TRANSLATORS: one network of a comparison: its downsampling and how long it trained, as in "blur pool, 8 epochs"
    return ngettext("{pool}, {epochs} epoch", "{pool}, {epochs} epochs", controls.epochs).format(
        pool=pool, epochs=controls.epochs
    )


def pooling_recipe(name: str, seed: int) -> Recipe:
    """One network of the pooling comparison (a key of POOLING_COMPARISON), with one seed."""
    return replace(POOLING_COMPARISON[name], seed=seed).recipe(f"{pooling_title(name)}, seed {seed}")


def pooling_file(name: str, seed: int) -> str:
    """The shipped model of one network of the pooling comparison, with one seed: "pooling_blur_early_seed2"."""
    return f"pooling_{name.replace(' ', '_')}_seed{seed}"


@dataclass(frozen=True)
class ShiftConsistency:
    """Zhang's shift consistency of a lab model, with what belongs beside it: the accuracy (a model that
    always answers the same class is perfectly consistent) and the consistency of its right answers only."""

    agree: float  # fraction of objects whose top-1 class is the same at both of their places
    agree_given_correct: float  # of the objects classified right at their first place, the fraction whose
    # second place gets the same class (nan when none is right at its first place)
    accuracy: float  # fraction of all the scenes (two per object) classified right
    pairs: int
    first_correct: int  # objects classified right at their first place: what agree_given_correct is out of


@dataclass(frozen=True)
class LabResult:
    """A trained lab model and how well it does by position."""

    recipe: Recipe
    model: SmallCNN
    accuracy: AccuracyMap  # over the whole canvas
    at_location: float  # accuracy with the objects at the trained location
    far_from_location: float  # mean accuracy over the grid points at least FAR pixels from it
    stopped: bool  # training was cancelled: a partly trained model
    seconds: float  # training time


def load_teaching_model(name: str) -> SmallCNN:
    """A shipped teaching model (`assets/teaching_models/<name>.pt` and `.json`), e.g. "pretrained"."""
    return load_model(TEACHING_MODELS / f"{name}.pt")


# Built-in invariance (the drag view's circular CNNs): circular padding and a global-average-pool head make a CNN
# exactly invariant to circular shifts, so to moving an object that stays whole on a black canvas, but only with no
# downsampling; pooling to stride 32 samples the maps on a grid, and the invariance is lost. Both are taught the new
# classes at one location only, like preset (a). Measured on the 2-core VM: stride 1 was right at every position
# (100 % at the location and far from it), stride 32 at 100 % there and 25 % far.
CIRCULAR_MODELS: Mapping[str, SmallCNNConfig] = MappingProxyType(
    {
        f"circular_{name}": replace(LAB_CONFIG, downsample=downsample, padding="circular", head="gap")
        for name, downsample in (("stride1", "none"), ("stride32", "max"))
    }
)


def circular_recipe(file_name: str) -> Recipe:
    """How the shipped circular CNN `file_name` (a key of CIRCULAR_MODELS) was taught: as preset (a), from scratch at
    one location, but longer and faster, for its other architecture."""
    config = CIRCULAR_MODELS[file_name]
    return replace(
        PRESETS["a"],
        title=f"circular padding, GAP head, downsampling {config.downsample}, at one location",
        settings=TrainSettings(epochs=10, learning_rate=3e-3),
        config=config,
    )


def pretraining_recipe(data_seed: int) -> Recipe:
    """The pretraining recipe with other pretraining data (`PRETRAINED_FILES` lists the seeds tried)."""
    return replace(PRETRAINING, data_seed=data_seed)


def trained_location(canvas: int = LAB_CONFIG.canvas) -> tuple[int, int]:
    """(x, y) of the single training location."""
    x, y, *_corner = region_box(REGIONS[TRAINED_LOCATION], canvas)
    return x, y


def grid_through_location(canvas: int = LAB_CONFIG.canvas) -> tuple[int, ...]:
    """Accuracy-map coordinates GRID_STEP apart within the objects' placeable range, passing through the
    trained location (whose x and y are GRID_STEP-aligned alike)."""
    x_min, y_min, x_max, y_max = region_box(REGIONS["whole canvas"], canvas)
    x, _y = trained_location(canvas)
    return tuple(range(x_min + (x - x_min) % GRID_STEP, x_max + 1, GRID_STEP))


def starting_model(recipe: Recipe, pretrained: SmallCNN | None = None) -> SmallCNN:
    """A new model for the recipe: random weights, or the pretrained model's weights with a fresh last layer
    for the recipe's classes.

    The pretrained model passed in is never changed (it may be shared, e.g. cached by the app).
    """
    if recipe.start == "scratch":
        return build_small_cnn(recipe.config, recipe.model_seed)
    source = pretrained if pretrained is not None else load_teaching_model("pretrained")
    model = build_small_cnn(recipe.config)
    initialise(model.head.classifier, torch.Generator().manual_seed(recipe.model_seed))
    learnt = {name: tensor for name, tensor in source.state_dict().items() if not name.startswith("head.classifier.")}
    model.load_state_dict({**model.state_dict(), **learnt})  # strict: every other layer must fit
    return model


def training_data(recipe: Recipe) -> ShapeSet:
    """The recipe's training objects: its classes, drawn in its region from its data seed."""
    region = REGIONS[recipe.region]
    return make_dataset(recipe.classes, recipe.per_class, region, recipe.config.canvas, recipe.data_seed)


def train_on(
    model: SmallCNN,
    recipe: Recipe,
    data: ShapeSet,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> bool:
    """Train `model` (the recipe's `starting_model`) in place on `data` (its `training_data`) as the recipe says;
    whether training was stopped early (see `models.training.train`)."""
    augment = move_objects if recipe.move_objects else None
    return train(model, data.images, data.labels, recipe.settings, on_progress, should_stop, augment).stopped


def train_recipe(
    recipe: Recipe,
    pretrained: SmallCNN | None = None,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[SmallCNN, bool]:
    """(the trained model, whether training was stopped early) for the recipe; see `models.training.train`."""
    model = starting_model(recipe, pretrained)
    return model, train_on(model, recipe, training_data(recipe), on_progress, should_stop)


def evaluate(
    model: SmallCNN, classes: tuple[str, ...], progress: Callable[[float], None] = lambda fraction: None
) -> tuple[AccuracyMap, float, float]:
    """(accuracy map, accuracy at the one training location, mean accuracy far from it) of a lab model,
    on its own canvas size."""
    canvas = model.config.canvas

    def objects_at(x: int, y: int) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels, _positions = samples_at(classes, EVALUATION_PER_CLASS, x, y, canvas, EVALUATION_SEED)
        return images, labels  # (S, 3, H, W), (S,)

    model.eval()
    with torch.no_grad():
        accuracy = accuracy_map(model, objects_at, grid_through_location(canvas), progress)
        at = accuracy_at(model, objects_at, *trained_location(canvas))
    return accuracy, at, accuracy_far_from(accuracy, *trained_location(canvas), FAR)


def run_preset(
    name: str,
    pretrained: SmallCNN | None = None,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> LabResult:
    """Train preset "a", "b" or "c" and measure it. "b" and "c" start from `pretrained` (by default the
    shipped teaching model), which is copied, never changed."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    recipe = PRESETS[name]
    start = time.perf_counter()
    model, stopped = train_recipe(recipe, pretrained, on_progress, should_stop)
    seconds = time.perf_counter() - start
    accuracy, at, far = evaluate(model, recipe.classes)
    return LabResult(recipe, model, accuracy, at, far, stopped, seconds)


def nearby_pairs(count: int, box: tuple[int, int, int, int], window: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 2, 2) integer places [pair, first or second, (x, y)]: Zhang's two random crops, seen from the object.

    A corner c is drawn uniformly from the box (x_min, y_min, x_max, y_max, bounds included) shrunk by
    window − 1 at its right and bottom, and the two places are c + a and c + b, with a and b drawn uniformly
    from {0, …, window − 1}²: both places lie in the box, at most window − 1 px apart along each axis.
    """
    x_min, y_min, x_max, y_max = box
    if x_max - x_min < window - 1 or y_max - y_min < window - 1:
        raise ValueError(f"a box of {x_max - x_min + 1} × {y_max - y_min + 1} px has no room for {window} offsets")
    corners = torch.stack(
        [
            torch.randint(x_min, x_max - window + 2, (count,), generator=generator),
            torch.randint(y_min, y_max - window + 2, (count,), generator=generator),
        ],
        dim=1,
    )  # (count, 2)
    offsets = torch.randint(0, window, (count, 2, 2), generator=generator)  # (count, 2 places, 2 axes)
    return corners[:, None, :] + offsets  # (count, 2, 2)


def consistency_of(top1_first: torch.Tensor, top1_second: torch.Tensor, labels: torch.Tensor) -> ShiftConsistency:
    """Shift consistency from the top-1 classes of each object at its two places, (P,) each, and its labels (P,).

    agree = mean[t1 = t2] (Zhang 2019); agree_given_correct = Σ[t1 = y ∧ t2 = y] / Σ[t1 = y]: among the objects
    recognised at their first place, how many are still recognised after the shift. Unlike `agree`, a model
    cannot score well on it by giving the same wrong answer everywhere.
    """
    right_first = top1_first == labels  # (P,)
    first_correct = int(right_first.sum())
    kept = int((right_first & (top1_second == labels)).sum())
    return ShiftConsistency(
        agree=shift_consistency(top1_first, top1_second),
        agree_given_correct=kept / first_correct if first_correct else math.nan,
        accuracy=float((torch.cat([top1_first, top1_second]) == labels.repeat(2)).double().mean()),
        pairs=len(labels),
        first_correct=first_correct,
    )


class ShiftPairScenes(NamedTuple):
    """New objects, each drawn at two nearby places: first (P, 3, H, W), second (P, 3, H, W), labels (P,)."""

    first: torch.Tensor
    second: torch.Tensor
    labels: torch.Tensor


def shift_pair_scenes(
    classes: tuple[str, ...] = NEW_CLASSES,
    canvas: int = LAB_CONFIG.canvas,
    pairs: int = CONSISTENCY_PAIRS,
    seed: int = CONSISTENCY_SEED,
    window: int = SHIFT_WINDOW,
) -> ShiftPairScenes:
    """`pairs` new objects (the classes in turn), each at a place anywhere on the canvas and again moved by a
    small random offset (`nearby_pairs`). The seed fixes objects and places, so every model sees the same."""
    generator = torch.Generator().manual_seed(seed)
    styles = random_styles(pairs, canvas, generator)
    places = nearby_pairs(pairs, region_box(REGIONS["whole canvas"], canvas), window, generator)  # (P, 2, 2)
    labels = torch.arange(pairs) % len(classes)  # (P,)
    first, second = (
        torch.stack(
            [
                render(classes[label], x, y, canvas, style)
                for label, (x, y), style in zip(labels.tolist(), positions.tolist(), styles, strict=True)
            ]
        )  # (P, 3, H, W)
        for positions in places.unbind(dim=1)  # (P, 2) each: the first places, then the second
    )
    return ShiftPairScenes(first, second, labels)


EVALUATION_BATCH = 100  # scenes per forward pass when measuring: a 500-image batch's maps overflow the CPU's caches
# (measured 2026-12-02: about twice as slow per image for the stride-1 pooling of blur pool and APS)


def top_classes(model: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    """(N,) the model's top-1 class for each of the images (N, 3, H, W), EVALUATION_BATCH at a time."""
    with torch.no_grad():
        return torch.cat([model(batch).argmax(dim=1) for batch in images.split(EVALUATION_BATCH)])


def consistency_on(model: Callable[[torch.Tensor], torch.Tensor], scenes: ShiftPairScenes) -> ShiftConsistency:
    """The model's shift consistency on the scenes: its top-1 classes at both places of every object."""
    return consistency_of(top_classes(model, scenes.first), top_classes(model, scenes.second), scenes.labels)


def lab_shift_consistency(
    model: Callable[[torch.Tensor], torch.Tensor],
    classes: tuple[str, ...],
    canvas: int,
    pairs: int = CONSISTENCY_PAIRS,
    seed: int = CONSISTENCY_SEED,
    window: int = SHIFT_WINDOW,
) -> ShiftConsistency:
    """Zhang's shift consistency (2019) on the lab's drawn shapes: `consistency_on` new `shift_pair_scenes`."""
    return consistency_on(model, shift_pair_scenes(classes, canvas, pairs, seed, window))


@dataclass(frozen=True)
class Spread:
    """One figure over several seeds: its mean, its standard deviation (n − 1; 0 for one seed) and its range."""

    mean: float
    sd: float
    low: float
    high: float


def spread(values: Sequence[float]) -> Spread:
    """The Spread of `values` (at least one)."""
    series = torch.tensor(values, dtype=torch.float64)  # (S,)
    sd = float(series.std()) if len(series) > 1 else 0.0
    return Spread(float(series.mean()), sd, float(series.min()), float(series.max()))


@dataclass(frozen=True)
class PoolingFigures:
    """One network of the pooling comparison, over its seeds."""

    accuracy: Spread
    agree: Spread
    agree_given_correct: Spread


def pooling_figures(results: Sequence[ShiftConsistency]) -> PoolingFigures:
    """The spread over seeds of each figure of `results` (one ShiftConsistency per seed)."""
    return PoolingFigures(*(spread([getattr(r, figure.name) for r in results]) for figure in fields(PoolingFigures)))


def shipped_pooling_results(scenes: ShiftPairScenes | None = None) -> dict[str, tuple[ShiftConsistency, ...]]:
    """The shift consistency of every shipped model of the pooling comparison, by network, in POOLING_SEEDS order."""
    scenes = scenes if scenes is not None else shift_pair_scenes()
    return {
        name: tuple(consistency_on(load_teaching_model(pooling_file(name, seed)), scenes) for seed in POOLING_SEEDS)
        for name in POOLING_COMPARISON
    }


# What the shipped models of the pooling comparison score, seed by seed (POOLING_SEEDS), on `shift_pair_scenes()`:
# what the lab page shows at once (measuring the nine takes half a minute) and lesson 7 states; the tests measure
# the shipped models and check. Consistency given a correct first answer is written as kept / right at first.
# Given a correct first answer, blur pool stopped at 8 epochs beats max pool by 3.9, 6.2 and 4.0 points, with
# accuracies 3.2 and 4.6 points higher and 1.7 lower.
POOLING_CLAIMS: Mapping[str, tuple[ShiftConsistency, ...]] = MappingProxyType(
    {
        "max": (
            ShiftConsistency(agree=0.830, agree_given_correct=403 / 439, accuracy=0.883, pairs=500, first_correct=439),
            ShiftConsistency(agree=0.828, agree_given_correct=389 / 431, accuracy=0.858, pairs=500, first_correct=431),
            ShiftConsistency(agree=0.748, agree_given_correct=343 / 401, accuracy=0.790, pairs=500, first_correct=401),
        ),
        "blur": (
            ShiftConsistency(agree=0.990, agree_given_correct=495 / 497, accuracy=0.994, pairs=500, first_correct=497),
            ShiftConsistency(agree=0.990, agree_given_correct=489 / 492, accuracy=0.983, pairs=500, first_correct=492),
            ShiftConsistency(agree=0.960, agree_given_correct=473 / 484, accuracy=0.965, pairs=500, first_correct=484),
        ),
        "blur early": (
            ShiftConsistency(agree=0.928, agree_given_correct=440 / 460, accuracy=0.915, pairs=500, first_correct=460),
            ShiftConsistency(agree=0.928, agree_given_correct=435 / 451, accuracy=0.904, pairs=500, first_correct=451),
            ShiftConsistency(agree=0.820, agree_given_correct=351 / 392, accuracy=0.773, pairs=500, first_correct=392),
        ),
    }
)


# Anti-aliasing compared fairly: max pool, blur pool with two filter sizes, adaptive polyphase sampling (APS, Chaman &
# Dokmanic 2021) and circular padding with APS, at the same settings and seeds, differing only in the downsampling and
# the padding. The base is the page's first network with a global-average-pool head instead of the flatten head:
# circular padding + APS makes the maps move with the object, and only a head that pools over positions turns that
# into the same answer (with the flatten head no network of the comparison could be exactly consistent). With that
# head max pool already learns the shapes well (97 % right with seed 0, against 84 % with the flatten head), so every
# row learns. Trained for the lab's longest training, like POOLING_COMPARISON.
ANTI_ALIASING_BASE = replace(
    LAB_DEFAULTS, config=replace(LAB_DEFAULTS.config, head="gap"), region="whole canvas", epochs=MAX_EPOCHS
)
ANTI_ALIASING: Mapping[str, LabControls] = MappingProxyType(
    {
        name: replace(ANTI_ALIASING_BASE, config=replace(ANTI_ALIASING_BASE.config, **change))
        for name, change in (
            ("max", {"downsample": "max"}),
            ("blur 3", {"downsample": "blur", "blur_size": 3}),
            ("blur 5", {"downsample": "blur", "blur_size": 5}),
            ("aps", {"downsample": "aps"}),
            ("circular aps", {"downsample": "aps", "padding": "circular"}),
        )
    }
)
ANTI_ALIASING_SEEDS = POOLING_SEEDS
# The downsampling and padding of a network of a comparison, in words (translated where shown)
_DOWNSAMPLING_WORDS = MappingProxyType(
    {"max": N_("max pool"), "blur": N_("blur pool (filter {size})"), "aps": "APS"}  # APS: a name, the same in all
)
_PADDING_WORDS = MappingProxyType(
    {
        "zeros": N_("zero padding"),
        "reflect": N_("reflect padding"),
        "circular": N_("circular padding"),
        "valid": N_("valid padding"),
    }
)


def anti_aliasing_title(name: str) -> str:
    """One network of the anti-aliasing comparison in words, in the page's language: "blur pool (filter 5)",
    "circular padding + APS"."""
    config = ANTI_ALIASING[name].config
    words = _(_DOWNSAMPLING_WORDS[config.downsample]).format(size=config.blur_size)
    return words if config.padding == "zeros" else f"{_(_PADDING_WORDS[config.padding])} + {words}"


@dataclass(frozen=True)
class ShorterTraining:
    """A smaller version of a recipe's training, to run the whole comparison with one click in about a minute."""

    width: int  # channels per block
    per_class: int
    epochs: int
    batch_size: int  # smaller batches: more steps for the same number of images
    learning_rate: float

    def of(self, recipe: Recipe) -> Recipe:
        settings = replace(
            recipe.settings, epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate
        )
        config = replace(recipe.config, width=self.width)
        return replace(recipe, per_class=self.per_class, settings=settings, config=config)


# The one-click preset: 5 networks × 3 seeds trained, and measured on the 500 shift pairs, in about a minute with one
# thread on the project's 2-core VM (2026-12-02: 62–80 s, with other jobs running, load average 3–4;
# benchmarks/lab_training.py prints it). A tenth of the full training's images, at its batches of 32 and
# learning rate 1e-3, leaves every network near chance (25–40 % right); with batches of 8 and a rate of 1e-2 they
# learn to 52–79 % on average, enough to tell max pool from the others. Half the channels halve the time.
QUICK_TRAINING = ShorterTraining(width=8, per_class=40, epochs=5, batch_size=8, learning_rate=1e-2)


def anti_aliasing_recipe(name: str, seed: int, quick: bool = False) -> Recipe:
    """One network of the anti-aliasing comparison (a key of ANTI_ALIASING) with one seed; `quick`: QUICK_TRAINING."""
    recipe = replace(ANTI_ALIASING[name], seed=seed).recipe(f"{anti_aliasing_title(name)}, seed {seed}")
    return QUICK_TRAINING.of(recipe) if quick else recipe


def anti_aliasing_recipes(quick: bool = False) -> list[tuple[str, int, Recipe]]:
    """(network, seed, recipe) for every network and seed of the comparison, seed by seed."""
    return [
        (name, seed, anti_aliasing_recipe(name, seed, quick)) for seed in ANTI_ALIASING_SEEDS for name in ANTI_ALIASING
    ]


def anti_aliasing_file(name: str, seed: int) -> str:
    """The shipped model of one network of the anti-aliasing comparison: "antialiasing_circular_aps_seed2"."""
    return f"antialiasing_{name.replace(' ', '_')}_seed{seed}"


def by_network(measured: Sequence[tuple[str, int, ShiftConsistency]]) -> dict[str, tuple[ShiftConsistency, ...]]:
    """(network, seed, consistency) triples → {network: its consistencies in seed order}, in first-seen order."""
    grouped: dict[str, list[ShiftConsistency]] = {}
    for name, _s, result in sorted(measured, key=lambda triple: triple[1]):  # a stable sort: networks keep their order
        grouped.setdefault(name, []).append(result)
    return {name: tuple(results) for name, results in grouped.items()}


def shipped_anti_aliasing_results(scenes: ShiftPairScenes | None = None) -> dict[str, tuple[ShiftConsistency, ...]]:
    """The shift consistency of every shipped model of the anti-aliasing comparison, by network, in seed order."""
    scenes = scenes if scenes is not None else shift_pair_scenes()
    return by_network(
        [
            (name, seed, consistency_on(load_teaching_model(anti_aliasing_file(name, seed)), scenes))
            for name, seed, _recipe in anti_aliasing_recipes()
        ]
    )


# What the shipped models of the anti-aliasing comparison score, seed by seed (ANTI_ALIASING_SEEDS), on
# `shift_pair_scenes()`: what the lab page shows at once and the anti-aliasing lesson states; the tests
# (tests/test_anti_aliasing.py) measure the shipped models and check. Made by scripts/train_teaching_models.py on the
# project's 2-core VM, 2026-12-02. With the head pooling over positions, max pool is already accurate (95.6 % on
# average) and keeps most of its right answers; blur pool with filter 3 is about as accurate (96.1 %) and keeps more,
# with every seed; filter 5 learns the shapes less well in the same 20 epochs (89.1 %); APS is nearly exact with zero
# padding (the black background is zero, so zero padding mostly behaves like wrapping round) and exact with circular
# padding: 100 % with every seed.
ANTI_ALIASING_CLAIMS: Mapping[str, tuple[ShiftConsistency, ...]] = MappingProxyType(
    {
        "max": (
            ShiftConsistency(agree=0.956, agree_given_correct=474 / 481, accuracy=0.970, pairs=500, first_correct=481),
            ShiftConsistency(agree=0.948, agree_given_correct=463 / 475, accuracy=0.952, pairs=500, first_correct=475),
            ShiftConsistency(agree=0.942, agree_given_correct=459 / 472, accuracy=0.946, pairs=500, first_correct=472),
        ),
        "blur 3": (
            ShiftConsistency(agree=0.992, agree_given_correct=494 / 495, accuracy=0.992, pairs=500, first_correct=495),
            ShiftConsistency(agree=0.992, agree_given_correct=468 / 472, accuracy=0.940, pairs=500, first_correct=472),
            ShiftConsistency(agree=0.988, agree_given_correct=473 / 478, accuracy=0.952, pairs=500, first_correct=478),
        ),
        "blur 5": (
            ShiftConsistency(agree=0.974, agree_given_correct=459 / 467, accuracy=0.931, pairs=500, first_correct=467),
            ShiftConsistency(agree=0.976, agree_given_correct=449 / 455, accuracy=0.908, pairs=500, first_correct=455),
            ShiftConsistency(agree=0.986, agree_given_correct=414 / 416, accuracy=0.835, pairs=500, first_correct=416),
        ),
        "aps": (
            ShiftConsistency(agree=1.000, agree_given_correct=495 / 495, accuracy=0.990, pairs=500, first_correct=495),
            ShiftConsistency(agree=0.990, agree_given_correct=485 / 487, accuracy=0.975, pairs=500, first_correct=487),
            ShiftConsistency(agree=0.988, agree_given_correct=484 / 485, accuracy=0.974, pairs=500, first_correct=485),
        ),
        "circular aps": (
            ShiftConsistency(agree=1.000, agree_given_correct=496 / 496, accuracy=0.992, pairs=500, first_correct=496),
            ShiftConsistency(agree=1.000, agree_given_correct=483 / 483, accuracy=0.966, pairs=500, first_correct=483),
            ShiftConsistency(agree=1.000, agree_given_correct=499 / 499, accuracy=0.998, pairs=500, first_correct=499),
        ),
    }
)
