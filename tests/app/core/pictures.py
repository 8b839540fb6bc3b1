"""Pictures of digits opened as files: small in a corner of a 280-pixel picture, with thin and thick pens,
through the window's path for an opened picture (Drawing(background=...) -> recognition.drawing_input) and
the seven with the verdict. ``python -m tests.app.core.pictures`` prints, per set, how many the default
iteration reads right with the verdict on, how many the verdict rejects, and the default iteration's own
accuracy without the verdict.

Sets: MNIST's first test digits scaled to a corner with their strokes as they are, eroded (a fine pen) or
dilated (a marker); UNIPEN's pen digits drawn with a thin and a thick brush in a corner, as a tablet digit
saved small; hwd1000's drawings (evaluation only: nothing is chosen on them) as 280-pixel canvases and small
in a corner.
"""
from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from mnist_desktop.core.render import render_as_drawn
from mnist_desktop.core.strokes import Drawing, Stroke

CANVAS = 280
MARGIN = 8  # pixels between the digit and the picture's edge


def in_a_corner(digit: np.ndarray, k: int) -> np.ndarray:
    """``digit`` (uint8, ink bright on dark) in corner ``k % 4`` of a CANVAS-pixel picture."""
    picture = np.zeros((CANVAS, CANVAS), np.uint8)
    h, w = digit.shape
    top = MARGIN if k % 2 == 0 else CANVAS - MARGIN - h
    left = MARGIN if k // 2 % 2 == 0 else CANVAS - MARGIN - w
    picture[top:top + h, left:left + w] = digit
    return picture


def with_pen(image: Image.Image, pen: int) -> np.ndarray:
    """Strokes eroded (``pen`` < 0) or dilated (> 0) by |pen| pixels."""
    step = ImageFilter.MaxFilter(3) if pen > 0 else ImageFilter.MinFilter(3)
    for _ in range(abs(pen)):
        image = image.filter(step)
    return np.asarray(image)


def mnist_pictures(images: np.ndarray, side: int, pen: int) -> list[np.ndarray]:
    """MNIST digits (uint8 [N, 28, 28]) scaled to ``side`` pixels, their pen changed by ``pen``, in corners."""
    return [in_a_corner(with_pen(Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR), pen), k)
            for k, image in enumerate(images)]


def unipen_digits(folder: Path) -> tuple[list[dict], np.ndarray]:
    with open(folder / "digits.json", encoding="utf-8") as f:
        drawings = json.load(f)
    return drawings, np.array([int(d["label"]) for d in drawings])


def pen_drawing(strokes: list, box: float, pen: float, k: int) -> Drawing:
    """A pen drawing (lists of [x, y], any units, y down) scaled so its longer side is ``box`` of the canvas,
    in corner ``k % 4``, drawn with a ``pen``-pixel brush."""
    paths = [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes if len(s)]
    points = np.concatenate(paths)
    low, high = points.min(0), points.max(0)
    scale = box / max(float((high - low).max()), 1e-9)
    size = (high - low) * scale
    margin = (MARGIN + pen) / CANVAS
    corner = np.array([margin if k // 2 % 2 == 0 else 1 - margin - size[0],
                       margin if k % 2 == 0 else 1 - margin - size[1]])
    return Drawing(strokes=tuple(Stroke(tuple(map(tuple, (p - low) * scale + corner)), pen / CANVAS) for p in paths))


def unipen_pictures(drawings: list[dict], box: float, pen: float) -> list[np.ndarray]:
    return [render_as_drawn(pen_drawing(d["strokes"], box, pen, k), CANVAS) for k, d in enumerate(drawings)]


def hwd_pictures(folder: Path, side: int | None) -> tuple[list[np.ndarray], np.ndarray]:
    """hwd1000's drawings (28x28, dark on white) inverted, scaled to the whole picture (``side`` None) or to
    ``side`` pixels in a corner."""
    rows = list(csv.DictReader(open(folder / "dataset.csv")))
    pictures = []
    for k, row in enumerate(rows):
        image = Image.open(folder / row["image"]).convert("L")
        if side is None:
            pictures.append(255 - np.asarray(image.resize((CANVAS, CANVAS), Image.Resampling.BILINEAR)))
        else:
            pictures.append(in_a_corner(255 - np.asarray(image.resize((side, side), Image.Resampling.BILINEAR)), k))
    return pictures, np.array([int(r["label"]) for r in rows])


def picture_sets(count: int) -> Iterator[tuple[str, list[np.ndarray], np.ndarray]]:
    from trainer.data import load_mnist

    images, labels = load_mnist("test")
    images, labels = images[:count].numpy(), labels[:count].numpy()
    for side, pen, name in ((28, 0, "as written"), (56, 0, "as written"), (56, -2, "fine pen (eroded 2 px)"),
                            (56, 3, "marker (dilated 3 px)"), (112, 6, "marker (dilated 6 px)")):
        yield f"MNIST test 1-{count}, {side} px in a corner, {name}", mnist_pictures(images, side, pen), labels
    unipen = Path(os.environ.get("UNIPEN_DIR", "../shared/data/unipen"))
    if (unipen / "digits.json").is_file():
        drawings, labels = unipen_digits(unipen)
        for box, pen in ((0.1, 1), (0.15, 1), (0.15, 3), (0.25, 2), (0.25, 6), (0.25, 12)):
            yield (f"UNIPEN digits, {round(box * CANVAS)} px in a corner, {pen}-px pen",
                   unipen_pictures(drawings, box, pen), labels)
    hwd = Path(os.environ.get("HWD1000_DIR", "../shared/data/hwd1000"))
    if (hwd / "dataset.csv").is_file():
        yield "hwd1000 as 280x280 canvases", *hwd_pictures(hwd, None)
        yield "hwd1000, 56 px in a corner", *hwd_pictures(hwd, 56)


def main() -> None:
    import argparse

    import torch

    from mnist_desktop.core.predictor import Predictor
    from mnist_desktop.core.recognition import drawing_input, recognise
    from trainer.iterations import DEFAULT_ITERATION

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="MNIST test digits per set (default 1000)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    predictor = Predictor()
    predictor.load_all()
    print(f"{'set':62s} {'right':>7s} {'rejected':>9s} {'it. ' + str(DEFAULT_ITERATION) + ' alone':>12s}")
    for name, pictures, labels in picture_sets(args.count):
        inputs = [drawing_input(Drawing(background=picture)) for picture in pictures]
        results = recognise(predictor, inputs, DEFAULT_ITERATION)
        right = np.mean([r.verdict.digit == label for r, label in zip(results, labels)]) * 100
        rejected = np.mean([not r.verdict.is_digit for r in results]) * 100
        alone = np.mean([r.verdict.guess == label for r, label in zip(results, labels)]) * 100
        print(f"{name:62s} {right:6.1f}% {rejected:8.1f}% {alone:11.1f}%", flush=True)


if __name__ == "__main__":
    main()
