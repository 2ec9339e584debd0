"""Heavy things built once per process and shared, read-only, by every session; and the loading of a
family's models for one script run."""

from __future__ import annotations

import ctypes
import logging
import os
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import partial

import streamlit as st
import torch
from PIL import Image

from locales import N_, _
from models import ModelUnavailable, Network, load_network, trace_all, weights_dir
from models.families import Column, Family, LabModel, OwnModel, catalog
from models.lab_experiments import LAB_CONFIG
from models.ledger import ModelLedger
from models.network import relative_cost
from probes import (
    ShiftReference,
    colour_range,
    most_active_channels,
    object_response,
    shift_reference,
)
from scene import OBJECTS, composed_batch, load_object, make_background, to_tensor
from scene.shapes import default_style, draw_shape
from scene.words import said, shown
from ui.figures import png_data_url
from ui.settings import Settings
from ui.uploads import is_upload, upload_sprite

CHANNELS_SHOWN = 8
MODEL_MEMORY_ENV = "SHIFTLAB_MODEL_MEMORY_MB"
DEFAULT_MODEL_MEMORY_MB = 3000  # VGG-16 with its scratch twin takes 1,060 MB; MobileNetV2 and its twin 28 MB

logger = logging.getLogger(__name__)


class Spinner(str):
    """A cached function's spinner text: given once, when the function is decorated, and shown in the language of
    the page whose run computes the value (Streamlit reads it with str() then, in that run)."""

    def __str__(self) -> str:
        return _(str.__str__(self))


@st.cache_resource(show_spinner=Spinner(N_("Preparing the models…")))
def trace_architectures() -> None:
    """Trace every architecture once per process, before any session runs a forward pass
    (tracing briefly patches torch for the whole process; see models.trace_all)."""
    trace_all()


def families(lab: LabModel | None, own: OwnModel | None) -> dict[str, Family]:
    """This session's catalog of families (models.families.catalog), made once per script run."""
    return catalog(weights_dir(), lab, own)


@dataclass(frozen=True)
class Columns:
    """A family's models as loaded for this run, by column key in display order: the networks, and the
    plain-words reason for each that could not be loaded (in the page's language)."""

    loaded: dict[str, Network]
    unavailable: dict[str, str]


def load_columns(family: Family) -> Columns:
    """Load every column of the family: a shared model from the process's cache (loaded once for all
    sessions, failures too, so that reruns do not retry a download), the session's own directly. The shared
    models not used for longest are released when those held exceed the memory budget (MODEL_MEMORY_ENV)."""
    loaded, unavailable, shared = {}, {}, {}
    for column in family.columns:
        net, reason = _shared(column.cache_key, column) if column.shared else _attempt(column)
        if net is None:
            unavailable[column.key] = shown(reason)  # the reason was kept untranslated, maybe for every session
        else:
            loaded[column.key] = net
            if column.shared:
                shared[column.cache_key] = (net.nbytes, partial(forget, column))
    ledger = model_ledger()
    arrived = set(shared) - set(ledger.held)
    released = ledger.use(shared)
    if arrived or released:
        give_back_freed_memory()
    if released:
        logger.warning(  # a warning, so that it reaches the server's log: the budget is tight for what is used
            "Released %s (the budget for shared models is %.0f MB): %d held now, %.0f MB",
            ", ".join(released),
            ledger.budget / 2**20,
            len(ledger.held),
            ledger.held_bytes / 2**20,
        )
    return Columns(loaded, unavailable)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def reuse_freed_buffers() -> None:
    """Have glibc keep freed buffers of up to 32 MB for reuse instead of handing each back to the system: a drag
    event allocates and frees tens of MB of maps and spectra, and memory fresh from the system costs a page fault
    per 4 kB (measured: the shift estimate of a 32 × 112 × 112 layer 18.8 → 7.5 ms). give_back_freed_memory still
    returns it all after a model arrives or leaves."""
    with suppress(OSError, AttributeError):  # not glibc: its allocator does without
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20)  # the largest glibc allows; it also stops its own adjusting
        libc.mallopt(M_TRIM_THRESHOLD, 256 * 2**20)


def give_back_freed_memory() -> None:
    """Return the heap memory freed since to the system. glibc keeps it otherwise: after loading four large models
    (ResNet-50, VGG-16, Wide ResNet-50-2, ConvNeXt-Tiny) the process held 1.4 GB more than it used (measured)."""
    with suppress(OSError, AttributeError):  # not glibc: its allocator does without
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@st.cache_resource
def model_ledger() -> ModelLedger:
    """The process's ledger of the shared models held (one for all sessions, as the models are)."""
    setting = os.environ.get(MODEL_MEMORY_ENV) or str(DEFAULT_MODEL_MEMORY_MB)
    try:
        megabytes = float(setting)
    except ValueError:
        logger.warning(
            "%s=%r is no number of megabytes: %d MB are used", MODEL_MEMORY_ENV, setting, DEFAULT_MODEL_MEMORY_MB
        )
        megabytes = DEFAULT_MODEL_MEMORY_MB
    return ModelLedger(budget=int(megabytes * 2**20))


COST_REFERENCE = "mobilenet_v2"


def drag_cost(columns: Columns, canvas: int) -> float | None:
    """How many times longer a forward pass of the family's slowest loaded model takes than MobileNetV2's, on this
    canvas and this server: measured once per model and canvas (None when no model loaded)."""
    return max((_drag_cost(net.cache_key, net, canvas) for net in columns.loaded.values()), default=None)


@st.cache_resource(max_entries=64)
def _drag_cost(cache_key: str, _net: Network, canvas: int) -> float:
    return relative_cost(_net, _cost_reference(), torch.rand(1, 3, canvas, canvas))


@st.cache_resource
def _cost_reference() -> Network:
    """MobileNetV2's scratch twin: what the cost of a model is given against (the same with its ImageNet weights)."""
    return load_network(COST_REFERENCE, "scratch")


def forget(column: Column) -> None:
    """Drop a cached model or failure, so that the next load tries again."""
    _shared.clear(column.cache_key, column)


def _attempt(column: Column) -> tuple[Network | None, str]:
    """(the column's network, "") or (None, why it cannot be had: Words, translated where shown)."""
    try:
        return replace(column.load(), cache_key=column.cache_key), ""
    except ModelUnavailable as exc:
        return None, said(exc)


@st.cache_resource(show_spinner=Spinner(N_("Loading the model…")))
def _shared(cache_key: str, _column: Column) -> tuple[Network | None, str]:
    """_attempt, once per cache key for the whole process (until the ledger releases it). Networks are only ever
    called, never changed, so sessions can share them."""
    return _attempt(_column)


def sprite(name: str, size: int) -> Image.Image:
    """The object's RGBA sprite (shared: compose never modifies it): the session's upload, or
    one of the library's."""
    return upload_sprite(name, size) if is_upload(name) else _library_sprite(name, size)


@st.cache_resource(max_entries=32)
def _library_sprite(name: str, size: int) -> Image.Image:
    """A photo, or a shape drawn as the small CNNs' test objects are."""
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
    return composed_batch(
        background(settings.background, settings.canvas), sprite(settings.object, settings.object_size), x, y
    )


def shown_channels(net: Network, settings: Settings) -> tuple[list[int], tuple[float, float]]:
    """The channels to show and their shared colour range, fixed on the object at the centre.

    Fixing them on a reference image (not on each frame) keeps the same maps on screen, on the
    same scale, while the object moves: only then is a shift visible as a shift.
    """
    return _shown_channels(net.cache_key, net, settings)


# Settings in a cache key by their repr: Streamlit's hasher walks a dataclass field by field, 9× slower
# (measured: 440 → 50 µs), and a drag event looks up half a dozen such keys.
SETTINGS_HASH = {Settings: repr}


@st.cache_data(max_entries=64, hash_funcs=SETTINGS_HASH)
def _shown_channels(cache_key: str, _net: Network, settings: Settings) -> tuple[list[int], tuple[float, float]]:
    centre = settings.canvas // 2
    fmap = outputs_at(_net, settings.without_layer, settings.object, centre, centre)[settings.layer][0]  # (C, H, W)
    channels = most_active_channels(fmap, CHANNELS_SHOWN)
    return channels, colour_range(fmap, channels)


def outputs_at(net: Network, view: Settings, object_name: str, x: int, y: int) -> dict[str, torch.Tensor]:
    """One model's outputs for `object_name` at (x, y): the centred object that fixes the shown
    channels, and the reference and baseline scenes of the measurements (shared read-only).
    Pass `settings.without_layer`, so that the layer shown is not part of the key."""
    return _outputs_at(net.cache_key, net, view, object_name, x, y)


@st.cache_resource(max_entries=32, hash_funcs=SETTINGS_HASH)
def _outputs_at(
    cache_key: str, _net: Network, view: Settings, object_name: str, x: int, y: int
) -> dict[str, torch.Tensor]:
    return _net(scene_batch(replace(view, object=object_name), x, y))


def empty_canvas_outputs(net: Network, view: Settings) -> dict[str, torch.Tensor]:
    """One model's outputs for the canvas with no object (shared read-only): what never moves with it."""
    return _empty_canvas_outputs(net.cache_key, net, view.background, view.canvas)


@st.cache_resource(max_entries=32)
def _empty_canvas_outputs(cache_key: str, _net: Network, background_name: str, canvas: int) -> dict[str, torch.Tensor]:
    return _net(to_tensor(background(background_name, canvas))[None])


def reference_spectrum(net: Network, view: Settings, object_name: str, x: int, y: int, layer: str) -> ShiftReference:
    """The object's response at the reference position, prepared once for measuring every later move's
    shift against it (shared read-only; see probes.shift_reference)."""
    return _reference_spectrum(net.cache_key, net, view, object_name, x, y, layer)


@st.cache_resource(max_entries=64, hash_funcs=SETTINGS_HASH)
def _reference_spectrum(
    cache_key: str, _net: Network, view: Settings, object_name: str, x: int, y: int, layer: str
) -> ShiftReference:
    reference = outputs_at(_net, view, object_name, x, y)[layer][0]  # (C, H, W)
    return shift_reference(object_response(reference, empty_canvas_outputs(_net, view)[layer][0]))
