"""Students' own objects: an uploaded image, checked, becomes a draggable object of their session.

An upload is named by a digest of its checked pixels ("upload-…"), so a name always means one
image: the shared caches keyed by object name can never show one student another's upload.
"""

from __future__ import annotations

import hashlib
import io
import logging
from typing import Any

import streamlit as st
from PIL import Image

from locales import N_, _
from scene import OBJECTS
from scene.upload import MAX_UPLOAD_BYTES, UnreadableImage, read_object
from scene.words import Words, said, shown
from ui.state import OBJECT, OBJECT_UPLOAD, OBJECT_UPLOAD_ERROR, UPLOADS

logger = logging.getLogger(__name__)

UPLOAD_PREFIX = "upload-"
UPLOADS_KEPT = 5  # per session: each is a PNG of at most 448 × 448
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "gif"]


def sized_uploader(label: str, mb: int, **options: Any) -> None:
    """A file uploader that takes files of at most `mb` MB and says so after its label, in the page's language
    (Streamlit's own hint under the button is English whatever the language, and ui/page.css hides it)."""
    # TRANSLATORS: after an uploader's label: the largest file it takes
    st.file_uploader(_("{label} · at most {mb} MB").format(label=label, mb=mb), max_upload_size=mb, **options)


def uploaded_objects() -> dict[str, tuple[str, bytes]]:
    """This session's uploads, oldest first: object name -> (the file's name, the checked image as PNG)."""
    return UPLOADS.get()


def is_upload(name: str) -> bool:
    return name.startswith(UPLOAD_PREFIX)


def object_choices(objects: tuple[str, ...], uploads: bool) -> dict[str, str]:
    """Every object that can be chosen, name -> how it is listed (in the page's language): `objects` by name (the
    library's photos translated; a shape is a class of the small CNNs, named as they name it), then, if `uploads`,
    this session's uploads by their file's name."""
    photos = objects == OBJECTS
    return {name: _(name) if photos else name for name in objects} | (
        {name: _("{file} (yours)").format(file=file) for name, (file, _png) in uploaded_objects().items()}
        if uploads
        else {}
    )


def upload_ui() -> None:
    """The uploader under the object choice, and why the last file was refused, if it was."""
    sized_uploader(
        _("…or drag in your own (PNG, JPEG, WebP, GIF)"),
        MAX_UPLOAD_BYTES // 2**20,
        type=UPLOAD_TYPES,
        key=OBJECT_UPLOAD.name,
        on_change=take_upload,
        help=_(
            "A photo or drawing of one object. Transparent parts stay transparent; it is made square by "
            "padding. It stays in your session only."
        ),
    )
    if error := OBJECT_UPLOAD_ERROR.get():
        st.error(shown(error), icon=":material/error:")


def take_upload() -> None:
    """When a file arrives: if it is a readable image, make it the object; otherwise keep the
    object and say what was wrong with the file."""
    upload = OBJECT_UPLOAD.get()
    if upload is None:  # the file was removed from the uploader: the object stays
        return
    try:
        name = add_upload(upload.name, upload.getvalue())
    except UnreadableImage as error:  # the student reads what was wrong; the log also gets Pillow's own words
        logger.warning("Refused the upload %r (%d bytes): %s", upload.name, upload.size, error, exc_info=True)
        # Words: a callback runs before the page's language is known; translated where shown
        refused = N_("“{file}” was not used, and your object is unchanged. {why}")
        OBJECT_UPLOAD_ERROR.set(Words(refused, file=upload.name, why=said(error)))
        return
    OBJECT.set(name)
    OBJECT_UPLOAD_ERROR.set(None)


def add_upload(file_name: str, data: bytes) -> str:
    """Check an image file and keep it among this session's uploads; its object name. Raises UnreadableImage."""
    image = read_object(data)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    png = buffer.getvalue()
    name = UPLOAD_PREFIX + hashlib.sha256(png).hexdigest()[:16]
    uploads = uploaded_objects()
    uploads.pop(name, None)  # the same image again moves to the end
    uploads[name] = (file_name, png)
    while len(uploads) > UPLOADS_KEPT:
        del uploads[next(iter(uploads))]
    UPLOADS.set(uploads)  # the same dict in a session, where init_state made it; the first one elsewhere
    return name


def upload_sprite(name: str, size: int) -> Image.Image:
    """The uploaded object `name` of this session as a size x size RGBA sprite."""
    return _resized(name, size, uploaded_objects()[name][1])


@st.cache_resource(max_entries=16)
def _resized(name: str, size: int, _png: bytes) -> Image.Image:
    """Cached by name and size only: the name is the digest of `_png`, so it identifies it."""
    with Image.open(io.BytesIO(_png)) as image:
        # Resized with premultiplied alpha, so transparent pixels' colours do not bleed into the edges.
        return image.convert("RGBa").resize((size, size), Image.Resampling.LANCZOS).convert("RGBA")
