"""Is it a digit at all? The verdict and its reason, from the model input and the seven models. Qt-free.

Two kinds of evidence, checked in this order:
1. The input itself (the 28x28 the models see) against MNIST's 60k training digits: far more ink than any
   of them, or strokes far wider than theirs (99.95th percentiles of ``input_measures`` over the training
   digits); more closed loops than an 8 (0.13% of them), or more line than a digit has (99.9th percentile of
   the centre lines' length): grids, spirals, a circle with a cross, a smiley. tests/app/core/test_verdict.py
   measures the limits again. Grey levels only explain a rejection ("a photo"): as a check of their own they
   rejected 13% of hwd1000's drawings, whose small strokes come out greyer than MNIST's when scaled up, and
   the models reject every photo anyway.
2. The models: for each one, how its energy and the likelihood of its features under its digit classes'
   Gaussians rank among its own training digits (trainer.calibration), as log tail probabilities. Their mean
   over the models that have the statistics, plus the same tail of the pixel model of MNIST's digits
   (trainer.digit_shapes), is the "digit-likeness". Below ENSEMBLE_THRESHOLD: the models do not recognise
   the shape. The threshold is set on MNIST's 10k test digits so that at most 1% of them are rejected, input
   checks included (``python -m tests.app.core.nondigits`` prints the quantiles and the rates). Without the
   pixel model the mean alone meets its own threshold; checkpoints without the statistics fall back to the
   seven's agreement.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .render import stroke_width

EMPTY = "the canvas is empty"
SPECK = "a speck or a dot, too small to be a digit"
TOO_MUCH_INK = "a filled blob: far more ink than any digit has"
TOO_GREY = "a photo or a texture: too many shades of grey for pen strokes"
NO_STROKES = "a filled blob: patches of ink, not pen strokes"
TOO_MANY_LOOPS = "too many closed loops for a digit"
TOO_MANY_LINES = "too many lines for one digit"
UNFAMILIAR = "the models do not recognise the shape"
DISAGREE = "the models disagree about it"
LOOKS_LIKE = {"letter": "it looks like a letter", "symbol": "it looks like a symbol or a sign",
              "shape": "it looks like a drawing or a shape", "digits": "it looks like several digits: draw one at a time"}

# Limits from MNIST's 60k training digits (input_measures; test_verdict measures them again).
MAX_INK = 0.305  # mean brightness of the 28x28 (99.95th percentile)
MAX_GREY = 0.585  # share of the ink pixels (> 0.1) that are mid-grey (0.1-0.6) (99.95th percentile)
MAX_STROKE_WIDTH = 5.71  # pixels, render.stroke_width (99.95th percentile)
MAX_LENGTH = 66.7  # pixels of centre line (99.9th percentile): spirals, smileys and @ are longer
HOLE_INK_LEVEL = 0.5  # brighter is ink when counting holes (raster.INK_LEVEL is another measure)
MIN_HOLE_AREA = 3  # pixels: smaller gaps are where thick strokes almost meet
MAX_HOLES = 2  # an 8 has two; 0.13% of the training digits have more: a circle with a cross has four

# Thresholds on the digit-likeness, each rejecting at most 1% of MNIST's test digits with the input checks
# (python -m tests.app.core.nondigits prints the 1% quantiles they come from):
ENSEMBLE_THRESHOLD = -10.7  # the models' mean log tail probability plus the pixel model's
MODELS_ONLY_THRESHOLD = -7.0  # the models' mean alone, when the pixel model's file cannot be read
MODEL_THRESHOLD = -8.1  # one model's own verdict (a Compare card), the lowest of the seven's quantiles
# With the learned gate (trainer.gate), its log-odds plus its file's weight times the digit-likeness above,
# floored: mnist-desktop gate chooses the weight on the corpus' tuning sources (gate_cli.chosen_weight).
LIKENESS_FLOOR = -60.0
MIN_AGREEMENT = 5  # without statistics: fewer of the seven agreeing on the top digit rejects (MNIST: 0.5%)


def combined(log_odds, likeness, weight: float):
    """The gate's verdict score from its log-odds and the digit-likeness (floats or arrays)."""
    return log_odds + weight * np.maximum(likeness, LIKENESS_FLOOR)


@dataclass(frozen=True)
class GateOpinion:
    """The learned gate's answer for one image (trainer.gate)."""

    log_odds: float  # how much likelier a digit than anything else
    threshold: float  # under it, not a digit
    likeness_weight: float  # of the seven's digit-likeness in the score (combined)
    seen: str | None = None  # what it looks like instead (a trainer.gate.CLASSES name), when that is clear

    @property
    def reason(self) -> str:
        return LOOKS_LIKE.get(self.seen, UNFAMILIAR)


@dataclass(frozen=True)
class Verdict:
    digit: int | None  # None: not a digit
    reason: str | None  # why not, in words; None for a digit
    guess: int | None  # the best guess all the same (None when nothing was seen)
    confidence: float | None  # the headline model's probability of ``guess``, 0-1

    @property
    def is_digit(self) -> bool:
        return self.digit is not None


def enclosed_holes(image: np.ndarray) -> int:
    """How many background areas of at least MIN_HOLE_AREA pixels the ink closes all round in one 28x28 (a 0
    has one, an 8 two). Background pixels are those under HOLE_INK_LEVEL, joined to their four neighbours.
    The work is on the background's runs along the rows (a few dozen), with array operations, not a loop over
    pixels: the outside grows from the runs on the image's edge through touching runs; what it never reaches is
    grouped into holes the same way."""
    background = np.zeros((image.shape[0], image.shape[1] + 2), np.int8)
    background[:, 1:-1] = image < HOLE_INK_LEVEL
    change = np.diff(background, axis=1)
    rows, starts = np.nonzero(change == 1)
    ends = np.nonzero(change == -1)[1]
    below = (rows[:, None] + 1 == rows) & (starts[:, None] < ends) & (starts < ends[:, None])  # share a column
    touching = below | below.T
    outside = (rows == 0) | (rows == image.shape[0] - 1) | (starts == 0) | (ends == image.shape[1])
    while (grown := outside | touching[outside].any(0)).sum() > outside.sum():
        outside = grown
    enclosed = np.nonzero(~outside)[0]
    touching = touching[np.ix_(enclosed, enclosed)]
    hole = np.arange(len(enclosed))  # each enclosed run ends with the smallest number among the runs it reaches
    while True:
        smallest = np.minimum(hole, np.where(touching, hole, len(hole)).min(1, initial=len(hole)))
        if np.array_equal(smallest, hole):
            break
        hole = smallest
    areas = np.bincount(hole, weights=(ends - starts)[enclosed])
    return int((areas >= MIN_HOLE_AREA).sum())


def input_measures(images: np.ndarray) -> dict[str, np.ndarray]:
    """Per 28x28 image in [0, 1] ([..., 28, 28]): ink (mean brightness), grey (mid-grey share of the ink
    pixels), width (stroke width in pixels), length (of the strokes' centre lines in pixels: the ink over the
    stroke width), holes (enclosed_holes)."""
    ink_pixels = images > 0.1
    grey_pixels = ink_pixels & (images < 0.6)
    width = stroke_width(images)
    holes = np.array([enclosed_holes(image) for image in images.reshape(-1, *images.shape[-2:])])
    return {"ink": images.mean((-2, -1)),
            "grey": grey_pixels.sum((-2, -1)) / np.maximum(ink_pixels.sum((-2, -1)), 1),
            "width": width,
            "length": images.sum((-2, -1)) / np.maximum(width, 1e-6),
            "holes": holes.reshape(images.shape[:-2])}


def measures_of(measures: dict[str, np.ndarray], row: int) -> dict[str, float]:
    """One image's measures, from input_measures of a batch [N, 28, 28]."""
    return {name: float(values[row]) for name, values in measures.items()}


def input_problem(measures: dict[str, float], shapes: bool = True) -> str | None:
    """Why the model input cannot be a digit, from one image's input_measures; None if it could be one.
    ``shapes``: also whether it has more loops or more line than a digit; the learned gate judges those itself
    (it learned grids and long drawings, and real pens draw digits these checks reject: a slashed zero has more
    line than MNIST's digits, an 8 whose pen crosses where it starts has a third loop)."""
    if measures["ink"] > MAX_INK:
        return TOO_MUCH_INK
    if measures["width"] > MAX_STROKE_WIDTH:
        return NO_STROKES
    if not shapes:
        return None
    if measures["holes"] > MAX_HOLES:
        return unfamiliar_reason(measures, TOO_MANY_LOOPS)
    if measures["length"] > MAX_LENGTH:
        return unfamiliar_reason(measures, TOO_MANY_LINES)
    return None


def unfamiliar_reason(measures: dict[str, float], otherwise: str = UNFAMILIAR) -> str:
    """What to call an input that is not a digit for ``otherwise``'s reason: a photo when it is mostly shades
    of grey (a photo's texture has holes and long edges too, but "a photo" says what it is)."""
    return TOO_GREY if measures["grey"] > MAX_GREY else otherwise


def judge(probabilities: dict[int, np.ndarray], log_tails: dict[int, float], headline: int,
          problem: str | None, unfamiliar: str = UNFAMILIAR, shape_tail: float | None = None,
          gate: GateOpinion | None = None) -> Verdict:
    """The verdict of the models ``probabilities`` holds (each one's [10]), the headline model's digit.

    ``log_tails``: each model's digit-likeness, for the models whose checkpoint has the statistics;
    ``problem``: what input_problem found, if anything; ``unfamiliar``: the reason to give when the models
    do not recognise it; ``shape_tail``: the pixel model's digit-likeness, if it is loaded; ``gate``: the
    learned gate's opinion: with the seven's statistics and the pixel model, its log-odds plus their
    digit-likeness (``combined``) decide after the input checks. One model alone gives its own
    verdict, from its own scores."""
    p = probabilities[headline]
    guess = int(np.argmax(p))
    confidence = float(p[guess])
    if problem:
        return Verdict(None, problem, guess, confidence)
    if gate is not None and log_tails and shape_tail is not None and len(probabilities) > 1:
        likeness = float(np.mean(list(log_tails.values()))) + shape_tail
        if combined(gate.log_odds, likeness, gate.likeness_weight) < gate.threshold:
            return Verdict(None, gate.reason if unfamiliar == UNFAMILIAR else unfamiliar, guess, confidence)
    elif log_tails:
        likeness = float(np.mean(list(log_tails.values())))
        if len(probabilities) == 1:
            threshold = MODEL_THRESHOLD
        elif shape_tail is None:
            threshold = MODELS_ONLY_THRESHOLD
        else:
            likeness, threshold = likeness + shape_tail, ENSEMBLE_THRESHOLD
        if likeness < threshold:
            return Verdict(None, unfamiliar, guess, confidence)
    elif len(probabilities) > 1:
        votes = Counter(int(np.argmax(q)) for q in probabilities.values())
        if votes.most_common(1)[0][1] < min(MIN_AGREEMENT, len(probabilities)):
            return Verdict(None, DISAGREE, guess, confidence)
    return Verdict(guess, None, guess, confidence)
