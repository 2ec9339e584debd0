"""The objects and backgrounds a student can choose, by name.

Photos and textures are small PNGs under `assets/` (see `assets/LICENSES.md`); the star and
the plain backgrounds are made here. Everything returns a new image, so callers may modify it.
"""

from math import cos, pi, sin
from pathlib import Path
from types import MappingProxyType

from PIL import Image, ImageDraw, ImageOps

from locales import N_
from scene.compose import CANVAS_SIZES

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# The names are stable values (in links, file names, caches): marked with N_, translated where shown.
# TRANSLATORS: the objects a student drags: a photo of a cat, of a cup of coffee, and a drawn star
OBJECTS: tuple[str, ...] = (N_("cat"), N_("coffee"), N_("star"))  # display order; "star" is synthetic
# TRANSLATORS: the backgrounds of the canvas: plain black, plain grey (ImageNet's mean colour), a brick wall, grass
BACKGROUNDS: tuple[str, ...] = (N_("black"), N_("imagenet grey"), N_("brick"), N_("grass"))
MIN_OBJECT_SIZE = 16
OBJECT_SIZES: tuple[int, ...] = tuple(range(32, 161, 8))  # the sizes a student can choose for a photo object

# The ImageNet mean (0.485, 0.456, 0.406) as 8-bit RGB: after the usual normalisation this
# colour becomes zero, the "nothing here" input (Azulay & Weiss embed images on it).
IMAGENET_MEAN_RGB = (124, 116, 104)

_PLAIN_COLOURS = MappingProxyType({"black": (0, 0, 0), "imagenet grey": IMAGENET_MEAN_RGB})
# The textures are greyscale photos; each is coloured as what it shows, its dark, middle and light greys mapped to
# these colours (ImageOps.colorize): shadowed to sunlit grass; dark brick, brick red, pale mortar.
_TINTS = MappingProxyType(
    {
        "grass": ((18, 40, 8), (72, 128, 36), (196, 222, 120)),
        "brick": ((52, 20, 14), (150, 62, 40), (214, 200, 182)),
    }
)

_STAR_FILL = (255, 190, 20, 255)
_STAR_OUTLINE = (90, 40, 0, 255)
_SUPERSAMPLE = 4  # draw the star this many times larger, then shrink: cheap antialiasing


def _check_name(name: str, valid: tuple[str, ...], kind: str) -> None:
    if name not in valid:
        raise ValueError(f"unknown {kind} {name!r}; choose one of {', '.join(valid)}")


def load_object(name: str, size: int) -> Image.Image:
    """RGBA sprite, size x size: a photo (opaque) or the synthetic star (transparent around)."""
    _check_name(name, OBJECTS, "object")
    if not MIN_OBJECT_SIZE <= size <= max(CANVAS_SIZES):
        raise ValueError(f"object size must be {MIN_OBJECT_SIZE}..{max(CANVAS_SIZES)}, got {size}")
    if name == "star":
        return _draw_star(size)
    with Image.open(ASSETS / "objects" / f"{name}.png") as photo:
        return photo.convert("RGB").resize((size, size), Image.Resampling.LANCZOS).convert("RGBA")


def _draw_star(size: int) -> Image.Image:
    """A five-pointed star with a dark outline, on a transparent square, pointing up."""
    big = size * _SUPERSAMPLE
    outline = big // 24
    outer = 0.49 * big - outline / 2  # the outline is centred on the edges: leave room for its outer half
    inner = outer * sin(pi / 10) / sin(3 * pi / 10)  # the regular star's inner radius
    # Top point is at -outer, bottom points at +outer*cos(36°): shift down to centre the star.
    cx, cy = big / 2, big / 2 + outer * (1 - cos(pi / 5)) / 2
    radii = [outer, inner] * 5  # tips and notches alternate, every 36 degrees
    points = [(cx + r * sin(k * pi / 5), cy - r * cos(k * pi / 5)) for k, r in enumerate(radii)]
    star = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(star)
    draw.polygon(points, fill=_STAR_FILL)
    # A line with rounded joints, once round plus one edge so the top tip is a joint too:
    # polygon(width=...) would leave notches at the inner corners.
    draw.line([*points, *points[:2]], fill=_STAR_OUTLINE, width=outline, joint="curve")
    return star.resize((size, size), Image.Resampling.LANCZOS)


def make_background(name: str, canvas: int) -> Image.Image:
    """RGB canvas x canvas: black, the ImageNet mean grey, or a texture fitted to the canvas, in its colours."""
    _check_name(name, BACKGROUNDS, "background")
    if name in _PLAIN_COLOURS:
        return Image.new("RGB", (canvas, canvas), _PLAIN_COLOURS[name])
    with Image.open(ASSETS / "backgrounds" / f"{name}.png") as texture:
        dark, middle, light = _TINTS[name]
        fitted = ImageOps.fit(texture, (canvas, canvas), Image.Resampling.LANCZOS)
        return ImageOps.colorize(fitted, black=dark, white=light, mid=middle)
