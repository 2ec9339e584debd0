"""The sidebar: which model, layer and scene. Returns the user's choices as one plain value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import streamlit as st

from locales import _
from models.families import Family
from models.registry import GROUPS
from ui.own_model_view import own_model_ui
from ui.state import BACKGROUND, CANVAS, KEYS, MODEL, MODEL_KIND, OBJECT_SIZE, Key, get_layer, layer_key, set_layer
from ui.uploads import object_choices, upload_ui

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Everything about the view except the object's position."""

    model: str  # the family's name
    layer: str
    object: str
    object_size: int
    background: str
    canvas: int

    @property
    def without_layer(self) -> Settings:
        """These settings without the layer shown: the key of anything computed from the model's
        outputs as a whole (reference outputs, score maps), so choosing a layer recomputes none of it."""
        return replace(self, layer="")


def settings_ui(catalog: dict[str, Family]) -> tuple[Settings, Family]:
    """Draw the sidebar and return the current choices and their family (a link's were adopted before:
    ui.links). A choice the family does not offer (a model since replaced, a layer of another model, a
    canvas a small CNN cannot take) falls back to the family's own."""
    if MODEL.get() not in catalog:
        MODEL.set(next(iter(catalog)))
    with st.sidebar:
        st.header(_("Model"))
        model = architecture_ui(catalog)
        own_model_ui()
        family = catalog[model]
        if get_layer(model) not in family.layers:
            set_layer(model, family.default_layer)
        layer = st.selectbox(
            _("Layer for the feature maps"),
            family.layers,
            key=layer_key(model),
            help=_("Early layers are near the pixels; later ones see more of the image, more coarsely."),
        )
        st.header(_("Scene"))
        choices = family.scene
        chosen_object: Key[str] = KEYS[choices.object_key]
        objects = object_choices(choices.objects, uploads=choices.uploads)
        if chosen_object.get() not in objects:
            chosen_object.set(choices.objects[0])
        obj = st.selectbox(_(choices.object_label), list(objects), format_func=objects.get, key=chosen_object.name)
        if choices.uploads:
            upload_ui()
        background = choice(_("Background"), choices.backgrounds, BACKGROUND, names=_)
        canvas = choice(
            _("Canvas size (pixels)"),
            choices.canvases,
            CANVAS,
            help=_("224 is what the ImageNet models were trained on; larger canvases leave more room to move."),
        )
        object_size = choice(_("Object size (pixels)"), choices.object_sizes, OBJECT_SIZE, slider=True)
        if len(choices.backgrounds) == len(choices.canvases) == 1:
            st.caption(
                _("On {background}, {canvas} × {canvas} px: the scene these models were trained on.").format(
                    background=_(background), canvas=canvas
                )
            )
    return Settings(model, layer, obj, object_size, background, canvas), family


def architecture_ui(catalog: dict[str, Family]) -> str:
    """The kind of model (every kind, or one part of the list: Family.group) and the model: its name.

    The list of every kind shows the parts one after the other, in the catalog's order. A model chosen
    elsewhere (a link, a lesson) that is not of the kind shown brings its own kind along."""
    kinds = {family.group: [] for family in catalog.values()}
    for name, family in catalog.items():
        kinds[family.group].append(name)
    if MODEL_KIND.get() and MODEL.get() not in kinds.get(MODEL_KIND.get(), ()):  # also a kind no longer offered
        MODEL_KIND.set(catalog[MODEL.get()].group)
    st.selectbox(
        _("Kind of model"),
        ["", *kinds],
        format_func=lambda kind: (
            f"{_(kind)} ({len(kinds[kind])})" if kind else _("All kinds ({count})").format(count=len(catalog))
        ),
        key=MODEL_KIND.name,
        on_change=_first_of_kind,
        args=(kinds,),
        help=" ".join(f"*{_(kind)}*: {_(what)}." for kind, what in GROUPS.items() if kind in kinds),
    )
    return st.selectbox(
        _("Architecture"),
        kinds.get(MODEL_KIND.get(), list(catalog)),
        format_func=lambda name: _(catalog[name].label),
        key=MODEL.name,
        help=_(
            "ImageNet models are shown twice: with pretrained weights, and as their scratch twin (the same "
            "architecture with random weights). *Ready offline*: its pretrained weights are on this machine; the "
            "others are downloaded once, where there is internet. The small CNNs are shown as the CNN lab trained "
            "them; a model you train in the CNN lab appears here too, and so do weights of your own (below)."
        ),
    )


def _first_of_kind(kinds: dict[str, list[str]]) -> None:
    """A new kind chosen: its first model, unless the model shown is of that kind."""
    if MODEL_KIND.get() and MODEL.get() not in kinds[MODEL_KIND.get()]:
        MODEL.set(kinds[MODEL_KIND.get()][0])


def choice(
    label: str,
    options: Sequence[T],
    key: Key[T],
    slider: bool = False,
    help: str | None = None,
    names: Callable[[T], str] = str,
) -> T:
    """The user's pick among `options`, kept under `key` and shown by `names` (the options themselves stay the
    values, whatever the language); with one option there is nothing to pick and no widget, and the key keeps
    what was picked for families that offer more."""
    if len(options) == 1:
        return options[0]
    if key.get() not in options:
        key.set(options[0])
    widget = st.select_slider if slider else st.selectbox
    return widget(label, options, key=key.name, help=help, format_func=names)
