"""How to read each plot: a short note behind a small button beside it, so the view stays compact
on a projector and a student alone can still find out what they are looking at."""

from __future__ import annotations

from types import MappingProxyType

import streamlit as st

from locales import N_, _

NOTES = MappingProxyType(
    {
        "view": N_(
            "**Feature maps:** each small square is one channel of the chosen layer, the response of one "
            "filter at every position (bright = strong). Shown are the 8 channels most active when the object is at "
            "the centre, always the same ones and on one colour scale (its ends are under the maps), so when the "
            "object moves, watch whether the bright spots move with it. A deeper layer has smaller maps: one cell "
            "covers s × s pixels of the image, s being the layer's stride.\n\n"
            "**Classes:** the five the network finds most likely, with their probabilities. If the network "
            "recognised the object anywhere, the first class and its bar would stay put while you drag."
        ),
        "path": N_(
            "Left to right: the steps of your drag since the reference position. Up: each model's "
            "probability of the class it ranked first at the reference. A flat line: where the object is did not "
            "matter. A dip: a position where the network is less sure, or sees something else."
        ),
        "anti_aliasing": N_(
            "One row per network, each trained with the same seeds. *Accuracy*: the fraction of the "
            "1,000 scenes classified right. *Consistency given a correct first answer*: of the objects right at their "
            "first place, the fraction still right after a move of up to 8 px; it cannot be won by always giving the "
            "same answer. *Consistency, all pairs*: the same top class at both places. Each figure is the mean ± "
            "standard deviation over the seeds (range in brackets): a difference smaller than the spread may be luck."
        ),
        "location_task": N_(
            "**Left table:** the same patch in every image; only its quadrant is its class. "
            "Chance is 25 %. A network that gets the held-out places right has learnt where the patch is from the "
            "border alone, since its head averages over all positions. With circular padding there is no border: "
            "moving the patch by half the canvas only moves the maps round, so the four quadrants look the same to "
            "it. **Right table:** the same question for a lab net with random weights, asked by a straight-line "
            "read-out of each block's averaged maps (R² = 1: exactly where; 0: no better than guessing the middle). "
            "The first block's small receptive fields see the border only at the very edge, so it hardly knows; "
            "deeper blocks see the border from further in."
        ),
        "measurements": N_(
            "**Beside each model's class bars:** the chosen layer's numbers between the reference "
            "position (where the path began) and now. **Below:** one row per layer, redone whenever the object rests. "
            "*s* is the layer's stride; a move of Δ pixels should shift its maps by Δ/s cells. *Maps moved* is the "
            "shift actually measured, to a tenth of a cell, on the object's response (the maps minus those of the "
            "empty canvas, whose border response never moves). The *equivariance error* says how far the maps are "
            "from the reference maps simply shifted by Δ/s (0 = exactly shifted), counted only on the cells whose "
            "receptive field stays clear of the canvas border at both positions; a deep layer on a small canvas may "
            "have none (— then: try a larger canvas). † marks moves that are not whole cells: the maps are then "
            "compared with the reference maps moved by the fraction, interpolated between whole cells, and a large "
            "error is aliasing. *Similarity* (1 = identical) of the whole maps and of their averages over positions, "
            "each next to its baseline: the same measure for a different object. Only a similarity well above its "
            "baseline means the network sees the same thing; *alike* means the baseline is within 0.05 of 1, so the "
            "network finds any two objects alike at this layer and the similarity says nothing.\n\n"
            "**Shift plots:** one dot per measured position: right, the shift the stride predicts; up, the shift "
            "measured. On the dashed line y = x the maps moved exactly as predicted."
        ),
        "score_maps": N_(
            "Each point of a map is one position of the object's centre on the canvas; its colour is "
            "the model's probability of its first class with the object there (dark blue = unsure, yellow = sure; "
            "viridis, readable with colour blindness). A dot: another class wins there. An even, bright map means "
            "the network does not care where the object is."
        ),
        "profiles": N_(
            "One row per layer, shallow to deep; left to right in each chart, how far the object moved "
            "from the centre. *Pooled* and *whole-map similarity*: how alike the layer's output stays (1 = identical), "
            "averaged over many objects and sizes; the band holds the middle 80 % of them, and the dashed line in the "
            "same colour is the similarity of a *different* object: only a curve well above its dashed line means "
            "the network still sees the same thing. A scratch twin's curves sit near 1 and on top of its dashed "
            "line: it finds everything alike. *Equivariance error*: 0 = the maps simply moved with the object; "
            "zigzags come from moves that are not whole cells (aliasing); a missing curve means every cell of that "
            "layer sees the canvas border."
        ),
        "position_readout": N_(
            "*Where is it?* Each layer's maps are averaged over all positions, as a "
            "global-average-pool head sees them; that throws away *where* in the map anything is. A straight-line "
            "read-out is then learnt on two thirds of the object's places and asked where the object is on the other "
            "third. *Error*: how far off it is on those, in pixels, against *guessing the middle* every time (dashed). "
            "*R²*: 1 = it finds the exact place; 0 = no better than guessing the middle. A layer can only know where "
            "after averaging if its channels respond differently near the canvas border: zero padding lets it, so "
            "even a network with random weights knows where the object is in its deep layers, whose receptive "
            "fields reach the border from everywhere."
        ),
        "sweep": N_(
            "Left to right: the object's centre, one pixel at a time, at the same height. Up: each model's "
            "probability of its first class. A smooth line means small moves change little; a jagged one means a "
            "single pixel can change the answer (aliasing in the strided layers)."
        ),
        "accuracy_maps": N_(
            "Each point is one position of the object's centre; its brightness is the fraction "
            "of test objects (every class) classified right there: dark = never, bright = always, chance = 10%. "
            "The red square is where the training objects were. Bright only inside it: the network learnt "
            "*where*; bright everywhere: it recognises the shapes anywhere."
        ),
        "training": N_(
            "Per training step: the loss (lower is better) and the accuracy on the batch just trained, "
            "each averaged over the last 10 steps. Accuracy near 100% means the training objects are learnt, "
            "not that the network recognises them elsewhere: the accuracy map below tests that."
        ),
    }
)


def how_to_read(topic: str) -> None:
    """A small "How to read" button that opens the note on `topic`."""
    with st.popover(_("How to read"), icon=":material/help:"):
        st.markdown(_(NOTES[topic]))
