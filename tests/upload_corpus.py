"""Files a student might upload as an object, made here with Pillow (nothing binary is committed).

`upload_corpus()` maps a readable name to (the file's bytes, whether `scene.upload.read_object`
must accept it). Shared by the unit tests of `scene.upload` and the app's upload tests. The
colours and shapes are chosen so that a test can check where pixels must end up (see the
constants below).
"""

import random
import struct
import zlib
from collections.abc import Callable
from functools import cache
from io import BytesIO

import numpy as np
from PIL import Image, ImageDraw

from scene.upload import MAX_UPLOAD_BYTES

RED = (255, 0, 0)
BLUE = (0, 0, 255)
GREEN = (0, 160, 0)
EXIF_ORIENTATION = 0x0112
ROTATE_90_CLOCKWISE = 6  # EXIF: the stored pixels must be turned 90° clockwise to be upright
GREY_16BIT = 32896  # = 128 * 257: mid grey on a 16-bit scale, 128 on an 8-bit one


def encode(image: Image.Image, file_format: str, **options: object) -> bytes:
    buffer = BytesIO()
    image.save(buffer, file_format, **options)
    return buffer.getvalue()


def half_transparent(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """RGBA: the left half fully transparent, the right half opaque red."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((size[0] // 2, 0, size[0], size[1]), fill=(*RED, 255))
    return image


def noise(size: tuple[int, int] = (64, 64)) -> Image.Image:
    """Seeded RGB noise: incompressible, so any cut removes pixel data."""
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)  # (H, W, 3)
    return Image.fromarray(pixels)


def red_left_blue_right(size: tuple[int, int] = (60, 30)) -> Image.Image:
    image = Image.new("RGB", size, BLUE)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2 - 1, size[1]), fill=RED)
    return image


def animated_gif() -> bytes:
    """Two frames, red then blue: the first one is the object."""
    frames = [Image.new("RGB", (40, 40), colour) for colour in (RED, BLUE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def exif_rotated_jpeg() -> bytes:
    """Stored 60 × 30, red left and blue right, tagged "rotate 90° clockwise": upright it is
    30 × 60, red on top and blue below."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATE_90_CLOCKWISE
    return encode(red_left_blue_right(), "JPEG", quality=95, exif=exif.tobytes())


def palette_with_transparency() -> bytes:
    """Palette PNG (tRNS chunk): index 0 transparent around a green square of index 1."""
    image = Image.new("P", (32, 32), 0)
    image.putpalette([0, 0, 0, *GREEN])
    ImageDraw.Draw(image).rectangle((8, 8, 23, 23), fill=1)
    return encode(image, "PNG", transparency=0)


def grey_with_alpha() -> bytes:
    """LA PNG: transparent light grey around an opaque dark grey square."""
    image = Image.new("LA", (32, 32), (200, 0))
    ImageDraw.Draw(image).rectangle((8, 8, 23, 23), fill=(50, 255))
    return encode(image, "PNG")


def mpo() -> bytes:
    """A multi-picture JPEG, as some cameras save: Pillow reports it as MPO, still a JPEG."""
    views = [Image.new("RGB", (40, 40), colour) for colour in (RED, BLUE)]
    return encode(views[0], "MPO", save_all=True, append_images=views[1:])


def blank_1bit_png(width: int, height: int) -> bytes:
    """A valid black 1-bit PNG of any size, built row by row without holding its pixels: a
    decompression bomb when large (20000 × 20000 is about 50 KB of file for 400 million pixels)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = bytes(1 + (width + 7) // 8) * 100  # 100 rows: filter byte 0, then all-zero bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(rows) for _ in range(height // 100))
    idat += packer.compress(rows[: len(rows) // 100 * (height % 100)]) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, greyscale, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def cut_in_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


_CASES: dict[str, tuple[Callable[[], bytes], bool]] = {
    "png-rgba": (lambda: encode(half_transparent(), "PNG"), True),
    "jpeg": (lambda: encode(red_left_blue_right(), "JPEG"), True),
    "webp-lossy": (lambda: encode(red_left_blue_right(), "WEBP", quality=80), True),
    "webp-lossy-alpha": (lambda: encode(half_transparent(), "WEBP", quality=80), True),
    "gif-animated": (animated_gif, True),
    "jpeg-cmyk": (lambda: encode(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG", quality=95), True),
    "png-16bit-grey": (lambda: encode(Image.new("I;16", (32, 32), GREY_16BIT), "PNG"), True),
    "png-palette-transparent": (palette_with_transparency, True),
    "png-la": (grey_with_alpha, True),
    "png-grey": (lambda: encode(Image.new("L", (32, 32), 128), "PNG"), True),
    "png-1bit": (lambda: encode(Image.new("1", (32, 32), 1), "PNG"), True),
    "jpeg-exif-rotated": (exif_rotated_jpeg, True),
    "jpeg-mpo": (mpo, True),
    "png-1000x800-downscaled": (lambda: encode(Image.new("RGB", (1000, 800), GREEN), "PNG"), True),
    "png-8x64-aspect-8": (lambda: encode(Image.new("RGB", (8, 64), GREEN), "PNG"), True),
    "png-1x1": (lambda: encode(Image.new("RGB", (1, 1), GREEN), "PNG"), False),
    "png-1000x10-aspect-100": (lambda: encode(Image.new("RGB", (1000, 10), GREEN), "PNG"), False),
    "png-bomb-20000x20000": (lambda: blank_1bit_png(20_000, 20_000), False),
    "png-7000x7000-over-our-limit": (lambda: blank_1bit_png(7_000, 7_000), False),  # under Pillow's own limit
    "png-over-5mb": (lambda: encode(half_transparent(), "PNG") + bytes(MAX_UPLOAD_BYTES), False),  # valid but long
    "png-truncated": (lambda: cut_in_half(encode(noise(), "PNG")), False),
    "jpeg-truncated": (lambda: cut_in_half(encode(noise(), "JPEG")), False),
    "random-bytes-named-png": (lambda: random.Random(0).randbytes(4096), False),  # read_object never sees a name
    "text": (lambda: b"This is my cat, I promise.\n" * 20, False),
    "empty": (lambda: b"", False),
    "bmp": (lambda: encode(red_left_blue_right(), "BMP"), False),
    "tiff": (lambda: encode(red_left_blue_right(), "TIFF"), False),
    "png-fully-transparent": (lambda: encode(Image.new("RGBA", (32, 32), (*RED, 0)), "PNG"), False),
}


@cache
def upload_corpus() -> dict[str, tuple[bytes, bool]]:
    """Every case, name → (bytes, accepted?); made once per process (about a second)."""
    return {name: (make(), accepted) for name, (make, accepted) in _CASES.items()}
