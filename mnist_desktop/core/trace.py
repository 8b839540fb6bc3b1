"""A grey raster -> the centre lines of its strokes, as a Drawing that core/render draws like a drawn digit.
Qt-free.

The ink (ink bright on dark, any size) is scaled so its strokes are about PEN_PIXELS wide, cut at half
its peak, and thinned to a one-pixel skeleton (Zhang-Suen, by look-up tables on each pixel's 3x3
neighbourhood, so a step is a few array operations over a whole batch). The skeleton is walked into
polylines between its ends and junctions (loops on their own), twigs shorter than a stroke's width cut off
(thinning grows them at corners), and each polyline smoothed. Thinning eats about half a pen at a stroke's
free end; the round caps of the rendering put it back.
"""
from __future__ import annotations

import numpy as np

from .raster import INK_LEVEL, grey_levels, grown, ink_box, resized
from .render import stroke_width
from .strokes import Drawing, Stroke

INK_CUT = 0.5  # of the ink's brightness (MNIST's: its peak): brighter is ink when thinning
PEN_PIXELS = 4.0  # strokes are thinned at about this width: thin enough to be fast, wide enough not to break
WORK_SIDE = (24, 96)  # the ink's longer side at work is kept within these (a hairline is grown instead)
MIN_WIDTH = 2.0  # thinner strokes at work (a hairline shrunk) are grown to this before thinning
SMOOTH = 2  # points each side averaged along a polyline (at work, where the pen is PEN_PIXELS wide)

# 3x3 neighbourhoods coded as 9 bits: bit 3 * row + column, the pixel itself bit 4.
RING = ((0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0))  # the 8 neighbours clockwise from the top


def _ring(code: int) -> list[int]:
    return [code >> (3 * row + column) & 1 for row, column in RING]


def _thinning_keeps(step: int) -> np.ndarray:
    """[512] whether Zhang-Suen's sub-step ``step`` (0 or 1) keeps the ink pixel with this neighbourhood: it
    removes boundary pixels (2-6 neighbours, one run of them round the ring) of the south-east side, then of
    the north-west side, so strokes thin from both sides to their centre line without breaking."""
    keeps = np.zeros(512, bool)
    for code in range(512):
        neighbours = _ring(code)
        n, e, s, w = neighbours[::2]
        runs = sum(a == 0 and b == 1 for a, b in zip(neighbours, neighbours[1:] + neighbours[:1]))
        side = (n * e * s, e * s * w) if step == 0 else (n * e * w, n * s * w)
        removed = 2 <= sum(neighbours) <= 6 and runs == 1 and not any(side)
        keeps[code] = code >> 4 & 1 and not removed
    return keeps


THINNING_KEEPS = (_thinning_keeps(0), _thinning_keeps(1))
# The 8 neighbour offsets (row, column) in RING's order.
OFFSETS = tuple((row - 1, column - 1) for row, column in RING)


def _neighbourhoods(padded: np.ndarray) -> np.ndarray:
    """The 9-bit code of every inner pixel of 0/1 images [..., H + 2, W + 2] -> [..., H, W]."""
    rows = padded[..., :-2] + 2 * padded[..., 1:-1] + 4 * padded[..., 2:]
    return rows[..., :-2, :] + 8 * rows[..., 1:-1, :] + 64 * rows[..., 2:, :]


def skeletons(ink: np.ndarray) -> np.ndarray:
    """Boolean images [..., H, W] -> their one-pixel skeletons (Zhang-Suen), all at once."""
    padded = np.zeros(ink.shape[:-2] + (ink.shape[-2] + 2, ink.shape[-1] + 2), np.uint16)
    inner = padded[..., 1:-1, 1:-1]
    inner[...] = ink
    while True:
        before = inner.copy()
        for keeps in THINNING_KEEPS:
            inner[...] = keeps[_neighbourhoods(padded)]
        if np.array_equal(before, inner):
            return inner.astype(bool)


def links(skeleton: np.ndarray) -> np.ndarray:
    """[..., H, W] skeletons -> [..., 8, H, W]: whether each pixel links to its neighbour in OFFSETS' direction.
    A diagonal link is left out where the two pixels also meet through a shared side neighbour, so a
    staircase is one path and not a chain of triangles."""
    padded = np.pad(skeleton, [(0, 0)] * (skeleton.ndim - 2) + [(1, 1), (1, 1)])
    height, width = skeleton.shape[-2:]

    def at(dr: int, dc: int) -> np.ndarray:
        return padded[..., 1 + dr:1 + dr + height, 1 + dc:1 + dc + width]

    result = []
    for dr, dc in OFFSETS:
        link = skeleton & at(dr, dc)
        if dr and dc:
            link &= ~at(dr, 0) & ~at(0, dc)
        result.append(link)
    return np.stack(result, axis=-3)


def _walk(neighbours: list[list[int]]) -> list[list[int]]:
    """Pixel-index paths covering every link once: from each end or junction to the next, then the loops
    left over, each closed on its first pixel."""
    degree = [len(n) for n in neighbours]
    used: set[tuple[int, int]] = set()  # (from, to) of the first link of each path, either way
    passed = [False] * len(neighbours)  # pixels inside a path
    paths = []

    def follow(start: int, step: int) -> list[int]:
        path = [start, step]
        while degree[path[-1]] == 2 and path[-1] != start:
            passed[path[-1]] = True
            a, b = neighbours[path[-1]]
            path.append(b if a == path[-2] else a)
        used.add((path[0], path[1]))
        used.add((path[-1], path[-2]))
        return path

    for start in range(len(neighbours)):
        if degree[start] != 2:
            paths += [follow(start, step) for step in neighbours[start] if (start, step) not in used]
            if degree[start] == 0:
                paths.append([start])
    for start in range(len(neighbours)):  # loops without ends or junctions
        if degree[start] == 2 and not passed[start]:
            paths.append(follow(start, neighbours[start][0]))
    return paths


def _polylines(skeleton: np.ndarray, link: np.ndarray, spur: float) -> list[np.ndarray]:
    """One skeleton [H, W] and its links [8, H, W] (changed here) -> polylines [N, 2] of (row, column) at the
    pixels' centres, twigs shorter than ``spur`` cut."""
    height, width = skeleton.shape
    while True:
        rows, cols = np.nonzero(skeleton)
        index = np.full(skeleton.shape, -1)
        index[rows, cols] = np.arange(len(rows))
        targets = np.stack([np.where(link[d, rows, cols], index[(rows + dr) % height, (cols + dc) % width], -1)
                            for d, (dr, dc) in enumerate(OFFSETS)], axis=1)
        neighbours = [[t for t in row if t >= 0] for row in targets.tolist()]
        paths = _walk(neighbours)
        degree = np.array([len(n) for n in neighbours])
        points = np.stack([rows, cols], axis=1) + 0.5
        twigs = [p for p in paths if len(p) > 1 and min(degree[p[0]], degree[p[-1]]) == 1
                 and max(degree[p[0]], degree[p[-1]]) >= 3 and _length(points[p]) < spur]
        if not twigs:
            break
        # Cut each twig but its junction pixel, and walk again: the junction may now join two paths into one.
        for path in twigs:
            inner = path[1:] if degree[path[0]] >= 3 else path[:-1]
            skeleton[rows[inner], cols[inner]] = False
            link[:, rows[inner], cols[inner]] = False
            for dr, dc in OFFSETS:
                link[OFFSETS.index((-dr, -dc)), (rows[inner] + dr) % height, (cols[inner] + dc) % width] = False
    # Specks, and loops on their own too small to be a stroke's: noise, or a pinhole in a stroke.
    kept = [p for p in paths if max(degree[p[0]], degree[p[-1]]) > 2 or _length(points[p]) >= spur]
    kept = kept or [max(paths, key=lambda p: _length(points[p]))]
    return [_smoothed(points[p], closed=p[0] == p[-1] and degree[p[0]] == 2) for p in kept]


def _length(points: np.ndarray) -> float:
    return float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0


def _smoothed(points: np.ndarray, closed: bool) -> np.ndarray:
    """Each point the mean of its SMOOTH neighbours each side along the line; a path's two ends stay where
    they are (they meet other paths there)."""
    if len(points) < 3:
        return points
    kernel = np.ones(2 * SMOOTH + 1) / (2 * SMOOTH + 1)
    if closed:
        ring = points[:-1]
        padded = np.concatenate([ring[-SMOOTH:], ring, ring[:SMOOTH]])
        smooth = np.stack([np.convolve(padded[:, k], kernel, "valid") for k in range(2)], axis=1)
        return np.concatenate([smooth, smooth[:1]])
    padded = np.concatenate([np.repeat(points[:1], SMOOTH, 0), points, np.repeat(points[-1:], SMOOTH, 0)])
    smooth = np.stack([np.convolve(padded[:, k], kernel, "valid") for k in range(2)], axis=1)
    smooth[0], smooth[-1] = points[0], points[-1]
    return smooth


def _drawing(polylines: list[np.ndarray], scale: float, offset: np.ndarray, pen: float) -> Drawing:
    """Polylines of (row, column) -> a Drawing of (x, y) points ``polyline * scale + offset``, pen ``pen``."""
    return Drawing(strokes=tuple(Stroke(tuple(map(tuple, (line * scale + offset)[:, ::-1].tolist())), pen)
                                 for line in polylines))


def trace_batch(images: np.ndarray, upscale: int = 2) -> list[Drawing | None]:
    """Images of one size [N, H, W] in [0, 1], ink bright on dark, with strokes about PEN_PIXELS / ``upscale``
    pixels wide (MNIST's 28x28s: 2.4) -> their strokes' Drawings (None where there is no ink), in canvas
    units where the image is the 1 x 1 canvas. The thinning runs over the whole batch at ``upscale`` times
    the size."""
    import torch

    images = np.asarray(images, dtype=np.float32)
    large = torch.nn.functional.interpolate(torch.from_numpy(images)[:, None], scale_factor=upscale,
                                            mode="bilinear", align_corners=False)[:, 0].numpy()
    peaks = np.maximum(large.max((-2, -1), keepdims=True), 1e-6)
    skeleton = skeletons(large > INK_CUT * peaks)
    link = links(skeleton)
    spurs = stroke_width(large / peaks)
    scale = 1 / max(large.shape[-2:])
    pens = stroke_width(images) / max(images.shape[-2:])
    return [_drawing(_polylines(skeleton[k], link[k], float(spurs[k])), scale, np.zeros(2), float(pens[k]))
            if skeleton[k].any() else None for k in range(len(images))]


def trace(gray: np.ndarray) -> Drawing | None:
    """One grey image [H, W] (see raster.grey_levels), ink bright on dark, any size and pen -> its
    strokes as a Drawing in canvas units (the image is the 1 x 1 canvas), None if it has no ink. The ink is
    cut out and scaled so that its strokes are about PEN_PIXELS wide (its longer side within WORK_SIDE); a
    hairline shrunk is grown to MIN_WIDTH."""
    image = grey_levels(gray).astype(np.float32) / 255.0
    peak = float(image.max(initial=0.0))
    if peak <= 0:
        return None
    rows, cols = ink_box(image, peak)
    ink = image[rows, cols] / peak
    width = float(stroke_width(np.pad(ink, 1)))
    longer = max(ink.shape)
    side = int(np.clip(round(longer * PEN_PIXELS / max(width, 1e-6)), *WORK_SIDE))
    work = resized(ink, side)
    work = np.pad(work / max(float(work.max()), 1e-6), 2)
    work_width = width * side / longer
    if work_width < MIN_WIDTH:
        work = grown(work, (MIN_WIDTH - work_width) / 2)
    # A picture's strokes may be fainter than its brightest pixel (a worn pen, a scan): cut at half their
    # typical brightness, the median of the ink (what ink_box counts as ink), not at half the peak.
    skeleton = skeletons(work > INK_CUT * float(np.median(work[work > INK_LEVEL])))
    if not skeleton.any():
        return None
    lines = _polylines(skeleton, links(skeleton), max(work_width, MIN_WIDTH))
    scale = longer / side  # source pixels per work pixel
    offset = np.array([rows.start, cols.start]) - 2 * scale  # the work image's padding
    canvas = max(image.shape)
    return _drawing(lines, scale / canvas, offset / canvas, width / canvas)
