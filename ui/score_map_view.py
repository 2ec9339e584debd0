"""The score maps: how sure each model is of its class with the object at every grid position."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from models import Network
from probes import ScoreMap, grid_positions, score_map
from ui import resources
from ui.figures import png_data_url, score_map_image
from ui.settings import VARIANT_TITLES, Settings

GRID_STEPS = (32, 16, 8, 4)


MAPS_KEPT = 8  # per session: enough to flip between steps and models without recomputing


def session_score_map(scene: Settings, variant: str, class_index: int, step: int, bar) -> ScoreMap:
    """Computed once per (model, scene, class, step) and kept in this session (a progress bar
    cannot be drawn from inside st.cache_*, so the maps are not shared between sessions)."""
    maps = st.session_state.score_maps
    key = (scene, variant, class_index, step)
    if key not in maps:
        net = resources.network(scene.model, variant)
        assert isinstance(net, Network), "only called for a loaded network"
        maps[key] = score_map(
            lambda images: net(images)["logits"],
            lambda x, y: resources.scene_batch(scene, x, y)[0],
            grid_positions(scene.canvas, step),
            class_index,
            progress=lambda fraction: bar.progress(fraction, f"Computing the {VARIANT_TITLES[variant]} map…"),
        )
        bar.empty()
        for old in list(maps)[:-MAPS_KEPT]:
            del maps[old]
    return maps[key]


def score_map_controls(settings: Settings) -> None:
    """Sidebar controls; outside the live view, so they cost nothing while the object is dragged."""
    with st.sidebar:
        st.header("Score maps")
        step = st.selectbox(
            "Grid step (pixels)",
            GRID_STEPS,
            index=1,
            key="score_map_step",
            help="Smaller steps show finer detail (aliasing!) but take longer: 4 px means 56 × 56 positions.",
        )
        if st.button("Compute score maps", key="compute_score_maps", width="stretch"):
            st.session_state.score_map_request = (replace(settings, layer=""), step)


def score_map_panel(settings: Settings, loaded: dict[str, Network], position: tuple[int, int]) -> None:
    """The maps asked for in the sidebar, for the current scene, with the object's position marked."""
    request = st.session_state.score_map_request
    scene = replace(settings, layer="")  # the maps do not depend on the layer shown
    if request is None or request[0] != scene:
        return
    step = request[1]
    tracked = st.session_state.tracked
    st.markdown(
        f"**Score maps** (every {step} px): the probability of each model's first class with the object centred "
        "at each point of a grid (bright = sure). Dots mark where that class is no longer ranked first; the ring "
        "is the object now."
    )
    columns = st.columns(len(loaded) or 1)
    for (variant, net), column in zip(loaded.items(), columns, strict=False):
        scores = session_score_map(scene, variant, tracked[variant], step, column.empty())
        kept = float(scores.top1_kept.float().mean())
        column.html(
            f'<img class="score-map" src="{png_data_url(score_map_image(scores, settings.canvas, position))}" '
            f'alt="score map">'
        )
        column.caption(
            f"{VARIANT_TITLES[variant]}: “{net.categories[tracked[variant]]}” stays first at {kept:.0%} of "
            f"{scores.top1_kept.numel()} positions; probability {float(scores.probability.min()):.2f} to "
            f"{float(scores.probability.max()):.2f}."
        )
