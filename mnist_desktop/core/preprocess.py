"""Turn a drawing into what the models were trained on, the way MNIST itself was made. Qt-free.

MNIST digits were scaled (keeping their aspect ratio, anti-aliased) so their bounding box fits 20x20, then
placed in a 28x28 frame with their centre of mass at the centre. Doing the same to a drawing is what makes
a model trained on MNIST recognise it. A picture drawn with a pen thinner than MNIST's, whose strokes would
shrink to faint hairlines, is traced to its centre lines and drawn as a drawing is, with MNIST's pen; a
bolder pen's strokes are thinned to MNIST's pen where they can be measured (to_mnist): a fine pen's digit
and a marker's, small in a corner or filling the picture, reach the models like the same digit drawn.
"""
from __future__ import annotations

import os

import numpy as np

from trainer.errors import ImageError
from trainer.images import decode_image, to_uint8
from trainer.iterations import MNIST_SIDE

from .raster import grey_levels, grown, ink_box, resized
from .render import DIGIT_BOX, STROKE_WIDTH, render_strokes, stroke_width
from .trace import trace

MIN_INK = 16  # brightest pixel (0-255) below this: the canvas is blank
MIN_EXTENT = 0.06  # a bounding box whose longer side is under this fraction of the image is a speck

# An opened picture's pen is measured with the digit's longer side at most WORK_BOX pixels (a larger digit is
# shrunk to it first: 6 times the 20-pixel box, so a 2-pixel pen on a 280 canvas still shows). Pen strokes
# thinner than MNIST's are traced to their centre lines (thin_pen); others are grown or thinned to MNIST's pen
# (with_mnist_pen).
WORK_BOX = 6 * DIGIT_BOX
MIN_PEN_BOX = 2 * DIGIT_BOX  # a smaller digit keeps its pen: its strokes are a pixel or two, not measurable
# Measured with render.stroke_width on MNIST's training digits, relative to the longer side of the box:
# width 0.119 (median), 0.064 (0.1th percentile), 0.214 (99th); length (ink over width) at most 3.8.
THIN_PEN = 0.064  # thinner strokes shrink to faint hairlines in the 20-pixel box: they are traced
MAX_PEN_WIDTH = 0.25  # a 3:1 filled bar measures 0.25, a disc 0.5: wider is a blob. Below the verdict's blob
#                       limit (5.71 px of 20, 0.29), so nothing it would call a blob is thinned into strokes.
MAX_PEN_LENGTH = 4.5  # longer is noise, a texture, a page of speckles
PEN_TOLERANCE = 1.0  # px in the 20-pixel box: strokes must then measure the pen within this (MNIST: 1.6-3.6)
# A photo's grey fields: pen strokes have their ink within FIELD_MARGIN pixels (at work) of their bright core
# (above half the peak); more than MAX_FIELD_INK of the ink farther out is shading, not a pen's edge.
FIELD_MARGIN = 3
MAX_FIELD_INK = 0.1


def pen_measures(digit: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``digit`` (a picture cut to its ink, uint8 or float32) with its longer side at most WORK_BOX and its
    peak 1, and its strokes' width (render.stroke_width's: ink over half the outline) and length (ink over
    width) there, in pixels."""
    work = resized(digit, WORK_BOX) if max(digit.shape) > WORK_BOX else digit.astype(np.float32)
    work = work / work.max()
    width = float(stroke_width(np.pad(work, 1)))  # padded: the crop's ink touches its edges, which are outline
    return work, width, float(work.sum()) / max(width, 1e-6)  # a stroke's ink is its width times its length


def thin_pen(digit: np.ndarray) -> bool:
    """Whether ``digit`` (a picture cut to its ink) is pen strokes thinner than MNIST's (pen_measures): width
    under THIN_PEN of the longer side L, length at most MAX_PEN_LENGTH of L (longer: noise, a texture), and
    at most MAX_FIELD_INK of the ink FIELD_MARGIN pixels or more from the bright core (more: a photo's
    shading)."""
    work, width, length = pen_measures(digit)
    longer_side = max(work.shape)
    inner = slice(FIELD_MARGIN + 1, -FIELD_MARGIN - 1)  # grown pads by that much
    near = grown((work > 0.5).astype(np.float32), FIELD_MARGIN)[inner, inner] > 0
    field = float(work[~near].sum() / work.sum())
    return width < THIN_PEN * longer_side and length <= MAX_PEN_LENGTH * longer_side and field <= MAX_FIELD_INK


def cropped(image: np.ndarray) -> np.ndarray:
    """``image`` cut to its ink (see ink_box)."""
    return image[ink_box(image, float(image.max()))]


def with_mnist_pen(digit: np.ndarray) -> np.ndarray:
    """``digit`` (a picture cropped to its ink, uint8 or float32) with its strokes grown or thinned so that,
    scaled to the 20-pixel box, they measure MNIST's pen (render.STROKE_WIDTH); as it is where the ink is
    not pen strokes whose width can be measured.

    Width is render.stroke_width's (ink over half the outline), length the ink over the width, both measured
    with the longer side L at most WORK_BOX. Pen strokes are changed when their width is at most
    MAX_PEN_WIDTH of L (wider: a filled blob, a photo's patches, which the verdict must still see as such)
    and their length at most MAX_PEN_LENGTH of L, and kept changed only if they then measure the pen within
    PEN_TOLERANCE; a digit under MIN_PEN_BOX pixels is left as it is. Growing by g adds 2g to the width and
    to the box, so the width w becomes the pen's share rho of the box when w + 2g = rho (L + 2g)."""
    if max(digit.shape) < MIN_PEN_BOX:
        return digit
    work, width, length = pen_measures(digit)
    longer_side = max(work.shape)
    if width > MAX_PEN_WIDTH * longer_side or length > MAX_PEN_LENGTH * longer_side:
        return digit
    rho = STROKE_WIDTH / DIGIT_BOX

    def in_the_box(image: np.ndarray) -> float:
        """The stroke width ``image`` (cropped) measures once scaled to the 20-pixel box, as MNIST's was."""
        return float(stroke_width(np.pad(resized(image, DIGIT_BOX), 1)))

    # At this resolution jagged edges and pinholes of a binary picture make strokes measure thinner; in the
    # 20-pixel box, anti-aliased like MNIST, thin strokes saturate at about a pixel. Both err low: take the
    # larger.
    width = max(width, in_the_box(work) * longer_side / DIGIT_BOX)
    thinnest = -width / 4  # thinned, a stroke keeps half its width: its thinner parts must not vanish

    def with_change(change: float) -> tuple[np.ndarray, float]:
        """The strokes grown by ``change`` pixels (thinned if negative), cropped, and their width in the box."""
        image = grown(work, max(change, thinnest))
        if not image.max() > 0:  # nothing left: no width
            return digit, float("inf")
        image = cropped(image)
        return image, in_the_box(image)

    change = (rho * longer_side - width) / (2 * (1 - rho))
    result, measured = with_change(change)
    if abs(measured - STROKE_WIDTH) > 0.1 * STROKE_WIDTH:  # the guess missed: once more, from what it measured
        change += (STROKE_WIDTH - measured) * max(result.shape) / DIGIT_BOX / (2 * (1 - rho))
        result, measured = with_change(change)
    # Pen strokes now measure the pen; ink that did not follow (a photo's grey field) is left as it was.
    return result if abs(measured - STROKE_WIDTH) <= PEN_TOLERANCE else digit


def to_mnist(gray: np.ndarray) -> np.ndarray | None:
    """2-D grey image (see grey_levels), ink bright on dark, any size -> float32 [28, 28] in [0, 1], or None
    if no digit. Strokes of a pen thinner than MNIST's (thin_pen), which would shrink to faint hairlines, are
    traced to their centre lines and rendered as a drawing is (trace.py, render.render_strokes), with MNIST's
    pen; other pictures are scaled as MNIST's scans were (raster_to_mnist), their strokes grown or thinned
    to MNIST's pen where they can be measured (with_mnist_pen), and blobs, photos and noise as they are, so
    that the verdict sees them for what they are."""
    gray = grey_levels(gray)
    peak = int(gray.max(initial=0))
    if peak < MIN_INK:
        return None
    digit = gray[ink_box(gray, peak)]
    if max(digit.shape) < MIN_EXTENT * max(gray.shape):
        return None
    if thin_pen(digit):
        drawing = trace(digit)
        if drawing is not None:
            return render_strokes(drawing)
    return raster_to_mnist(with_mnist_pen(digit))


def raster_to_mnist(digit: np.ndarray) -> np.ndarray:
    """A picture cut to its ink (uint8 or float32) -> float32 [28, 28] in [0, 1], as MNIST was made from its
    scans: scaled so that its longer side is 20 pixels, centre of mass at the centre."""
    small = resized(digit, DIGIT_BOX)
    small = np.clip(small / small.max(), 0.0, 1.0)
    # Put the centre of mass at the frame's centre, shifting by whole pixels as MNIST did.
    ys, xs = np.indices(small.shape)
    mass = small.sum()
    com_y, com_x = (ys * small).sum() / mass, (xs * small).sum() / mass
    h, w = small.shape
    y0 = int(np.clip(round(MNIST_SIDE / 2 - com_y), 0, MNIST_SIDE - h))
    x0 = int(np.clip(round(MNIST_SIDE / 2 - com_x), 0, MNIST_SIDE - w))
    frame = np.zeros((MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    frame[y0:y0 + h, x0:x0 + w] = small
    return frame


def bright_on_dark(gray: np.ndarray) -> np.ndarray:
    """Invert a uint8 image whose border is mostly light (dark ink on paper), so ink is bright."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255 - gray if np.median(border) > 127 else gray


def load_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as a 2-D uint8 array with bright ink on dark (read by trainer.images.decode_image: only a
    regular file, pixels counted before decoding, upright, 16-bit and float scaled); ImageError if it cannot
    be read."""
    try:
        gray = to_uint8(decode_image(path))
    except ImageError as e:
        raise ImageError(f"{e} Choose a PNG or JPG of a single digit.") from e
    if gray.size == 0 or min(gray.shape) < 2:
        raise ImageError(f"{os.fspath(path)} is too small to hold a digit.")
    return bright_on_dark(gray)
