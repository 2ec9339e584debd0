"""scene/upload.py: every file of the generated corpus is made into a square RGBA sprite or refused
in plain words; pixels land where they must (alpha, first frame, EXIF rotation, 16-bit and CMYK
colours); bombs are refused from the header alone; arbitrary bytes raise nothing but UnreadableImage.
"""

import contextlib
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from scene.upload import MAX_ASPECT, MAX_SIDE, MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, UnreadableImage, read_object
from tests.plain_words import technical_text
from tests.upload_corpus import BLUE, GREEN, RED, encode, half_transparent, upload_corpus

REPO = Path(__file__).resolve().parents[1]
CORPUS = upload_corpus()
ACCEPTED = [name for name, (_, accepted) in CORPUS.items() if accepted]

# What each refusal must say (a phrase of its message), so a student learns what was wrong.
REFUSALS = {
    "png-1x1": "at least 8 pixels on each side",
    "png-1000x10-aspect-100": f"at most {MAX_ASPECT:g} times",
    "png-bomb-20000x20000": f"at most {MAX_UPLOAD_PIXELS // 1_000_000} million pixels",
    "png-7000x7000-over-our-limit": "7000 × 7000 pixels, too large to open safely",
    "png-over-5mb": "up to 5 MB",
    "png-truncated": "damaged or incomplete",
    "jpeg-truncated": "damaged or incomplete",
    "random-bytes-named-png": "not a picture that Shift Lab can read",
    "text": "not a picture that Shift Lab can read",
    "empty": "The file is empty",
    "bmp": "This is a BMP picture",
    "tiff": "This is a TIFF picture",
    "png-fully-transparent": "completely transparent",
}
JARGON = ("Traceback", "Error", "PIL", "Pillow", "errno", "identify", "decoder", "IHDR", "DecompressionBomb")


def sprite(name: str) -> np.ndarray:
    return np.asarray(read_object(CORPUS[name][0]))  # (H, W, 4)


def test_every_refused_case_has_an_expected_message() -> None:
    assert set(REFUSALS) == {name for name, (_, accepted) in CORPUS.items() if not accepted}


@pytest.mark.parametrize("name", list(CORPUS))
def test_each_upload_becomes_a_square_rgba_sprite_or_is_refused_in_plain_words(name: str) -> None:
    data, accepted = CORPUS[name]
    if accepted:
        image = read_object(data)
        assert image.mode == "RGBA" and image.width == image.height <= MAX_SIDE
        return
    with pytest.raises(UnreadableImage) as caught:
        read_object(data)
    message = str(caught.value)
    assert REFUSALS[name] in message
    assert not any(word in message for word in JARGON) and not technical_text(message), message


def test_alpha_is_kept_and_the_padding_is_transparent() -> None:
    for name in ("png-rgba", "webp-lossy-alpha"):  # 64 × 48: left half transparent, right half red; padded to 64 × 64
        pixels = sprite(name)
        assert pixels.shape == (64, 64, 4)
        assert pixels[32, 5, 3] == 0, name  # transparent in the file
        assert pixels[32, 60, 3] == 255 and pixels[32, 60, 0] > 200, name  # opaque red
        assert pixels[:8, :, 3].max() == 0 and pixels[56:, :, 3].max() == 0, name  # 8 rows of padding above and below


def test_an_opaque_photo_is_opaque_and_only_its_padding_is_transparent() -> None:
    alpha = sprite("jpeg")[:, :, 3]  # 60 × 30 → 60 × 60, 15 rows of padding above and below
    assert (alpha[15:45] == 255).all() and alpha[:15].max() == 0 and alpha[45:].max() == 0


def test_an_animated_gif_gives_its_first_frame() -> None:
    assert (sprite("gif-animated") == (*RED, 255)).all()  # frame 1 is blue


def test_an_exif_rotated_photo_is_turned_upright() -> None:
    pixels = sprite("jpeg-exif-rotated")  # stored 60 × 30 red | blue, tag 6: upright 30 × 60, red above blue
    assert (pixels[:, 15:45, 3] == 255).all() and pixels[:, :15, 3].max() == 0 and pixels[:, 45:, 3].max() == 0
    top, bottom = pixels[5, 30, :3].astype(int), pixels[55, 30, :3].astype(int)
    assert np.abs(top - RED).max() < 40 and np.abs(bottom - BLUE).max() < 40


@pytest.mark.parametrize(
    "name, rgba",
    [
        ("jpeg-cmyk", (*RED, 255)),  # CMYK (0, 255, 255, 0) is red
        ("png-16bit-grey", (128, 128, 128, 255)),  # 32896 / 257: scaled, not clipped to white
        ("png-grey", (128, 128, 128, 255)),
        ("png-1bit", (255, 255, 255, 255)),
        ("jpeg-mpo", (*RED, 255)),  # the first view
    ],
)
def test_other_modes_become_the_same_colour_in_rgba(name: str, rgba: tuple[int, int, int, int]) -> None:
    assert np.abs(sprite(name).astype(int) - rgba).max() <= 2


@pytest.mark.parametrize("name, inside", [("png-palette-transparent", (*GREEN, 255)), ("png-la", (50, 50, 50, 255))])
def test_a_transparent_colour_or_grey_alpha_stays_transparent(name: str, inside: tuple[int, int, int, int]) -> None:
    pixels = sprite(name)  # 32 × 32: a square 8..23 inside, transparent around
    assert pixels[0, 0, 3] == 0 and tuple(pixels[16, 16]) == inside


def test_a_large_picture_is_scaled_down_with_its_aspect_kept() -> None:
    alpha = sprite("png-1000x800-downscaled")[:, :, 3]  # 1000 × 800 → 448 × 358, padded with 45 rows above
    assert alpha.shape == (MAX_SIDE, MAX_SIDE)
    assert (alpha[45:403] == 255).all() and alpha[:45].max() == 0 and alpha[403:].max() == 0


def test_the_thinnest_accepted_picture_keeps_its_width() -> None:
    alpha = sprite("png-8x64-aspect-8")[:, :, 3]  # 8 × 64, padded to 64 × 64 with 28 columns each side
    assert (alpha[:, 28:36] == 255).all() and alpha[:, :28].max() == 0 and alpha[:, 36:].max() == 0


def test_a_file_of_exactly_the_size_limit_is_accepted() -> None:
    png = encode(half_transparent(), "PNG")
    assert read_object(png + bytes(MAX_UPLOAD_BYTES - len(png))).size == (64, 64)  # Pillow ignores bytes after IEND


@pytest.mark.parametrize("name", ["png-bomb-20000x20000", "png-7000x7000-over-our-limit"])
def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[str] = []
    get_decoder = Image._getdecoder

    def spy(mode: str, decoder_name: str, *args: object) -> object:
        decoded.append(decoder_name)
        return get_decoder(mode, decoder_name, *args)

    monkeypatch.setattr(Image, "_getdecoder", spy)
    read_object(CORPUS["png-rgba"][0])
    assert decoded == ["zip"]  # the spy sees decoding
    decoded.clear()
    start = time.perf_counter()
    with pytest.raises(UnreadableImage):
        read_object(CORPUS[name][0])
    assert decoded == [] and time.perf_counter() - start < 1.0


def test_reading_leaves_pillows_process_wide_settings_alone() -> None:
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    for data, _ in CORPUS.values():
        with contextlib.suppress(UnreadableImage):
            read_object(data)
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters)) == before
    assert MAX_UPLOAD_PIXELS < Image.MAX_IMAGE_PIXELS  # our limit refuses before Pillow would even warn


def read_or_refuse(data: bytes) -> None:
    """read_object's whole contract for any bytes: a valid sprite, or UnreadableImage in plain words (any
    other exception fails)."""
    try:
        image = read_object(data)
    except UnreadableImage as refusal:
        assert str(refusal) and not technical_text(str(refusal)), str(refusal)
        return
    assert image.mode == "RGBA" and image.width == image.height <= MAX_SIDE


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_nothing_but_unreadable_image(data: bytes) -> None:
    read_or_refuse(data)


@pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file")  # Pillow then reads it as a JPEG
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(ACCEPTED),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(min_value=1),
)
def test_damaged_pictures_raise_nothing_but_unreadable_image(
    name: str, edits: list[tuple[int, int]], keep: int
) -> None:
    """Real files of every accepted format with a few bytes overwritten and perhaps cut short:
    these reach far deeper into the decoders than random bytes do."""
    data = bytearray(CORPUS[name][0])
    for offset, value in edits:
        data[offset % len(data)] = value
    read_or_refuse(bytes(data[: max(1, keep % (len(data) + 1))]))


def test_upload_does_not_import_streamlit() -> None:
    code = "import sys, scene.upload; assert 'streamlit' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
