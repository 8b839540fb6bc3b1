"""Turn a drawing into what the models were trained on, the way MNIST itself was made. Qt-free.

MNIST digits were scaled (keeping their aspect ratio, anti-aliased) so their bounding box fits 20x20, then
placed in a 28x28 frame with their centre of mass at the centre. Doing the same to a drawing is what makes
a model trained on MNIST recognise it.
"""
from __future__ import annotations

import os
import stat
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps

from trainer.errors import MnistDesktopError

DIGIT_BOX = 20  # longer side of the digit's bounding box, in pixels
FRAME = 28
INK_LEVEL = 0.2  # a pixel is ink above this fraction of the brightest pixel
MIN_INK = 16  # brightest pixel (0-255) below this: the canvas is blank
MIN_EXTENT = 0.06  # a bounding box whose longer side is under this fraction of the image is a speck
MAX_PIXELS = 40_000_000  # 40 MP: any photo of a digit; checked from the header, before anything is decoded


class ImageError(MnistDesktopError):
    """An image file cannot be read as a digit."""


def grey_levels(gray: object) -> np.ndarray:
    """``gray`` as a 2-D uint8 array, or ImageError saying why it is not a grey image.

    Conversions: bool -> 0 or 255; integers within 0-255 as they are; floats within 0-1 scaled to 0-255.
    Anything else (NaN, values out of range, other dtypes, other shapes) is refused.
    """
    if not isinstance(gray, np.ndarray):
        raise ImageError(f"A grey image must be a NumPy array, not a {type(gray).__name__}.")
    if gray.ndim != 2:
        raise ImageError(f"A grey image must have two dimensions (rows, columns), not the shape {gray.shape}.")
    if gray.size > MAX_PIXELS:
        raise ImageError(f"A grey image of {gray.size:,} pixels is too large; at most {MAX_PIXELS:,} are read.")
    if gray.dtype == np.uint8:
        return gray
    if gray.dtype == np.bool_:
        return gray.astype(np.uint8) * 255
    if gray.size == 0:
        return gray.astype(np.uint8)
    if np.issubdtype(gray.dtype, np.integer):
        if gray.min() < 0 or gray.max() > 255:
            raise ImageError(f"Integer grey levels must be within 0-255, not {gray.min()}-{gray.max()}.")
        return gray.astype(np.uint8)
    if np.issubdtype(gray.dtype, np.floating):
        if not np.isfinite(gray).all():
            raise ImageError("A grey image must not contain NaN or infinite values.")
        if gray.min() < 0 or gray.max() > 1:
            raise ImageError(f"Floating-point grey levels must be within 0-1, not {gray.min():g}-{gray.max():g}.")
        return np.rint(gray * 255).astype(np.uint8)
    raise ImageError(f"Pixels of type {gray.dtype} are not grey levels; use uint8 (0-255) or floats (0-1).")


def to_mnist(gray: np.ndarray) -> np.ndarray | None:
    """2-D grey image (see grey_levels), ink bright on dark, any size -> float32 [28, 28] in [0, 1], or None
    if no digit."""
    gray = grey_levels(gray)
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


def _too_large(path: str | os.PathLike, size: tuple[int, int] | None = None) -> ImageError:
    dimensions = f" ({size[0]:,} x {size[1]:,} pixels)" if size else ""
    return ImageError(f"{os.fspath(path)} is too large{dimensions}: images up to {MAX_PIXELS // 1_000_000} "
                      "megapixels are read. Choose a smaller picture or crop it.")


def load_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as a 2-D uint8 array with bright ink on dark, upright as its EXIF orientation says;
    ImageError if it cannot be read. Only a regular file is opened, and its pixel count is checked from the
    header before anything is decoded."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ImageError(f"{os.fspath(path)} is not a regular file (a folder, pipe or device), so it was not "
                             "opened. Choose a PNG or JPG of a single digit.")
    except OSError as e:
        raise ImageError(f"{os.fspath(path)} cannot be opened ({e.strerror}). Choose a PNG or JPG of a single "
                         "digit.") from e
    try:
        # Pillow warns between 89 and 179 MP and raises above: both are refused, like anything above MAX_PIXELS.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image_file = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise _too_large(path) from e
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as e:  # what damaged headers raise
        raise ImageError(f"{os.fspath(path)} cannot be opened as an image ({e}). "
                         "Choose a PNG or JPG of a single digit.") from e
    with image_file as image:
        if image.width * image.height > MAX_PIXELS:
            raise _too_large(path, image.size)
        try:
            image.load()
            image = ImageOps.exif_transpose(image)  # a photo taken sideways reads as it was shown
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Transparent pixels are paper: flatten onto white before going grey.
                rgba = image.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, "white")
                image = Image.alpha_composite(paper, rgba)
            gray = np.asarray(image.convert("L"))
        except (OSError, ValueError, SyntaxError, struct.error, EOFError, IndexError) as e:  # damaged data
            raise ImageError(f"{os.fspath(path)} cannot be read as an image ({e}). "
                             "Choose a PNG or JPG of a single digit.") from e
    if gray.size == 0 or min(gray.shape) < 2:
        raise ImageError(f"{os.fspath(path)} is too small to hold a digit.")
    return bright_on_dark(gray)
