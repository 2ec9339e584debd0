"""Weights of your own, uploaded in the sidebar: checked, loaded once, and shown as "Your model" beside the same
architecture untrained. A file that does not fit is refused in plain words, and the session keeps what it had."""

from __future__ import annotations

import logging

import streamlit as st

from locales import N_, _
from models.families import YOURS, uploaded_model
from models.own_model import OwnModelError, read_own_weights
from models.registry import REGISTRY
from scene.words import Words, said, shown
from ui.state import MODEL, OWN_ARCHITECTURE, OWN_ERROR, OWN_LABELS_UPLOAD, OWN_MODEL, OWN_WEIGHTS_UPLOAD
from ui.uploads import sized_uploader

logger = logging.getLogger(__name__)

# Per file, in MB: every architecture's weights but VGG's (507 and 528 MB; those go in the weights folder). A file
# stays in the server's memory while it is in the uploader, beside the model loaded from it.
UPLOAD_MB = 300
LABELS_MB = 1  # 1,000 class names take some 20 kB


def own_model_ui() -> None:
    """The uploaders for weights and labels, the architecture they are for, and why the last files were refused."""
    with st.expander(_("Your own weights"), icon=":material/upload_file:", expanded=OWN_ERROR.get() is not None):
        st.selectbox(
            _("Architecture"),
            ["", *REGISTRY],
            format_func=lambda name: REGISTRY[name].label if name else _("Find it from the file"),
            key=OWN_ARCHITECTURE.name,
            on_change=take_own_model,
            help=_("The torchvision architecture your weights are for. Found from the file's layers if you leave it."),
        )
        sized_uploader(
            _("Weights (a state_dict, .pth or .pt)"),
            UPLOAD_MB,
            type=["pth", "pt"],
            key=OWN_WEIGHTS_UPLOAD.name,
            on_change=take_own_model,
            help=_(
                "Saved with torch.save(model.state_dict(), 'weights.pth') from a torchvision model, fine-tuned to "
                "any number of classes. Images are fed to it as to its ImageNet weights (same mean and std). At "
                "most {limit} MB: VGG's weights are larger, and go in the weights folder."
            ).format(limit=UPLOAD_MB),
        )
        sized_uploader(
            _("Class names (optional, .txt: one per line)"),
            LABELS_MB,
            type=["txt"],
            key=OWN_LABELS_UPLOAD.name,
            on_change=take_own_model,
            # TRANSLATORS: {names} are the names the classes get, never translated: "class 0, class 1"
            help=_("In the order of the model's outputs. Without them the classes are called {names}, …").format(
                names="class 0, class 1"
            ),
        )
        if error := OWN_ERROR.get():
            st.error(shown(error), icon=":material/error:")
        st.caption(
            _(
                "Your weights stay in your session only: a link to this view opens without them (they must be "
                "uploaded again there). For the whole class, put them in the weights folder: `{path}`, with the "
                "class names in `{labels}`."
            ).format(path="yours/<architecture>/<name>.pth", labels="<name>.txt")
        )


def take_own_model() -> None:
    """When a file or the architecture changes: if the weights fit, they become this session's model, shown at
    once; otherwise say why and keep the model the session has."""
    weights, labels = OWN_WEIGHTS_UPLOAD.get(), OWN_LABELS_UPLOAD.get()
    if weights is None:  # no weights yet (or they were removed): the model stays
        OWN_ERROR.set(None)
        return
    try:
        own = read_own_weights(weights.getvalue(), labels.getvalue() if labels else None, OWN_ARCHITECTURE.get())
    except OwnModelError as error:
        logger.warning("Refused the weights %r (labels %r): %s", weights.name, labels and labels.name, error)
        # Words: a callback runs before the page's language is known; translated where shown
        refused = N_("“{file}” was not used, and the model shown is unchanged. {why}")
        OWN_ERROR.set(Words(refused, file=weights.name, why=said(error)))
        return
    OWN_MODEL.set(uploaded_model(own, weights.name, labels.name if labels else None))
    OWN_ERROR.set(None)
    MODEL.set(YOURS)
