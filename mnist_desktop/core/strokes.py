"""A drawing as vectors: strokes of points in canvas units (the square drawing area is 1 x 1), and an opened
image behind them. Qt-free, so the models' input can be rendered from it anywhere (window, CLI, tests)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

Point = tuple[float, float]  # (x, y) in canvas units, 0..1
CANVAS_SIDE = 280  # pixels: the drawing area's side as the models' input is made from it, and as brushes are sized


@dataclass(frozen=True)
class Stroke:
    points: tuple[Point, ...]
    width: float  # canvas units
    eraser: bool = False

    @cached_property
    def xy(self) -> np.ndarray:
        """The points as float64 [N, 2], made once: every recognition of a drawing renders all its strokes."""
        return np.asarray(self.points, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class Drawing:
    """What the canvas shows; each undo step is one of these."""

    background: np.ndarray | None = None  # an opened image, uint8, ink bright on dark
    strokes: tuple[Stroke, ...] = ()
    model_input: bool = False  # the background is already what the models see (a 28x28 test digit)

    @property
    def blank(self) -> bool:
        return self.background is None and not self.strokes
