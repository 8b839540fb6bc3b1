"""A development set of things that are not digits, generated from a seed (nothing is stored).

Drawn things are strokes with handwriting-like wobble (a random slant, rotation, aspect and a smooth tremor
on every point), rendered through the same vector renderer as the canvas; photos and noise are rasters that
go through the opened-image path. Also the digit templates the tests draw at several sizes and brushes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mnist_desktop.core.strokes import Drawing, Stroke

Path = list[tuple[float, float]]  # a stroke's centre line in a unit box, y down


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 24) -> Path:
    """Angles in turns, 0 at the top, clockwise."""
    return [(cx + rx * math.sin(2 * math.pi * t), cy - ry * math.cos(2 * math.pi * t))
            for t in np.linspace(start, end, n)]


DIGITS: dict[int, list[Path]] = {
    0: [arc(0.5, 0.5, 0.3, 0.45, 0, 1, 40)],
    1: [[(0.35, 0.25), (0.55, 0.05), (0.55, 0.95)]],
    2: [arc(0.5, 0.3, 0.3, 0.25, -0.22, 0.3) + [(0.2, 0.95), (0.85, 0.95)]],
    3: [arc(0.5, 0.27, 0.28, 0.22, -0.25, 0.5), arc(0.5, 0.72, 0.3, 0.23, 0.0, 0.75)],
    4: [[(0.6, 0.05), (0.15, 0.65), (0.85, 0.65)], [(0.62, 0.3), (0.62, 0.95)]],
    5: [[(0.8, 0.05), (0.3, 0.05), (0.25, 0.45)] + arc(0.5, 0.68, 0.3, 0.27, -0.1, 0.6)],
    6: [[(0.7, 0.05)] + arc(0.5, 0.68, 0.28, 0.27, 0.75, 1.75, 36)],
    7: [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)]],
    8: [arc(0.5, 0.27, 0.22, 0.22, 0.5, 1.5) + arc(0.5, 0.72, 0.28, 0.23, 0.0, -1.0)],
    9: [arc(0.5, 0.3, 0.28, 0.25, 0.25, 1.25, 36) + [(0.78, 0.95)]],
}

LETTERS: dict[str, list[Path]] = {
    "A": [[(0.1, 0.95), (0.5, 0.05), (0.9, 0.95)], [(0.28, 0.6), (0.72, 0.6)]],
    "E": [[(0.8, 0.05), (0.2, 0.05), (0.2, 0.95), (0.8, 0.95)], [(0.2, 0.5), (0.65, 0.5)]],
    "F": [[(0.8, 0.05), (0.2, 0.05), (0.2, 0.95)], [(0.2, 0.5), (0.65, 0.5)]],
    "H": [[(0.2, 0.05), (0.2, 0.95)], [(0.8, 0.05), (0.8, 0.95)], [(0.2, 0.5), (0.8, 0.5)]],
    "K": [[(0.2, 0.05), (0.2, 0.95)], [(0.8, 0.05), (0.2, 0.55)], [(0.35, 0.45), (0.85, 0.95)]],
    "M": [[(0.1, 0.95), (0.15, 0.05), (0.5, 0.6), (0.85, 0.05), (0.9, 0.95)]],
    "N": [[(0.2, 0.95), (0.2, 0.05), (0.8, 0.95), (0.8, 0.05)]],
    "R": [[(0.2, 0.95), (0.2, 0.05)] + arc(0.4, 0.28, 0.3, 0.23, 0.75, 1.25)[6:] + [(0.2, 0.5), (0.8, 0.95)]],
    "W": [[(0.05, 0.05), (0.25, 0.95), (0.5, 0.35), (0.75, 0.95), (0.95, 0.05)]],
    "X": [[(0.15, 0.05), (0.85, 0.95)], [(0.85, 0.05), (0.15, 0.95)]],
    "Y": [[(0.15, 0.05), (0.5, 0.5), (0.85, 0.05)], [(0.5, 0.5), (0.5, 0.95)]],
    "h": [[(0.25, 0.05), (0.25, 0.95)], [(0.25, 0.6)] + arc(0.5, 0.6, 0.25, 0.15, -0.25, 0.25)[1:]
                                       + [(0.75, 0.95)]],
    "m": [[(0.1, 0.95), (0.1, 0.4)] + arc(0.3, 0.5, 0.2, 0.15, -0.25, 0.25) + [(0.5, 0.95)],
          [(0.5, 0.5)] + arc(0.7, 0.5, 0.2, 0.15, -0.25, 0.25) + [(0.9, 0.95)]],
    "w": [[(0.05, 0.35), (0.25, 0.95), (0.5, 0.5), (0.75, 0.95), (0.95, 0.35)]],
    "k": [[(0.25, 0.05), (0.25, 0.95)], [(0.75, 0.4), (0.25, 0.7), (0.75, 0.95)]],
    "e": [[(0.2, 0.6), (0.8, 0.6)] + arc(0.5, 0.62, 0.3, 0.3, 0.25, 1.1)],
    "a": [arc(0.45, 0.68, 0.28, 0.27, 0.2, 1.2), [(0.75, 0.4), (0.78, 0.98)]],
    "r": [[(0.3, 0.35), (0.3, 0.95)], [(0.3, 0.55)] + arc(0.55, 0.55, 0.25, 0.18, -0.25, 0.1)],
}

SYMBOLS: dict[str, list[Path]] = {
    "#": [[(0.35, 0.05), (0.3, 0.95)], [(0.7, 0.05), (0.65, 0.95)], [(0.1, 0.35), (0.9, 0.35)],
          [(0.1, 0.65), (0.9, 0.65)]],
    "+": [[(0.5, 0.1), (0.5, 0.9)], [(0.1, 0.5), (0.9, 0.5)]],
    "=": [[(0.1, 0.35), (0.9, 0.35)], [(0.1, 0.65), (0.9, 0.65)]],
    "*": [[(0.5, 0.1), (0.5, 0.9)], [(0.15, 0.3), (0.85, 0.7)], [(0.85, 0.3), (0.15, 0.7)]],
    "%": [arc(0.25, 0.2, 0.13, 0.15, 0, 1), [(0.8, 0.05), (0.2, 0.95)], arc(0.75, 0.8, 0.13, 0.15, 0, 1)],
    "&": [[(0.85, 0.95), (0.3, 0.4)] + arc(0.45, 0.22, 0.17, 0.17, -0.4, 0.4) + [(0.2, 0.7)]
          + arc(0.4, 0.75, 0.2, 0.2, 0.75, 0.4) + [(0.85, 0.55)]],
    "?": [arc(0.5, 0.25, 0.3, 0.2, -0.25, 0.45) + [(0.5, 0.65)], [(0.5, 0.9), (0.5, 0.95)]],
    "!": [[(0.5, 0.05), (0.5, 0.7)], [(0.5, 0.9), (0.5, 0.95)]],
    "<": [[(0.85, 0.1), (0.15, 0.5), (0.85, 0.9)]],
    "@": [arc(0.5, 0.5, 0.15, 0.15, 0.2, 1.2) + arc(0.5, 0.5, 0.4, 0.4, 0.45, 1.4)],
    "$": [arc(0.5, 0.3, 0.3, 0.2, 0.2, -0.5) + arc(0.5, 0.7, 0.3, 0.2, 0.0, 0.7), [(0.5, 0.0), (0.5, 1.0)]],
    "arrow": [[(0.1, 0.5), (0.9, 0.5)], [(0.6, 0.2), (0.9, 0.5), (0.6, 0.8)]],
}

SHAPES: dict[str, list[Path]] = {
    "circle with a cross": [arc(0.5, 0.5, 0.45, 0.45, 0, 1, 40), [(0.2, 0.2), (0.8, 0.8)], [(0.8, 0.2), (0.2, 0.8)]],
    "triangle": [[(0.5, 0.05), (0.95, 0.9), (0.05, 0.9), (0.5, 0.05)]],
    "square": [[(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)]],
    "star": [[(0.5 + 0.45 * math.sin(2 * math.pi * k * 2 / 5), 0.5 - 0.45 * math.cos(2 * math.pi * k * 2 / 5))
              for k in range(6)]],
    "spiral": [[(0.5 + 0.045 * t * math.sin(t), 0.5 - 0.045 * t * math.cos(t)) for t in np.linspace(0, 10, 60)]],
    "zigzag": [[(0.05 + 0.9 * k / 7, 0.25 + 0.5 * (k % 2)) for k in range(8)]],
    "wave": [[(0.05 + 0.9 * t, 0.5 + 0.3 * math.sin(4 * math.pi * t)) for t in np.linspace(0, 1, 40)]],
    "smiley": [arc(0.5, 0.5, 0.45, 0.45, 0, 1, 40), [(0.35, 0.35), (0.35, 0.4)], [(0.65, 0.35), (0.65, 0.4)],
               arc(0.5, 0.55, 0.25, 0.2, 0.3, 0.7)],
    "grid": [[(0.05, y), (0.95, y)] for y in (0.2, 0.5, 0.8)] + [[(x, 0.05), (x, 0.95)] for x in (0.2, 0.5, 0.8)],
    "heart": [[(0.5, 0.95), (0.1, 0.45)] + arc(0.3, 0.3, 0.2, 0.2, -0.3, 0.25) + arc(0.7, 0.3, 0.2, 0.2, -0.25, 0.3)
              + [(0.5, 0.95)]],
    "house": [[(0.15, 0.95), (0.15, 0.45), (0.5, 0.1), (0.85, 0.45), (0.85, 0.95), (0.15, 0.95)]],
    "double loop": [arc(0.3, 0.5, 0.22, 0.4, 0, 1) + arc(0.72, 0.5, 0.22, 0.4, 0, 1)],
}


@dataclass(frozen=True)
class Sample:
    category: str  # what kind of non-digit (the rates are reported per category)
    name: str
    drawing: Drawing | None = None  # drawn things
    image: np.ndarray | None = None  # photos and noise: uint8, ink bright on dark


def handwritten(paths: list[Path], rng: np.random.Generator, box=(0.15, 0.15, 0.7, 0.7),
                brush: float = 0.07) -> list[Stroke]:
    """The paths placed in ``box`` (x, y, width, height) of the canvas with a random slant, rotation,
    aspect and a smooth tremor, as strokes of ``brush`` width."""
    angle = rng.uniform(-0.2, 0.2)
    shear = rng.uniform(-0.25, 0.25)
    sx, sy = rng.uniform(0.75, 1.1), rng.uniform(0.85, 1.1)
    cos, sin = math.cos(angle), math.sin(angle)
    strokes = []
    for path in paths:
        points = np.asarray(path, dtype=np.float64)
        # Resample densely so the tremor bends lines, then add low-frequency noise along the stroke.
        lengths = np.r_[0, np.cumsum(np.hypot(*np.diff(points, axis=0).T))]
        n = max(2, int(lengths[-1] * 60))
        t = np.linspace(0, lengths[-1], n)
        points = np.stack([np.interp(t, lengths, points[:, 0]), np.interp(t, lengths, points[:, 1])], 1)
        tremor = np.cumsum(rng.normal(0, 0.006, (n, 2)), axis=0)
        points = points + tremor - tremor.mean(0)
        x, y = points[:, 0] - 0.5, points[:, 1] - 0.5
        x = x + shear * y
        x, y = sx * (cos * x - sin * y), sy * (sin * x + cos * y)
        bx, by, bw, bh = box
        strokes.append(Stroke(tuple((bx + bw * (xi + 0.5), by + bh * (yi + 0.5)) for xi, yi in zip(x, y)), brush))
    return strokes


def scribble(rng: np.random.Generator) -> list[Path]:
    """A smooth random curve through 6-12 points."""
    knots = rng.uniform(0.05, 0.95, (rng.integers(6, 13), 2))
    t = np.linspace(0, len(knots) - 1, 30 * len(knots))
    return [list(zip(np.interp(t, np.arange(len(knots)), knots[:, 0]),
                     np.interp(t, np.arange(len(knots)), knots[:, 1])))]


def filled(rng: np.random.Generator) -> list[Path]:
    """Scribbling an area full: back and forth, closely spaced."""
    rows = rng.integers(14, 24)
    return [[(0.05 + 0.9 * (k % 2) + rng.uniform(-0.05, 0.05), 0.05 + 0.9 * k / (rows - 1)) for k in range(rows)]]


def plasma(rng: np.random.Generator, size: int = 112) -> np.ndarray:
    """Fractal (plasma-like) noise: random octaves upsampled and summed, like a blurry photo."""
    total = np.zeros((size, size), np.float64)
    for octave in range(1, 6):
        cells = 2 ** octave
        layer = Image.fromarray(rng.random((cells, cells)).astype(np.float32), mode="F")
        total += np.asarray(layer.resize((size, size), Image.Resampling.BICUBIC)) / octave
    total -= total.min()
    return (total / total.max() * 255).astype(np.uint8)


def photo(rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(4)
    size = 112
    if kind == 0:
        return plasma(rng, size)
    ys, xs = np.indices((size, size)) / size
    if kind == 1:  # a lit surface: a gradient with texture
        image = 0.6 * (xs * rng.uniform(-1, 1) + ys * rng.uniform(-1, 1)) + 0.4 * plasma(rng, size) / 255
    elif kind == 2:  # stripes or a checkerboard, as in fabric or tiles
        f = rng.uniform(3, 10)
        image = (np.sin(2 * np.pi * f * xs) * np.sin(2 * np.pi * f * ys * rng.uniform(0, 1)) + 1) / 2
    else:  # overlapping lit blobs, as in a picture of objects
        image = np.zeros((size, size))
        for _ in range(rng.integers(3, 8)):
            cy, cx, r = rng.uniform(0, 1, 2).tolist() + [rng.uniform(0.1, 0.35)]
            image += rng.uniform(0.3, 1) * np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * r * r))
    image = image - image.min()
    return (image / image.max() * 255).astype(np.uint8)


def noise(rng: np.random.Generator) -> np.ndarray:
    size = 112
    kind = rng.integers(3)
    if kind == 0:
        return rng.integers(0, 256, (size, size), dtype=np.uint8)
    if kind == 1:  # sparse salt
        return (rng.random((size, size)) < rng.uniform(0.02, 0.2)).astype(np.uint8) * 255
    blurred = Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).resize((size, size))
    return np.asarray(blurred)


def nondigit_set(seed: int = 0, per_category: int = 30) -> list[Sample]:
    """``per_category`` samples of each of nine categories, the same for the same seed."""
    rng = np.random.default_rng(seed)
    samples: list[Sample] = []

    def drawn(category: str, name: str, paths: list[Path], **kwargs) -> None:
        box = tuple(rng.uniform(0.05, 0.2, 2)) + tuple(rng.uniform(0.55, 0.75, 2).tolist())
        strokes = handwritten(paths, rng, box, brush=rng.uniform(0.02, 0.08), **kwargs)
        samples.append(Sample(category, name, drawing=Drawing(strokes=tuple(strokes))))

    for k in range(per_category):
        name = list(LETTERS)[k % len(LETTERS)]
        drawn("letters", name, LETTERS[name])
        name = list(SYMBOLS)[k % len(SYMBOLS)]
        drawn("symbols", name, SYMBOLS[name])
        name = list(SHAPES)[k % len(SHAPES)]
        drawn("shapes", name, SHAPES[name])
        drawn("scribbles", "scribble", scribble(rng))
        drawn("filled blobs", "filled", filled(rng))
        a, b = rng.integers(10, size=2)
        pair = [[(x * 0.48, y) for x, y in p] for p in DIGITS[a]] + [[(0.52 + x * 0.48, y) for x, y in p]
                                                                       for p in DIGITS[b]]
        drawn("two digits", f"{a}{b}", pair)
        samples.append(Sample("photos", "photo", image=photo(rng)))
        samples.append(Sample("noise", "noise", image=noise(rng)))
        dot = rng.uniform(0.3, 0.7, 2)
        wiggle = [tuple(dot + rng.normal(0, 0.005, 2)) for _ in range(rng.integers(1, 5))]
        samples.append(Sample("dots", "dot", drawing=Drawing(strokes=(Stroke(tuple(wiggle), rng.uniform(0.02, 0.08)),))))
    return samples


def mnist_inputs(split: str = "test") -> tuple[list, np.ndarray]:
    """MNIST's digits as model inputs (already what the models see) and their labels."""
    from mnist_desktop.core.recognition import ModelInput
    from trainer.data import load_mnist

    images, labels = load_mnist(split)
    return [ModelInput(image) for image in images.numpy().astype(np.float32) / 255.0], labels.numpy()


def hwd_inputs(folder) -> tuple[list, np.ndarray]:
    """hwd1000's drawings through the raster path, as an opened file is (evaluation only)."""
    import csv

    from mnist_desktop.core.preprocess import load_image
    from mnist_desktop.core.recognition import image_input

    rows = list(csv.DictReader(open(folder / "dataset.csv")))
    return [image_input(load_image(folder / row["image"])) for row in rows], np.array([int(r["label"]) for r in rows])


def sample_inputs(samples: list[Sample]) -> list:
    from mnist_desktop.core.recognition import drawing_input, image_input

    return [drawing_input(s.drawing) if s.drawing is not None else image_input(s.image) for s in samples]


def print_threshold_quantiles(predictor, images: np.ndarray) -> None:
    """Where verdict.py's thresholds come from: on MNIST's test digits that pass the input checks, the
    quantile of each digit-likeness that makes the rejected share, input checks included, 1%."""
    from mnist_desktop.core.verdict import input_measures, input_problem, measures_of

    measures = input_measures(images)
    passed = np.array([input_problem(measures_of(measures, k)) is None for k in range(len(images))])
    level = (0.01 * len(images) - (~passed).sum()) / passed.sum()
    tails = np.stack([out.log_tail for out in predictor.outputs(images).values() if out.log_tail is not None])
    shapes = predictor.shape_log_tails(images)
    if len(tails) and shapes is not None:
        quantile = lambda likeness: np.quantile(likeness[passed], level)
        print(f"thresholds at {level * 100:.2f}% of the digits the input checks pass: "
              f"models' mean plus the pixel model's {quantile(tails.mean(0) + shapes):.2f}; "
              f"models' mean alone {quantile(tails.mean(0)):.2f}; each model's own: "
              + ", ".join(f"{quantile(t):.2f}" for t in tails))


def main() -> None:
    """Print the rates the README quotes: MNIST test digits, hwd1000 and this set rejected, per category.
    ``--seed`` and ``--per-category`` draw another set: the methods and thresholds were chosen on seed 0's."""
    import argparse
    import os
    from collections import Counter
    from pathlib import Path

    from mnist_desktop.core.predictor import Predictor
    from mnist_desktop.core.recognition import recognise
    from trainer.iterations import DEFAULT_ITERATION

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-category", type=int, default=30)
    args = parser.parse_args()
    predictor = Predictor()
    predictor.load_all()

    def rejected(inputs) -> np.ndarray:
        return np.array([not r.verdict.is_digit for r in recognise(predictor, inputs, DEFAULT_ITERATION)])

    inputs, _ = mnist_inputs()
    print_threshold_quantiles(predictor, np.stack([item.image for item in inputs]))
    print(f"MNIST test digits rejected: {rejected(inputs).mean() * 100:.2f}% of {len(inputs):,}")
    hwd = Path(os.environ.get("HWD1000_DIR", "../shared/data/hwd1000"))
    if (hwd / "dataset.csv").is_file():
        inputs, _ = hwd_inputs(hwd)
        print(f"hwd1000 drawings rejected: {rejected(inputs).mean() * 100:.2f}% of {len(inputs):,}")
    samples = nondigit_set(args.seed, args.per_category)
    results = recognise(predictor, sample_inputs(samples), DEFAULT_ITERATION)
    flags = np.array([not r.verdict.is_digit for r in results])
    print(f"non-digit set (seed {args.seed}) rejected: {flags.mean() * 100:.1f}% of {len(samples)}")
    for category in dict.fromkeys(s.category for s in samples):
        mask = np.array([s.category == category for s in samples])
        reasons = Counter(r.verdict.reason for r, m in zip(results, mask) if m)
        print(f"  {category}: {flags[mask].mean() * 100:.0f}%  " + "; ".join(f"{n} {reason}" for reason, n in
                                                                          reasons.most_common()))
    predictor.gate = None  # as when its file cannot be read
    print(f"without the gate (the rule before it): {rejected(sample_inputs(samples)).mean() * 100:.1f}% of the "
          f"non-digits, {rejected(mnist_inputs()[0]).mean() * 100:.2f}% of MNIST test")
    predictor.shapes = None
    print(f"without the gate and the pixel model (the models judge alone): "
          f"{rejected(sample_inputs(samples)).mean() * 100:.1f}% of the non-digits, "
          f"{rejected(mnist_inputs()[0]).mean() * 100:.2f}% of MNIST test")


if __name__ == "__main__":
    main()
