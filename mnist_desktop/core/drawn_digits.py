"""Digits in the rendering domain, for the model made for drawings (trainer/drawings.py trains it). Qt-free.

The seven learned MNIST's scans; a drawing reaches them rendered from its strokes (render.py). The model made
for drawings learns digits as they reach it from the canvas: MNIST's training digits traced to centre lines
(trace.py) and drawn again with a handwriting jitter (corpus.jittered: slant, rotation, aspect, wobble, pen
lifts), UNIPEN's pen digits from the contributors that are not held out, and the styles MNIST barely has
(corpus.styles: slashed 0, barred 7, open, closed and crossed 4, flagged 1, looped 2) - all rendered by
``render_strokes`` as a drawing is - beside MNIST's own rasters, so opened pictures (which keep the raster
path when their pen is MNIST's or bolder) are read as before.

UNIPEN's contributors in corpus.UNIPEN_HELD_OUT (imp, cea and ceb have digits) are never trained on or chosen
on: the model's figure on real handwriting comes from them. hwd1000 is for evaluation only.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from trainer.errors import DataNotFoundError

from .corpus import UNIPEN_HELD_OUT, Paths, drawn, jittered, styles
from .strokes import Drawing
from .trace import trace_batch

STYLE_COPIES = 300  # of each style, each with its own proportions and jitter
UNIPEN_COPIES = 4  # jittered versions of each training contributor's digit
MNIST_JITTER = 0.7  # of corpus.jittered's handwriting jitter, for MNIST's traced digits (real handwriting already)
TRACE_BATCH = 2000  # MNIST digits thinned at once


def drawing_paths(drawing: Drawing) -> Paths:
    return [stroke.xy for stroke in drawing.strokes]


def traced_mnist(images: np.ndarray, progress: Callable[[int, int], None] = lambda done, total: None) -> list[Paths]:
    """MNIST digits (uint8 [N, 28, 28]) -> their centre lines, in batches."""
    found: list[Paths] = []
    for start in range(0, len(images), TRACE_BATCH):
        drawings = trace_batch(images[start:start + TRACE_BATCH] / 255.0)
        found += [drawing_paths(d) if d is not None else [] for d in drawings]
        progress(start + TRACE_BATCH, len(images))
    return found


def unipen_digits(folder: Path, held_out: bool, held_out_writers: tuple[str, ...] = UNIPEN_HELD_OUT
                  ) -> tuple[list[Paths], np.ndarray]:
    """UNIPEN's digits of the held-out contributors (``held_out``) or of the others, and their labels."""
    path = folder / "digits.json"
    try:
        with open(path, encoding="utf-8") as f:
            drawings = json.load(f)
    except (OSError, ValueError) as e:
        raise DataNotFoundError(f"Cannot read {path} ({e}): the UNIPEN folder needs digits.json.") from e
    chosen = [d for d in drawings if (d["writer"].split("/")[0] in held_out_writers) == held_out]
    return ([[np.asarray(s, np.float64).reshape(-1, 2) for s in d["strokes"] if len(s)] for d in chosen],
            np.array([int(d["label"]) for d in chosen], np.int64))


def style_digits(seed: int, copies: int = STYLE_COPIES) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``copies`` of each of corpus.styles, each drawn from ``default_rng([seed, k])`` and jittered: images
    float32 [N, 28, 28], labels, style names."""
    images, labels, names = [], [], []
    for k in range(copies):
        rng = np.random.default_rng([seed, k])
        for name, (digit, paths) in styles(rng).items():
            image = drawn(jittered(paths, rng, 1.0, joins=False))
            if image is not None:
                images.append(image), labels.append(digit), names.append(name)
    return np.stack(images), np.array(labels, np.int64), names


def rendered(paths_list: list[Paths], labels: np.ndarray, seed: int, copies: int, strength: float,
             progress: Callable[[int, int], None] = lambda done, total: None) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` jittered renderings of each drawing (drawing k's copy c from ``default_rng([seed, c, k])``):
    uint8 images [M, 28, 28] and their labels (drawings with nothing to draw left out)."""
    images, kept = [], []
    for copy in range(copies):
        for k, paths in enumerate(paths_list):
            if not paths:
                continue
            image = drawn(jittered(paths, np.random.default_rng([seed, copy, k]), strength, joins=False))
            if image is not None:
                images.append(np.round(image * 255).astype(np.uint8)), kept.append(labels[k])
            if k % 5000 == 0:
                progress(copy * len(paths_list) + k, copies * len(paths_list))
    return np.stack(images), np.array(kept, np.int64)


def training_digits(mnist_images: np.ndarray, mnist_labels: np.ndarray, unipen: Path, seed: int,
                    progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
                    style_copies: int = STYLE_COPIES) -> tuple[np.ndarray, np.ndarray]:
    """The drawn digits the model trains on besides MNIST's rasters: MNIST traced and jittered, the training
    contributors' UNIPEN digits (UNIPEN_COPIES each), ``style_copies`` of each style. uint8 [N, 28, 28] and
    labels, a function of ``seed``."""
    paths = traced_mnist(mnist_images, lambda done, total: progress("tracing MNIST", done, total))
    parts = [rendered(paths, mnist_labels, seed, 1, MNIST_JITTER,
                      lambda done, total: progress("drawing MNIST", done, total))]
    pen_paths, pen_labels = unipen_digits(unipen, held_out=False)
    parts.append(rendered(pen_paths, pen_labels, seed + 1, UNIPEN_COPIES, 0.5))
    images, labels, _ = style_digits(seed + 2, style_copies)
    parts.append((np.round(images * 255).astype(np.uint8), labels))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def held_out_unipen(folder: Path, held_out_writers: tuple[str, ...] = UNIPEN_HELD_OUT
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The held-out contributors' digits drawn as they are (no jitter): float32 [N, 28, 28] and labels."""
    paths, labels = unipen_digits(folder, True, held_out_writers)
    images = [drawn(p) for p in paths]
    kept = [k for k, image in enumerate(images) if image is not None]
    return np.stack([images[k] for k in kept]) if kept else np.zeros((0, 28, 28), np.float32), labels[kept]


def hwd_pictures(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """hwd1000's drawings (evaluation only) opened as files are: float32 [1000, 28, 28] and labels."""
    import csv

    from .preprocess import load_image, to_mnist

    with open(folder / "dataset.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return (np.stack([to_mnist(load_image(folder / row["image"])) for row in rows]),
            np.array([int(row["label"]) for row in rows], np.int64))
