"""The image the models see, rendered from the drawing's vector strokes. Qt-free.

MNIST's digits have strokes about as wide, relative to the digit, whatever pen wrote them: their 20-pixel
box holds a stroke STROKE_WIDTH pixels wide (measured on the 60k training images with ``stroke_width``:
median 2.36 px, 5-95% 1.6-3.6 px, i.e. 0.118 of the digit's longer side). Scaling a drawing's pixels to that
box scales its brush too: a small digit drawn with a wide brush becomes a blob. So the strokes are scaled as
lines (their centre lines fill the box) and drawn with MNIST's pen; the brush on screen stops mattering.

Drawn with PIL on a canvas SUPERSAMPLE times finer, then box-averaged to 28x28: anti-aliased like MNIST.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from trainer.iterations import MNIST_SIDE

from .strokes import CANVAS_SIDE, Drawing, Stroke

DIGIT_BOX = 20  # MNIST's digits were scaled to fit a box this many pixels on its longer side
STROKE_WIDTH = 2.4  # pen width in 28x28 pixels; rendered digits then measure MNIST's median 2.36 (module doc)
SUPERSAMPLE = 4
SPECK_EXTENT = 0.04  # centre lines shorter than this (canvas units) and than the brush: a speck or a dot


def stroke_width(images: np.ndarray) -> np.ndarray:
    """Mean stroke width in pixels of grey images [..., H, W] in [0, 1]: twice the ink over the length of the
    ink's outline (a stroke of width w and length L has ink w*L and outline 2L). The outline's length is the
    total variation, so grey anti-aliased edges count as they should (the coarea formula)."""
    dy = np.diff(images, axis=-2, append=0)
    dx = np.diff(images, axis=-1, append=0)
    outline = np.sqrt(dx * dx + dy * dy).sum((-2, -1))
    return 2 * images.sum((-2, -1)) / np.maximum(outline, 1e-6)


def ink_strokes(drawing: Drawing) -> list[Stroke]:
    return [s for s in drawing.strokes if not s.eraser]


def centre_line_extent(drawing: Drawing) -> float:
    """The longer side of the box around the ink strokes' centre lines, in canvas units (0 for no strokes)."""
    strokes = ink_strokes(drawing)
    if not strokes:
        return 0.0
    points = np.concatenate([s.xy for s in strokes])
    return float((points.max(0) - points.min(0)).max())


def is_speck(drawing: Drawing) -> bool:
    """A dot or a tiny scribble: its centre lines are shorter than the brush, or than SPECK_EXTENT."""
    strokes = ink_strokes(drawing)
    brush = float(np.median([s.width for s in strokes]))
    return centre_line_extent(drawing) < max(SPECK_EXTENT, brush)


def thinned(xy: np.ndarray, step: float) -> np.ndarray:
    """[N, 2] points -> the first point in each ``step`` of length along the line, and the last. A mouse gives
    a point every pixel or so and PIL's round joins cost per point; a chord of one step on a curve of radius
    r strays step^2 / 8r from it, so a step of one MNIST pixel changes nothing the models can see."""
    along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    _, first = np.unique(np.floor(along / step), return_index=True)
    return xy[np.r_[first, len(xy) - 1] if first[-1] != len(xy) - 1 else first]


def draw_stroke(draw: ImageDraw.ImageDraw, xy: np.ndarray, width: float, eraser: bool, step: float) -> None:
    """One stroke ([N, 2] points in the image's pixels) with round joins and caps, white ink or black eraser.
    The joins are what PIL's own joint="curve" draws, a disc of the line's width less a pixel each side on
    lines wider than 4 pixels, drawn whole: PIL draws each as a pie slice with a page of Python per point,
    which took most of a recognition's rendering time."""
    color = 0 if eraser else 255
    points = thinned(xy, step)
    line_width = max(1, round(width))
    if len(points) > 1:
        draw.line([tuple(p) for p in points.tolist()], fill=color, width=line_width)
    join = line_width / 2 - 1
    for x, y in points[1:-1].tolist() if line_width > 4 else []:
        draw.ellipse((x - join, y - join, x + join, y + join), fill=color)
    cap = width / 2
    for x, y in points[[0, -1]].tolist():
        draw.ellipse((x - cap, y - cap, x + cap, y + cap), fill=color)


def render_strokes(drawing: Drawing) -> np.ndarray | None:
    """The drawing's strokes (no background image) -> float32 [28, 28] in [0, 1], centre lines scaled to
    fill MNIST's 20-pixel box, pen STROKE_WIDTH, centre of mass at the centre; None without ink strokes."""
    strokes = ink_strokes(drawing)
    if not strokes:
        return None
    ink = np.concatenate([s.xy for s in strokes])
    low, high = ink.min(0), ink.max(0)
    brush = float(np.median([s.width for s in strokes]))
    # A dot has no extent: size it as if its brush were the digit, so it stays a dot and not a disc.
    scale = (DIGIT_BOX - STROKE_WIDTH) / max(float((high - low).max()), brush)  # 28x28 pixels per canvas unit
    side = MNIST_SIDE * SUPERSAMPLE
    image = Image.new("L", (2 * side, 2 * side), 0)  # room to move the centre of mass to the middle
    draw = ImageDraw.Draw(image)
    centre = (low + high) / 2
    for stroke in drawing.strokes:
        # The eraser keeps its size relative to the brush the ink was drawn with.
        width = STROKE_WIDTH * (stroke.width / brush if stroke.eraser else 1.0) * SUPERSAMPLE
        draw_stroke(draw, ((stroke.xy - centre) * scale + MNIST_SIDE) * SUPERSAMPLE, width, stroke.eraser,
                    step=SUPERSAMPLE)
    fine = np.asarray(image, dtype=np.float32)
    mass = fine.sum()
    if mass == 0:  # all erased
        return None
    # Cut the frame around the centre of mass, in whole fine pixels (a quarter of an MNIST pixel).
    positions = np.arange(2 * side)
    top = int(np.clip(round(positions @ fine.sum(1) / mass - side / 2), 0, side))
    left = int(np.clip(round(positions @ fine.sum(0) / mass - side / 2), 0, side))
    window = fine[top:top + side, left:left + side]
    small = window.reshape(MNIST_SIDE, SUPERSAMPLE, MNIST_SIDE, SUPERSAMPLE).mean((1, 3)) / 255.0
    return (small / small.max()).astype(np.float32)


def render_as_drawn(drawing: Drawing, size: int = CANVAS_SIDE) -> np.ndarray:
    """The drawing as it looks on the canvas, ``size`` x ``size`` uint8, ink bright on dark: the opened image
    scaled to fit and centred, the strokes over it with their own brushes. The raster path starts here."""
    image = Image.new("L", (size, size), 0)
    background = drawing.background
    if background is not None:
        h, w = background.shape
        scale = size / max(h, w)
        fitted = Image.fromarray(background).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                                    Image.Resampling.BILINEAR)
        image.paste(fitted, ((size - fitted.width) // 2, (size - fitted.height) // 2))
    draw = ImageDraw.Draw(image)
    for stroke in drawing.strokes:
        draw_stroke(draw, stroke.xy * size, stroke.width * size, stroke.eraser, step=2.0)  # the digit may be small here
    return np.asarray(image)
