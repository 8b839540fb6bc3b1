"""Turn a drawing into what the models were trained on, the way MNIST itself was made. Qt-free.

MNIST digits were scaled (keeping their aspect ratio, anti-aliased) so their bounding box fits 20x20, then
placed in a 28x28 frame with their centre of mass at the centre. Doing the same to a drawing is what makes
a model trained on MNIST recognise it.
"""
from __future__ import annotations

import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from trainer.errors import MnistDesktopError

DIGIT_BOX = 20  # longer side of the digit's bounding box, in pixels
FRAME = 28
INK_LEVEL = 0.2  # a pixel is ink above this fraction of the brightest pixel
MIN_INK = 16  # brightest pixel (0-255) below this: the canvas is blank
MIN_EXTENT = 0.06  # a bounding box whose longer side is under this fraction of the image is a speck


class ImageError(MnistDesktopError):
    """An image file cannot be read as a digit."""


def to_mnist(gray: np.ndarray) -> np.ndarray | None:
    """2-D uint8 image, ink bright on dark, any size -> float32 [28, 28] in [0, 1], or None if no digit."""
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {gray.shape}")
    peak = int(gray.max(initial=0))
    if peak < MIN_INK:
        return None
    rows, cols = np.nonzero(gray > peak * INK_LEVEL)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    height, width = bottom - top, right - left
    if max(height, width) < MIN_EXTENT * max(gray.shape):
        return None
    digit = gray[top:bottom, left:right].astype(np.float32)
    scale = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # BOX averages the source pixels under each target pixel: the area filter for shrinking.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(digit, mode="F").resize(size, resample), dtype=np.float32)
    small = np.clip(small / small.max(), 0.0, 1.0)
    # Put the centre of mass at the frame's centre, shifting by whole pixels as MNIST did.
    ys, xs = np.indices(small.shape)
    mass = small.sum()
    com_y, com_x = (ys * small).sum() / mass, (xs * small).sum() / mass
    h, w = small.shape
    y0 = int(np.clip(round(FRAME / 2 - com_y), 0, FRAME - h))
    x0 = int(np.clip(round(FRAME / 2 - com_x), 0, FRAME - w))
    frame = np.zeros((FRAME, FRAME), dtype=np.float32)
    frame[y0:y0 + h, x0:x0 + w] = small
    return frame


def bright_on_dark(gray: np.ndarray) -> np.ndarray:
    """Invert a uint8 image whose border is mostly light (dark ink on paper), so ink is bright."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255 - gray if np.median(border) > 127 else gray


def load_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as a 2-D uint8 array with bright ink on dark; ImageError if it cannot be read."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Transparent pixels are paper: flatten onto white before going grey.
                rgba = image.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, "white")
                image = Image.alpha_composite(paper, rgba)
            gray = np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise ImageError(f"{os.fspath(path)} cannot be opened as an image ({e}). "
                         "Choose a PNG or JPG of a single digit.") from e
    if gray.size == 0 or min(gray.shape) < 2:
        raise ImageError(f"{os.fspath(path)} is too small to hold a digit.")
    return bright_on_dark(gray)
