"""Heavy things built once per process and shared, read-only, by every session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import streamlit as st
import torch
from PIL import Image

from models import Network, WeightsUnavailable, load_network, trace_all, weights_dir
from models.geometry import imagenet_fields, small_cnn_fields
from models.lab_experiments import LAB_CONFIG
from models.teaching import TEACHING, load_teaching_network
from models.training import ModelFileError
from probes import (
    ReceptiveField,
    ShiftReference,
    colour_range,
    most_active_channels,
    object_response,
    shift_reference,
)
from scene import OBJECTS, compose, load_object, make_background, to_tensor
from scene.shapes import default_style, draw_shape
from ui.families import families, lab_network
from ui.figures import png_data_url
from ui.settings import Settings
from ui.uploads import is_upload, upload_sprite

CHANNELS_SHOWN = 8


@st.cache_resource(show_spinner="Preparing the models…")
def trace_architectures() -> None:
    """Trace every architecture once per process, before any session runs a forward pass
    (tracing briefly patches torch for the whole process; see models.trace_all)."""
    trace_all()


def network(name: str, variant: str) -> Network | str:
    """The model, or a plain-words reason why it cannot be had (see _network). A lab model is
    this session's own, so it is taken from the session, not from a shared cache."""
    lab = st.session_state.get("lab_model")
    if lab is not None and name == lab.name:
        return lab_network(lab, variant)
    return _network(name, variant, str(weights_dir()))


def column_networks(model: str) -> dict[str, Network | str]:
    """The models of the view's two columns, by variant in display order, or why one cannot be had."""
    return {variant: network(model, variant) for variant in families()[model].columns}


def loaded_only(networks: dict[str, Network | str]) -> dict[str, Network]:
    """Those of `networks` that could be loaded."""
    return {variant: net for variant, net in networks.items() if isinstance(net, Network)}


def forget_network(name: str, variant: str) -> None:
    """Drop a cached model or failure, so that the next call tries again."""
    _network.clear(name, variant, str(weights_dir()))


@st.cache_resource(show_spinner="Loading the model…", max_entries=12)
def _network(name: str, variant: str, weights_folder: str) -> Network | str:
    """Cached per weights folder; failures are cached too, so reruns do not retry downloads.

    Networks are only ever called, never changed, so sessions can share them.
    """
    try:
        if name == TEACHING:
            return load_teaching_network(variant)
        return load_network(name, variant, weights_folder=Path(weights_folder))
    except (WeightsUnavailable, ModelFileError) as exc:
        return str(exc)


def sprite(name: str, size: int) -> Image.Image:
    """The object's RGBA sprite (shared: compose never modifies it): the session's upload, or
    one of the library's."""
    return upload_sprite(name, size) if is_upload(name) else _library_sprite(name, size)


@st.cache_resource(max_entries=32)
def _library_sprite(name: str, size: int) -> Image.Image:
    """A photo, or a teaching shape drawn as the teaching CNNs' test objects are."""
    if name in OBJECTS:
        return load_object(name, size)
    return draw_shape(name, replace(default_style(LAB_CONFIG.canvas), size=size))


@st.cache_resource(max_entries=16)
def background(name: str, canvas: int) -> Image.Image:
    """The empty canvas (shared: compose never modifies it)."""
    return make_background(name, canvas)


@st.cache_data(max_entries=32)
def sprite_url(name: str, size: int) -> str:
    return png_data_url(sprite(name, size))


@st.cache_data(max_entries=16)
def background_url(name: str, canvas: int) -> str:
    return png_data_url(background(name, canvas))


def scene_batch(settings: Settings, x: int, y: int) -> torch.Tensor:
    """The scene with the object centred at (x, y), as a batch of one: (1, 3, H, W) in [0, 1]."""
    image = compose(
        background(settings.background, settings.canvas), sprite(settings.object, settings.object_size), x, y
    )
    return to_tensor(image)[None]


@st.cache_data(max_entries=64)
def shown_channels(settings: Settings, variant: str) -> tuple[list[int], tuple[float, float]]:
    """The channels to show and their shared colour range, fixed on the object at the centre.

    Fixing them on a reference image (not on each frame) keeps the same maps on screen, on the
    same scale, while the object moves: only then is a shift visible as a shift.
    """
    centre = settings.canvas // 2
    fmap = outputs_at(settings.scene, variant, settings.object, centre, centre)[settings.layer][0]  # (C, H, W)
    channels = most_active_channels(fmap, CHANNELS_SHOWN)
    return channels, colour_range(fmap, channels)


@st.cache_resource(max_entries=32)
def outputs_at(scene: Settings, variant: str, object_name: str, x: int, y: int) -> dict[str, torch.Tensor]:
    """One model's outputs for `object_name` at (x, y): the centred object that fixes the shown
    channels, and the reference and baseline scenes of the measurements (shared read-only).
    Pass `settings.scene`, so that the layer shown is not part of the key."""
    net = network(scene.model, variant)
    assert isinstance(net, Network), "only called for a loaded network"
    return net(scene_batch(replace(scene, object=object_name), x, y))


@st.cache_resource(max_entries=32)
def empty_canvas_outputs(scene: Settings, variant: str) -> dict[str, torch.Tensor]:
    """One model's outputs for the canvas with no object (shared read-only): what never moves with it."""
    net = network(scene.model, variant)
    assert isinstance(net, Network), "only called for a loaded network"
    return net(to_tensor(background(scene.background, scene.canvas))[None])


@st.cache_resource(max_entries=64)
def reference_spectrum(scene: Settings, variant: str, object_name: str, x: int, y: int, layer: str) -> ShiftReference:
    """The object's response at the reference position, prepared once for measuring every later move's
    shift against it (shared read-only; see probes.shift_reference)."""
    reference = outputs_at(scene, variant, object_name, x, y)[layer][0]  # (C, H, W)
    return shift_reference(object_response(reference, empty_canvas_outputs(scene, variant)[layer][0]))


def layer_fields(model: str) -> Mapping[str, ReceptiveField]:
    """Each probe layer's receptive field and stride, measured once per architecture (models.geometry)."""
    config = families()[model].small_cnn
    return small_cnn_fields(config) if config else imagenet_fields(model)
