"""Guided lessons: the classroom's question, one idea at a time, in the drag view.

Each lesson opens a view (the same choices a shared link carries: ui.links), asks the class to
predict before they drag, and then says in a few plain sentences what to notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from locales import N_, _
from models.families import CIRCULAR, TEACHING, Family
from models.lab_experiments import trained_location
from ui.links import session_link, show_view
from ui.state import LESSON, LINK_OPENED, LIVE, NOTICE, reset_path

FREE = "free"  # the lesson key of free exploration


Quantity = Literal[
    "shift_x",  # the chosen layer's measured shift, in cells (the object response's, by cross-correlation)
    "shift_y",
    "equivariance_error",  # on the cells clear of the border; nan when none is
    "whole_map_similarity",  # cosine similarity of the whole maps to the maps at the start
    "pooled_similarity",  # the same for the globally pooled maps
    "pooled_baseline",  # the pooled similarity of a different object at the start
    "start_class_probability",  # the probability of the class ranked first at the start
    "start_class_first",  # 1 if that class is still ranked first, else 0
    "sweep_flip_rate",  # after *Sweep 1 px along x*: how often a 1-px move changes the top-1 class
    # after *Layer profiles over distance*, the average over its objects at the distance move[0] from the centre:
    "profile_pooled",  # pooled similarity
    "profile_whole_maps",  # whole-map similarity
    "profile_equivariance_error",
    "profile_pooled_baseline",  # the pooled similarity of a different object (any distance)
    # after *Where is it?*, the position read-out of the layer, on its held-out placements:
    "readout_r2_x",  # R² of x
    "readout_r2_y",  # R² of y
    "readout_error_px",  # mean distance from the true position, in pixels
    "readout_baseline_px",  # the same for always guessing the middle (the training mean)
]


@dataclass(frozen=True)
class Claim:
    """One statement of a lesson, as a check on the lesson's own scenario: after the object is moved by
    `move` from the lesson's position and rests, `quantity` (of `layer`, by default the lesson's) lies in
    [low, high] for each model in `models`. tests/test_lesson_claims.py runs every one on the real models."""

    says: str  # the words of the lesson's text that the claim backs (marked N_ where a vote's reveal shows them)
    move: tuple[int, int]  # (dx, dy) pixels from the lesson's start position
    quantity: Quantity
    low: float
    high: float
    models: tuple[str, ...] = ("pretrained", "scratch")  # the columns (variants) it is about
    layer: str | None = None


def shown(figure: str) -> tuple[float, float]:
    """The values that the screen shows as `figure` ("0.829", "18.4%"): its rounding interval, as a claim's
    (low, high). A lesson quotes numbers exactly as the screen shows them."""
    percent = figure.endswith("%")
    digits = figure.rstrip("%")
    half = 0.5 * 10.0 ** -len(digits.partition(".")[2]) / (100 if percent else 1)
    value = float(digits) / (100 if percent else 1)
    return value - half, value + half


Range = tuple[float, float]
# TRANSLATORS: the choices of a vote, ranges of a cosine similarity (of two sets of feature maps).
SIMILARITY = (N_("below 0.3"), N_("0.3 to 0.7"), N_("0.7 to 0.95"), N_("above 0.95"))
SIMILARITY_RANGES: tuple[Range, ...] = ((-1.0, 0.3), (0.3, 0.7), (0.7, 0.95), (0.95, 1.01))
# TRANSLATORS: the choices of a vote: will the network still give the same answer?
YES_NO = (N_("Yes"), N_("No"))
YES_NO_RANGES: tuple[Range, ...] = ((0.5, 1.5), (-0.5, 0.5))  # of a quantity that is 1 or 0


@dataclass(frozen=True)
class Vote:
    """The lesson's question as a class answers it before dragging: its choices, and the lesson's claim that the
    reveal shows as the measured answer (an index of its claims). Each choice covers a range of the claim's
    quantity (None: a choice no number stands for); the right answer is the one whose range holds the claim,
    which tests/test_classroom.py checks for every lesson."""

    question: str
    choices: tuple[str, ...]
    ranges: tuple[Range | None, ...]
    claim: int


@dataclass(frozen=True)
class Lesson:
    """A lesson's texts are English, marked with N_ and translated with _ where shown."""

    title: str  # its conclusion, shown once the lesson is open
    topic: str  # a short name for the lesson chooser, which gives nothing away before the prediction
    view: Mapping[str, str]  # what the lesson opens, as a link's query parameters
    predict: str  # the question to answer before dragging
    notice: str  # what to look for afterwards, in plain words
    claims: tuple[Claim, ...] = ()  # what its text says, each checked on its scenario by a test
    live_measurements: bool = False  # measure the lesson's layer during the drag too
    vote: Vote | None = None  # the question a class answers together (ui.classroom_view)

    @property
    def answer(self) -> int | None:
        """The index of the right choice of its vote: the one whose range holds the measured claim."""
        if self.vote is None:
            return None
        claim = self.claims[self.vote.claim]
        inside = [n for n, r in enumerate(self.vote.ranges) if r and r[0] <= claim.low and claim.high <= r[1]]
        return inside[0] if len(inside) == 1 else None


_SPOT_X, _SPOT_Y = (str(v) for v in trained_location())

PRETRAINED = ("pretrained",)
STAR = {"object": "star", "background": "black", "size": "64"}

LESSONS: Mapping[str, Lesson] = MappingProxyType(
    {
        "equivariance": Lesson(
            N_("Convolution moves with the object"),
            N_("Equivariance"),
            {"model": "mobilenet_v2", "layer": "features.0", **STAR, "canvas": "224", "x": "112", "y": "112"},
            N_(
                "This layer is one convolution (stride 2: its maps are half the image's size). Drag the star 40 px to "
                "the right; the numbers beside the maps say how far it moved. Will the bright spots in the feature "
                "maps stay, vanish, or move, and by how many cells?"
            ),
            N_(
                "The spots move with the star: 40 px is 20 cells, and the maps moved by 20.0 cells, with an "
                "equivariance error of 0.000 on every cell whose view stays clear of the canvas border. A convolution "
                "applies the same filter everywhere, so moving the input moves its output (*equivariance*). Stop at an "
                "odd number of pixels and the maps move by half cells (13 px: 6.5 cells), so the dots of the shift "
                "plot stay on the line y = x. The scratch twin does it too, with random filters: it comes from the "
                "architecture, not from training."
            ),
            vote=Vote(
                N_("Drag the star 40 px to the right: what will the bright spots of this layer's maps do?"),
                (
                    N_("Stay where they are"),
                    N_("Vanish"),
                    N_("Move 10 cells"),
                    N_("Move 20 cells"),
                    N_("Move 40 cells"),
                ),
                ((-0.5, 0.5), None, (9.5, 10.5), (19.5, 20.5), (39.5, 40.5)),
                claim=0,
            ),
            claims=(
                # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                Claim(N_("the maps moved by 20.0 cells"), (40, 0), "shift_x", *shown("20.0")),
                Claim("the maps moved by 20.0 cells", (40, 0), "shift_y", *shown("0.0")),
                Claim("an equivariance error of 0.000", (40, 0), "equivariance_error", *shown("0.000")),
                Claim("13 px: 6.5 cells", (13, 0), "shift_x", *shown("6.5")),
            ),
            live_measurements=True,
        ),
        "aliasing": Lesson(
            N_("Strides and aliasing"),
            N_("Stride and aliasing"),
            {"model": "mobilenet_v2", "layer": "features.13.add", **STAR, "canvas": "448", "x": "224", "y": "224"},
            N_(
                "This layer has a stride of 16: one cell of its maps covers 16 pixels. Drag the star slowly to the "
                "right, or click it and press → (1 px a press), and watch the numbers beside the maps at 1 px, at 8 px "
                "and at 16 px. Can the maps move by 1/16 of a cell? What happens instead?"
            ),
            N_(
                "They cannot: after 1 px they change shape a little instead (equivariance error 0.160; 0.421 for the "
                "scratch twin). At 8 px, half a cell, they change most (0.390 and 0.922; † because they are compared "
                "with the maps moved half a cell, interpolated between whole cells). At 16 px they have moved exactly "
                "one cell, and the error is 0.000 for both: only whole-cell moves shift them cleanly. Striding samples "
                "the maps without first blurring them (*aliasing*), which is why a 1-pixel move can change a deep "
                "network's answer. (The canvas is 448 px: on 224 px every cell of this layer sees the canvas border, "
                "its receptive field being 267 px.)"
            ),
            vote=Vote(
                N_("Moved by 1 px, what will this stride-16 layer's maps do (the pretrained network's)?"),
                (N_("Move cleanly by 1/16 of a cell"), N_("Change shape a little"), N_("Stay exactly as they were")),
                ((0.0, 0.05), (0.05, 10.0), None),
                claim=0,
            ),
            claims=(
                # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                Claim(N_("equivariance error 0.160"), (1, 0), "equivariance_error", *shown("0.160"), ("pretrained",)),
                Claim("0.421 for the", (1, 0), "equivariance_error", *shown("0.421"), ("scratch",)),
                Claim("(0.390 and", (8, 0), "equivariance_error", *shown("0.390"), ("pretrained",)),
                Claim("and 0.922;", (8, 0), "equivariance_error", *shown("0.922"), ("scratch",)),
                Claim("moved exactly one cell", (16, 0), "shift_x", *shown("1.0")),
                Claim("the error is 0.000 for both", (16, 0), "equivariance_error", *shown("0.000")),
            ),
            live_measurements=True,
        ),
        "pooling": Lesson(
            N_("Pooling gives only local invariance"),
            N_("Pooling"),
            {
                "model": "mobilenet_v2",
                "layer": "features.18",
                "object": "cat",
                "background": "imagenet grey",
                "canvas": "320",
                "size": "96",
                "x": "160",
                "y": "160",
            },
            N_(
                "Watch the *pooled* similarity (the maps averaged over all positions, as the classifier sees them) and "
                "the whole-map similarity in the table. Drag the cat 32 px to the right, then far, to the top-left "
                "corner. Which number stays high?"
            ),
            N_(
                "For small moves the pooled features hardly change while the maps themselves do: averaging over "
                "positions forgets where. Measured for the pretrained network, 32 px to the right: whole maps 0.829, "
                "pooled 0.999. In the top-left corner (112 px left and up) even the pooled similarity falls, to 0.877, "
                "nearer the 0.635 of a coffee cup at the start; the whole maps fall to 0.127, and the Egyptian cat's "
                "probability from 18.4% to 13.1%: pooling is invariant only locally. Read each similarity against its "
                "baseline (the other object): the scratch twin finds the cat and the coffee cup alike (its pooled "
                "baseline is 0.990), so its high similarities say nothing."
            ),
            vote=Vote(
                N_(
                    "With the cat far away, in the top-left corner: how similar will the pooled maps be to those at "
                    "the start (their cosine similarity)?"
                ),
                SIMILARITY,
                SIMILARITY_RANGES,
                claim=2,
            ),
            claims=(
                Claim("whole maps 0.829", (32, 0), "whole_map_similarity", *shown("0.829"), PRETRAINED),
                Claim("pooled 0.999", (32, 0), "pooled_similarity", *shown("0.999"), PRETRAINED),
                # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                Claim(N_("to 0.877"), (-112, -112), "pooled_similarity", *shown("0.877"), PRETRAINED),
                Claim("the 0.635 of a coffee cup", (-112, -112), "pooled_baseline", *shown("0.635"), PRETRAINED),
                Claim("fall to 0.127", (-112, -112), "whole_map_similarity", *shown("0.127"), PRETRAINED),
                Claim("from 18.4%", (0, 0), "start_class_probability", *shown("18.4%"), PRETRAINED),
                Claim("to 13.1%", (-112, -112), "start_class_probability", *shown("13.1%"), PRETRAINED),
                Claim("its pooled baseline is 0.990", (0, 0), "pooled_baseline", *shown("0.990"), ("scratch",)),
            ),
            live_measurements=True,
        ),
        "profiles": Lesson(
            N_("Layer by layer, over distance"),
            N_("Layer by layer"),
            {"model": "mobilenet_v2", "layer": "features.18", **STAR, "canvas": "224", "x": "112", "y": "112"},
            N_(
                "Click *Layer profiles over distance* in the sidebar: every layer's similarity and equivariance error "
                "against how far an object moves from the centre, averaged over the photos and the star at three "
                "sizes. Predict: which layers' maps simply move with the object, and far from the centre, is the "
                "pretrained network's pooled last layer still more alike to the unmoved object than to a different one?"
            ),
            N_(
                "The first layers' maps simply move (equivariance error 0.000 at 8 px, for both models); deeper, moves "
                "that are not whole cells change them (features.6.add at 4 px: 0.352 and 0.346), and the deepest "
                "layers have no cell clear of the border on 224 px, so no curve. The pretrained network's pooled "
                "features.18 falls from 1 to 0.864 at 104 px, still far above the 0.475 of a different object: a "
                "learnt, and only partly invariant, code. The scratch twin's stays at 0.996, but a different object "
                "gets 0.996: its raw similarity says nothing (Biscione & Bowers 2021)."
            ),
            vote=Vote(
                N_(
                    "104 px from the centre, how similar will the pretrained network's pooled maps of features.18 be "
                    "to those at the centre, on average?"
                ),
                SIMILARITY,
                SIMILARITY_RANGES,
                claim=3,
            ),
            claims=(
                Claim(
                    "(equivariance error 0.000 at 8 px",
                    (8, 0),
                    "profile_equivariance_error",
                    *shown("0.000"),
                    layer="features.0",
                ),
                Claim(
                    "0.352 and",
                    (4, 0),
                    "profile_equivariance_error",
                    *shown("0.352"),
                    PRETRAINED,
                    layer="features.6.add",
                ),
                Claim(
                    "and 0.346)",
                    (4, 0),
                    "profile_equivariance_error",
                    *shown("0.346"),
                    ("scratch",),
                    layer="features.6.add",
                ),
                # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                Claim(N_("to 0.864 at 104 px"), (104, 0), "profile_pooled", *shown("0.864"), PRETRAINED),
                Claim(
                    "the 0.475 of a different object",
                    (0, 0),
                    "profile_pooled_baseline",
                    *shown("0.475"),
                    PRETRAINED,
                ),
                Claim("stays at 0.996", (104, 0), "profile_pooled", *shown("0.996"), ("scratch",)),
                Claim("gets 0.996", (0, 0), "profile_pooled_baseline", *shown("0.996"), ("scratch",)),
            ),
        ),
        "where": Lesson(
            N_("Where is it? Position survives pooling"),
            N_("Where is it?"),
            {"model": "mobilenet_v2", "layer": "features.13.add", **STAR, "canvas": "224", "x": "112", "y": "112"},
            N_(
                "Averaging a layer's maps over all positions keeps *what* responded, not *where*. Click *Where is it? "
                "(position read-out)* in the sidebar: learnt on 200 places of the star, a straight-line read-out of "
                "each layer's averaged maps guesses where it is at 100 others. Which layers still know? Does the "
                "scratch twin?"
            ),
            N_(
                "The first layer cannot tell (R² 0.00 for both models: no better than guessing the middle, 61 px off). "
                "Deeper, the averaged maps do know: the pretrained network's features.13.add finds the star to within "
                "3.9 px (R² 0.99 and 1.00), and even the scratch twin's last layer knows (R² 0.98), with random "
                "weights. Nothing was taught here: what gives the place away is the canvas border. Zero padding makes "
                "cells near it respond differently, and deep cells see the border from everywhere (Kayhan & van Gemert "
                "2020). The **CNN lab**'s *Where is it?* section classes identical patches by where they are: with "
                "zero padding a network learns it, with circular padding (no border) it cannot."
            ),
            vote=Vote(
                N_(
                    "Can a straight-line read-out of the pretrained network's averaged features.13.add maps tell where "
                    "the star is?"
                ),
                (
                    N_("No better than guessing the middle"),
                    N_("Roughly, within about 30 px"),
                    N_("Yes, within about 5 px"),
                ),
                ((40.0, 1000.0), (5.0, 30.0), (0.0, 5.0)),
                claim=3,
            ),
            claims=(
                Claim("R² 0.00 for both models", (0, 0), "readout_r2_x", *shown("0.00"), layer="features.0"),
                Claim("R² 0.00 for both models", (0, 0), "readout_r2_y", *shown("0.00"), layer="features.0"),
                Claim("61 px off", (0, 0), "readout_baseline_px", *shown("61"), layer="features.0"),
                # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                Claim(N_("within 3.9 px"), (0, 0), "readout_error_px", *shown("3.9"), PRETRAINED),
                Claim("(R² 0.99", (0, 0), "readout_r2_x", *shown("0.99"), PRETRAINED),
                Claim("and 1.00)", (0, 0), "readout_r2_y", *shown("1.00"), PRETRAINED),
                Claim("(R² 0.98)", (0, 0), "readout_r2_x", *shown("0.98"), ("scratch",), "features.18"),
                Claim("(R² 0.98)", (0, 0), "readout_r2_y", *shown("0.98"), ("scratch",), "features.18"),
            ),
        ),
        "position": Lesson(
            N_("Fully-connected heads know position"),
            N_("Heads and position"),
            {"model": TEACHING, "layer": "features.4", "object": "diamond", "x": _SPOT_X, "y": _SPOT_Y},
            N_(
                "Both small CNNs end in flatten + fully connected layers, which give every position its own weights, "
                "and both were taught these shapes at this one spot only. Drag the diamond 20 px to the right. Will "
                "the right-hand network (trained from scratch) still say “diamond”?"
            ),
            N_(
                "At the spot it is sure (diamond, 100.0%); 20 px to the right its answer is another shape: its fully "
                "connected layer only ever learnt weights for the positions it saw. Zero padding even lets a CNN work "
                "out where it is in the image. Could an architecture not know where the object is? The next lesson "
                "shows one."
            ),
            vote=Vote(
                N_("Dragged 20 px to the right, will the network trained from scratch (right) still say diamond?"),
                YES_NO,
                YES_NO_RANGES,
                claim=2,
            ),
            claims=(
                Claim("(diamond, 100.0%)", (0, 0), "start_class_first", 1, 1, ("scratch",)),
                Claim("(diamond, 100.0%)", (0, 0), "start_class_probability", *shown("100.0%"), ("scratch",)),
                # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                Claim(N_("its answer is another shape"), (20, 0), "start_class_first", 0, 0, ("scratch",)),
            ),
        ),
        "built_in": Lesson(
            N_("Invariance built in, without downsampling"),
            N_("Built-in invariance"),
            {"model": CIRCULAR, "layer": "features.4", "object": "diamond", "x": _SPOT_X, "y": _SPOT_Y},
            N_(
                "Both small CNNs have circular padding (the border wraps round), average their last maps over all "
                "positions, and were taught these shapes at this spot only; the right one also max-pools after each of "
                "its five blocks. Drag the diamond 20 px right, then 20 px down. Which one still says “diamond”?"
            ),
            N_(
                "The left one answers the same everywhere (diamond, 100.0% at the spot and at both places; its scores "
                "are equal to the last digit wherever the whole diamond is): with circular padding every convolution "
                "treats every position alike, and the average forgets where, so what it learnt at one spot holds at "
                "every spot. The right one says diamond at the spot and another shape 20 px away: max pooling to "
                "stride 32 sees the object through a coarse grid, so a move changes what it sees. Built-in invariance "
                "is possible, but exact only without downsampling, and real networks downsample: they must learn it "
                "(next lesson)."
            ),
            vote=Vote(
                N_("Dragged 20 px right and 20 px down, will the left one (no pooling) still say diamond?"),
                YES_NO,
                YES_NO_RANGES,
                claim=3,
            ),
            claims=(
                Claim("100.0% at the spot", (0, 0), "start_class_probability", *shown("100.0%"), ("stride_1",)),
                Claim("at both places", (20, 0), "start_class_probability", *shown("100.0%"), ("stride_1",)),
                Claim("at both places", (20, 20), "start_class_probability", *shown("100.0%"), ("stride_1",)),
                # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                Claim(N_("at both places"), (20, 20), "start_class_first", 1, 1, ("stride_1",)),
                Claim("The right one says diamond at the spot", (0, 0), "start_class_first", 1, 1, ("stride_32",)),
                Claim("another shape 20 px away", (20, 0), "start_class_first", 0, 0, ("stride_32",)),
            ),
        ),
        "learned": Lesson(
            N_("Invariance is learnt"),
            N_("Learnt invariance"),
            {"model": TEACHING, "layer": "features.4", "object": "diamond", "x": _SPOT_X, "y": _SPOT_Y},
            N_(
                "The same architecture twice, both taught these shapes at this spot only, but the left one had first "
                "learnt *other* shapes all over the canvas. Drag the diamond far away, 20 px right and 20 px down. "
                "Which one still recognises it?"
            ),
            N_(
                "The left one does (diamond first there), the right one does not: what the left one learnt about other "
                "shapes everywhere carries over to new shapes (Biscione & Bowers 2021). The two have the same "
                "architecture: invariance was learnt, not built in. *Compute score maps* shows it at every position at "
                "once; the **CNN lab** page repeats the experiment, and shows how fine-tuning the whole network at one "
                "spot wears the invariance away."
            ),
            vote=Vote(
                N_(
                    "Dragged 20 px right and 20 px down, will the left one (which first learnt other shapes all over "
                    "the canvas) still recognise the diamond?"
                ),
                YES_NO,
                YES_NO_RANGES,
                claim=0,
            ),
            claims=(
                Claim(
                    # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                    N_("The left one does (diamond first there)"),
                    (20, 20),
                    "start_class_first",
                    1,
                    1,
                    ("pretrained",),
                ),
                Claim("the right one does not", (20, 20), "start_class_first", 0, 0, ("scratch",)),
            ),
        ),
        "anti_aliasing": Lesson(
            N_("Anti-aliasing helps"),
            N_("Anti-aliasing"),
            {
                "model": "mobilenet_v2",
                "layer": "features.6.add",
                "object": "coffee",
                "background": "imagenet grey",
                "canvas": "224",
                "size": "96",
                "x": "112",
                "y": "112",
            },
            N_(
                "Click *Sweep 1 px along x* in the sidebar: the object at every x, one pixel apart. Predict: how often "
                "does a one-pixel move change the pretrained network's top class? And in the CNN lab: can a network "
                "that downsamples keep every one of its answers when the object moves a few pixels?"
            ),
            N_(
                "About one move in four (23.8%): even a network trained on millions of shifted photos flips its answer "
                "at one-pixel moves, and its probability is jagged (Azulay & Weiss 2019): the strided layers alias. "
                "(The scratch twin never flips, 0.0%: it gives every picture the same class.) The **CNN lab** compares "
                "the cures fairly under *Does anti-aliasing help?*: one small network that averages its last maps over "
                "all positions, trained on shapes anywhere on the canvas with only its downsampling and padding "
                "changed (max pool, blur pool with filters 3 and 5, adaptive polyphase sampling or APS, circular "
                "padding + APS), 3 seeds each, then shown each new shape at a place and again up to 8 px away. Of its "
                "right answers, max pool keeps 97.8 ± 0.7%; blur pool with filter 3 (Zhang 2019), about as accurate "
                "(96.1% right against 95.6%), keeps 99.3 ± 0.4%, more with each seed; circular padding + APS (Chaman & "
                "Dokmanic 2021) keeps every one, 100% with each seed, by construction: every map moves with the object "
                "and the average forgets where. *Train all 5 here with seeds 0, 1 and 2, smaller (about a minute)* "
                "trains them all again in the class."
            ),
            vote=Vote(
                N_("How often will a one-pixel move change the pretrained network's top class?"),
                (N_("Never"), N_("Rarely: under 5% of the moves"), N_("Often: 5% to 40%"), N_("Mostly: over 40%")),
                ((-0.001, 0.001), (0.001, 0.05), (0.05, 0.4), (0.4, 1.001)),
                claim=0,
            ),
            claims=(
                # TRANSLATORS: quoted from this lesson's What to notice, after "Measured on the real models:"
                Claim(N_("(23.8%)"), (0, 0), "sweep_flip_rate", *shown("23.8%"), PRETRAINED),
                Claim("never flips, 0.0%", (0, 0), "sweep_flip_rate", *shown("0.0%"), ("scratch",)),
            ),
        ),
    }
)
ORDER = (FREE, *LESSONS)


def open_link(catalog: dict[str, Family]) -> None:
    """Once per session, before the sidebar is drawn: open the link's lesson, if it names one
    (`?lesson=aliasing`), and the link's view on top (a shared link carries the whole view)."""
    if LINK_OPENED.get():
        return
    LINK_OPENED.set(True)
    link = session_link()
    open_lesson(catalog, link["lesson"] if link.get("lesson") in LESSONS else FREE)
    show_view(link, catalog)


def lesson_ui(catalog: dict[str, Family]) -> Lesson | None:
    """The lesson choice at the top of the sidebar."""
    with st.sidebar:
        st.selectbox(
            _("Lesson"),
            ORDER,
            format_func=lesson_title,
            key=LESSON.name,
            on_change=open_lesson,
            args=(catalog,),
            help=_("Each lesson sets up the view, asks you to predict, then says what to notice."),
        )
    return LESSONS.get(LESSON.get())


def lesson_title(key: str) -> str:
    return _("Free exploration") if key == FREE else f"{ORDER.index(key)}. {_(LESSONS[key].topic)}"


def open_lesson(catalog: dict[str, Family], key: str | None = None) -> None:
    """Show the chosen lesson's view from its start, with *What to notice* folded (a callback: before the
    sidebar is drawn). Called again for the same lesson, it is the lesson's reset."""
    if key is not None:
        LESSON.set(key)
    if (lesson := LESSONS.get(LESSON.get())) is not None:
        show_view(lesson.view, catalog)
        LIVE.set(lesson.live_measurements)
        NOTICE.set(False)
        reset_path()  # the lesson's position is the reference again


def lesson_panel(lesson: Lesson, catalog: dict[str, Family]) -> DeltaGenerator:
    """The lesson's question and, folded, what to notice; with the way back to its start and on to the next.
    Returns its box, for the class's question (ui.classroom_view) to go in."""
    key = LESSON.get()
    number = ORDER.index(key)
    with (box := st.container(border=True, key="lesson_box")):
        st.markdown(
            _("**Lesson {number} of {total}: {title}.** Predict, then drag: {question}").format(
                number=number, total=len(LESSONS), title=_(lesson.title), question=_(lesson.predict)
            )
        )
        # One row that wraps rather than cut a label: the buttons as wide as their words, *What to notice* the rest.
        row = st.container(horizontal=True, vertical_alignment="center")
        with row.expander(_("What to notice (after you have dragged)"), key=NOTICE.name, on_change="rerun"):
            st.markdown(_(lesson.notice))
        row.button(
            _("Reset lesson"),
            key="lesson_reset",
            on_click=open_lesson,
            args=(catalog, key),
            help=_("Back to the lesson's view and starting position."),
        )
        row.button(
            # TRANSLATORS: a button: back to the previous lesson.
            _("Back"),
            key="lesson_back",
            on_click=open_lesson,
            args=(catalog, ORDER[number - 1]),
        )
        if number < len(LESSONS):
            row.button(
                # TRANSLATORS: a button: on to the next lesson.
                _("Next"),
                key="lesson_next",
                on_click=open_lesson,
                args=(catalog, ORDER[number + 1]),
            )
    return box
