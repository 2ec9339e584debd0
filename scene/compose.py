"""Put an object on a canvas: the one image operation every probe in the app starts from.

Positions are the object's centre in pixels, (x, y) = (column, row). For a sprite of
size (w, h) its top-left corner is at (x - w // 2, y - h // 2), so for even sizes the
"centre" is the pixel just right of and below the geometric centre.
"""

import numpy as np
import torch
from PIL import Image

CANVAS_SIZES: tuple[int, ...] = (224, 320, 448)


def clamp_position(x: int, y: int, canvas: int) -> tuple[int, int]:
    """Clamp the object's centre to the canvas, 0..canvas-1 on each axis.

    Only the centre is kept inside, so the object may partly leave the canvas: that is how a
    student sees what the network does with an object cut off at the border.
    """
    return min(max(x, 0), canvas - 1), min(max(y, 0), canvas - 1)


def compose(background: Image.Image, sprite: Image.Image, x: int, y: int) -> Image.Image:
    """New RGB image: `sprite` pasted with its alpha onto a copy of the square `background`.

    The sprite's centre goes to (x, y) after clamping, i.e. its top-left corner to
    (x - w // 2, y - h // 2); parts outside the canvas are cut off (Pillow's `paste` clips at
    the borders). Inputs are not modified.
    """
    if background.width != background.height:
        raise ValueError(f"background must be square, got {background.size}")
    x, y = clamp_position(x, y, background.width)
    scene = background.convert("RGB")  # convert always returns a new image
    rgba = sprite.convert("RGBA")
    scene.paste(rgba, (x - rgba.width // 2, y - rgba.height // 2), mask=rgba)
    return scene


def to_tensor(image: Image.Image) -> torch.Tensor:
    """(3, H, W) float32 in [0, 1]: the image as a network sees it before normalisation."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255  # (H, W, 3)
    return torch.from_numpy(pixels).permute(2, 0, 1).contiguous()  # (3, H, W)


def composed_batch(background: Image.Image, sprite: Image.Image, x: int, y: int) -> torch.Tensor:
    """compose(...) as a batch of one for a network: (1, 3, H, W) in [0, 1]."""
    return to_tensor(compose(background, sprite, x, y))[None]
