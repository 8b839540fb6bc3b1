"""Grey pictures as arrays: checked (grey_levels), cut to their ink (ink_box), scaled (resized), and their
strokes grown or thinned (grown). Qt-free. What preprocess (a picture -> what the models see) and trace (a
picture -> its strokes) both do to a picture.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from trainer.errors import ImageError
from trainer.images import MAX_PIXELS

INK_LEVEL = 0.2  # a pixel is ink above this fraction of the brightest pixel


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


def ink_box(image: np.ndarray, peak: float) -> tuple[slice, slice]:
    """The rows and columns holding ink (above INK_LEVEL of ``peak``)."""
    ink = image > peak * INK_LEVEL
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def resized(image: np.ndarray, longer_side: int) -> np.ndarray:
    """``image`` (uint8 or float32) scaled, aspect ratio kept, so that its longer side is ``longer_side``
    pixels, as float32."""
    height, width = image.shape
    scale = longer_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # BOX averages the source pixels under each target pixel: the area filter for shrinking. A photo shrunk
    # 16 times or more is first reduced by whole blocks while it stays 8 times larger (reducing_gap): ten
    # times faster, within a grey level of the exact average; anything smaller is averaged exactly.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    picture = Image.fromarray(image).convert("F")  # from uint8 in C: a photo is not copied through NumPy
    return np.asarray(picture.resize(size, resample, reducing_gap=8.0), dtype=np.float32)


def grown(image: np.ndarray, steps: float) -> np.ndarray:
    """Grey dilation (``steps`` > 0) or erosion (< 0) by a disc of radius |steps| pixels, approximated by
    alternating 3x3 squares and crosses (an octagon, so slanted strokes grow as much as upright ones); a
    fractional step blends the two nearest whole ones, which moves anti-aliased edges by a fraction."""
    pick = np.maximum if steps > 0 else np.minimum
    whole, fraction = divmod(abs(steps), 1.0)
    count = int(whole) + (fraction > 0)
    # Outside is background: room to grow into, or what erodes the edges. The frame stays 0.
    image = np.pad(image, count + 1 if steps > 0 else 1)
    previous = image
    for step in range(count):
        previous, image = image, image.copy()
        inner = image[1:-1, 1:-1]
        if step % 2 == 0:  # the 3x3 square, as a column of 3 then a row of 3
            column = pick(previous[:-2], previous[1:-1])
            pick(column, previous[2:], out=column)
            pick(column[:, :-2], column[:, 1:-1], out=inner)
            pick(inner, column[:, 2:], out=inner)
        else:  # the cross
            pick(previous[:-2, 1:-1], previous[2:, 1:-1], out=inner)
            pick(inner, previous[1:-1, :-2], out=inner)
            pick(inner, previous[1:-1, 2:], out=inner)
            pick(inner, previous[1:-1, 1:-1], out=inner)
    if fraction > 0:
        image = (1 - fraction) * previous + fraction * image
    return image
