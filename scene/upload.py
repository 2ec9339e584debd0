"""A student's own object: the bytes of an uploaded picture made into a square RGBA sprite.

Uploads are untrusted, so every way a file can be wrong (too big, a decompression bomb, damaged,
not a picture, a format we do not read, too small or too thin, nothing visible) ends as
`UnreadableImage`, whose message says in plain words what was wrong and what to do. The size in
the file's header is checked before any pixel is decoded. Pillow's global settings
(`Image.MAX_IMAGE_PIXELS`, `ImageFile.LOAD_TRUNCATED_IMAGES`) are process-wide, shared by every
session, so they are read, never changed. The messages are `Words` (scene.words): an upload is checked in a
widget's callback, before the page's language is known, so they are translated where shown.
"""

from io import BytesIO
from math import ceil

import numpy as np
from PIL import Image, ImageOps

from locales import N_
from scene.words import Words

MAX_UPLOAD_BYTES: int = 5 * 1024 * 1024
MAX_UPLOAD_PIXELS: int = 24_000_000  # from the header; a 24 MP camera photo passes (as PNG it decodes in ~2 s)
MAX_ASPECT: float = 8.0  # longer side / shorter side; beyond this the object is a thin line
MIN_SIDE = 8
MAX_SIDE = 448  # the largest canvas (scene.compose.CANVAS_SIZES): an object never needs more

ACCEPTED = ("PNG", "JPEG", "WEBP", "GIF")
_READABLE = (*ACCEPTED, "MPO")  # MPO: a JPEG with extra views, as some cameras save; Pillow's JPEG opener makes it
_NAMED = ("BMP", "TIFF", "ICO", "PSD", "PPM", "JPEG2000", "AVIF")  # refused, but named in the message
Image.init()  # register every plugin, so that _TRIED names exactly the formats this Pillow opens
_TRIED = tuple(name for name in (*ACCEPTED, *_NAMED) if name in Image.OPEN)  # no weak-signature guessers (TGA, ...)


class UnreadableImage(ValueError):
    """An upload that cannot be an object; str(exc) says in plain words what was wrong and what to do."""


def read_object(data: bytes) -> Image.Image:
    """The uploaded picture as an RGBA square sprite: its first frame, turned upright by its EXIF
    orientation, scaled down so that the longer side is at most MAX_SIDE px (aspect kept) and padded
    with transparent pixels to a square, so that it resizes to any object size without distortion.

    Raises UnreadableImage, and nothing else, for any bytes that cannot be read as such a picture.
    """
    if not data:
        raise UnreadableImage(Words(N_("The file is empty. Upload a PNG, JPEG, WebP or GIF picture.")))
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnreadableImage(
            Words(
                N_(
                    "The file is {size} MB; pictures of up to {limit} MB are accepted. Save it smaller (fewer "
                    "pixels, or as JPEG) and upload it again."
                ),
                size=f"{ceil(len(data) / 2**20 * 10) / 10:.1f}",
                limit=MAX_UPLOAD_BYTES // 2**20,
            )
        )
    try:
        with Image.open(BytesIO(data), formats=_TRIED) as image:
            _check_header(image)
            image.draft(None, (MAX_SIDE, MAX_SIDE))  # JPEG only: decode at 1/2, 1/4 or 1/8 size, not larger
            image.load()  # decode everything now: a damaged file fails here, not later in the app
            picture = _to_rgba(image)
        # Shrink first (reduce by a whole factor, then Lanczos; aspect kept), so the rest handles a small image.
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
        picture = ImageOps.exif_transpose(picture)  # upright, from the EXIF kept in picture.info
    except UnreadableImage:
        raise
    except Image.DecompressionBombError as error:  # Pillow's own limit, when the header claims even more
        raise UnreadableImage(
            Words(
                N_(
                    "The picture claims to be so large that opening it could stall the app. Upload a PNG, JPEG, "
                    "WebP or GIF picture of at most {millions} million pixels."
                ),
                millions=MAX_UPLOAD_PIXELS // 1_000_000,
            )
        ) from error
    except Image.UnidentifiedImageError as error:
        raise UnreadableImage(
            Words(
                N_(
                    "This file is not a picture that Shift Lab can read. Upload a PNG, JPEG, WebP or GIF picture "
                    "(photos from a phone in HEIC format: share or export them as JPEG first)."
                )
            )
        ) from error
    except Exception as error:  # Pillow fails in many ways on damaged data: OSError, SyntaxError, ValueError, ...
        raise UnreadableImage(
            Words(
                N_(
                    "The picture file is damaged or incomplete (perhaps its download or upload was cut off). Open "
                    "it in an image program, save it again as PNG or JPEG, and upload that."
                )
            )
        ) from error
    if picture.getchannel("A").getextrema()[1] == 0:
        raise UnreadableImage(
            Words(
                N_(
                    "The picture is completely transparent: there is nothing to see. Upload a picture of a visible "
                    "object."
                )
            )
        )
    return _pad_to_square(picture)


def _check_header(image: Image.Image) -> None:
    """Refuse, from the header alone (no pixel decoded yet), other formats and bad sizes."""
    if image.format not in _READABLE:
        raise UnreadableImage(
            Words(
                N_(
                    "This is a {format} picture; Shift Lab reads PNG, JPEG, WebP and GIF only. Save it as PNG or "
                    "JPEG and upload it again."
                ),
                format=image.format,
            )
        )
    width, height = image.size
    if width * height > MAX_UPLOAD_PIXELS:
        raise UnreadableImage(
            Words(
                N_(
                    "The picture is {width} × {height} pixels, too large to open safely (at most {millions} million "
                    "pixels). Save it smaller and upload it again."
                ),
                width=width,
                height=height,
                millions=MAX_UPLOAD_PIXELS // 1_000_000,
            )
        )
    if min(width, height) < MIN_SIDE:
        raise UnreadableImage(
            Words(
                N_(
                    "The picture is only {width} × {height} pixels; it needs at least {least} pixels on each side. "
                    "Upload a larger picture."
                ),
                width=width,
                height=height,
                least=MIN_SIDE,
            )
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise UnreadableImage(
            Words(
                N_(
                    "The picture is {width} × {height} pixels: one side is {ratio} times the other, and at most "
                    "{most} times is accepted, or the object would be a thin line. Crop it closer around the object "
                    "and upload it again."
                ),
                width=width,
                height=height,
                ratio=f"{max(width, height) / min(width, height):.0f}",
                most=f"{MAX_ASPECT:g}",
            )
        )


def _to_rgba(image: Image.Image) -> Image.Image:
    """RGBA, keeping transparency (an alpha channel, or a palette's or tRNS transparent colour)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit grey: Pillow's own conversion clips at 255 (mostly white), so scale 0..65535 to 0..255.
        grey = np.asarray(image).astype(np.float64) / 257  # (H, W)
        rgba = Image.fromarray(grey.round().clip(0, 255).astype(np.uint8)).convert("RGBA")
        rgba.info = dict(image.info)  # as convert does: the EXIF orientation is read from there
        return rgba
    return image.convert("RGBA")  # applies a palette's or tRNS transparent colour; copies info


def _pad_to_square(picture: Image.Image) -> Image.Image:
    """The picture centred on a transparent square as wide as its longer side."""
    side = max(picture.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(picture, ((side - picture.width) // 2, (side - picture.height) // 2))
    return square
