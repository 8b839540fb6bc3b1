"""The colour ramps of the maps, for the pictures (numpy, in core) and their legends (Qt): each defined once.
Numpy only, so the window's legends can use them before torch has loaded."""
from __future__ import annotations

import numpy as np

# Diverging, for attribution maps: blue lowered the score, red raised it, near-white is zero.
DIVERGING_NEGATIVE = np.array([33, 102, 172], np.float32)  # blue: lowered the score
DIVERGING_POSITIVE = np.array([178, 24, 43], np.float32)  # red: raised the score
DIVERGING_ZERO = np.array([247, 247, 247], np.float32)
INK_SHADE = 0.35  # how dark the input's ink shows under a map's zero colour, so the digit stays readable
# Sequential, for feature maps: dark to bright (the anchors of matplotlib's "inferno").
SEQUENTIAL_ANCHORS = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], np.float32)


def hex_color(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{round(float(v)):02x}" for v in rgb)


DIVERGING_STOPS = ((0.0, hex_color(DIVERGING_NEGATIVE)), (0.5, hex_color(DIVERGING_ZERO)),
                   (1.0, hex_color(DIVERGING_POSITIVE)))  # (position, colour) along a legend
SEQUENTIAL_STOPS = tuple((k / (len(SEQUENTIAL_ANCHORS) - 1), hex_color(anchor))
                         for k, anchor in enumerate(SEQUENTIAL_ANCHORS))


def diverging_rgb(values: np.ndarray, limit: float, image: np.ndarray | None = None) -> np.ndarray:
    """A map -> uint8 RGB [H, W, 3]: blue (-limit) through near-white (0) to red (+limit). With ``image``
    (same shape, [0, 1]) its ink shows as grey under the zero colour, so the digit stays readable."""
    zero = np.broadcast_to(DIVERGING_ZERO, values.shape + (3,)).astype(np.float32)
    if image is not None:
        zero = zero * (1 - INK_SHADE * image[..., None])
    t = np.clip(values / limit, -1.0, 1.0)[..., None] if limit > 0 else np.zeros(values.shape + (1,), np.float32)
    rgb = np.where(t >= 0, zero + t * (DIVERGING_POSITIVE - zero), zero - t * (DIVERGING_NEGATIVE - zero))
    return rgb.round().astype(np.uint8)


def sequential_rgb(values: np.ndarray, peak: float) -> np.ndarray:
    """Non-negative values -> uint8 RGB [..., 3] on a dark-to-bright ramp where ``peak`` is the brightest."""
    t = np.clip(values / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(values)
    position = t * (len(SEQUENTIAL_ANCHORS) - 1)
    low = np.minimum(position.astype(np.int64), len(SEQUENTIAL_ANCHORS) - 2)
    frac = (position - low)[..., None]
    rgb = SEQUENTIAL_ANCHORS[low] * (1 - frac) + SEQUENTIAL_ANCHORS[low + 1] * frac
    return rgb.round().astype(np.uint8)
