"""One recognition path for the window and the command line. Qt-free.

drawing or image -> the 28x28 the models see (render.py for strokes, preprocess.to_mnist for pictures, as it
is for a test digit) -> every available iteration's forward pass, many images in one batch -> each
iteration's probabilities -> the verdict with its reason (verdict.py), for all seven together and for each.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from trainer.iterations import ITERATIONS, MNIST_SIDE

from .preprocess import MIN_INK, to_mnist
from .raster import grey_levels
from .render import is_speck, render_as_drawn, render_strokes
from .strokes import Drawing
from .verdict import (EMPTY, SPECK, GateOpinion, Verdict, input_measures, input_problem, judge, measures_of,
                      unfamiliar_reason)

if TYPE_CHECKING:  # the window imports this before torch has loaded
    from .predictor import Predictor


@dataclass(frozen=True)
class ModelInput:
    """What the models will see, or why there is nothing to show them."""

    image: np.ndarray | None  # float32 [28, 28] in [0, 1]
    problem: str | None = None  # a reason found before the models: empty, a speck


@dataclass(frozen=True)
class Recognition:
    image: np.ndarray | None  # exactly what the models saw
    verdict: Verdict  # the seven together; digit and confidence from the headline iteration
    probabilities: dict[int, np.ndarray] = field(default_factory=dict)  # [10] per available iteration
    verdicts: dict[int, Verdict] = field(default_factory=dict)  # each iteration on its own

    def verdict_for(self, headline: int) -> Verdict:
        """The seven's verdict with ``headline``'s answer as the digit (the iteration in view may change)."""
        p = self.probabilities.get(headline)
        if p is None:
            return self.verdict
        guess = int(np.argmax(p))
        return replace(self.verdict, digit=guess if self.verdict.is_digit else None, guess=guess,
                       confidence=float(p[guess]))


def image_input(gray: np.ndarray) -> ModelInput:
    """The raster path: a grey picture (ink bright on dark, any size) preprocessed like MNIST."""
    gray = grey_levels(gray)
    image = to_mnist(gray)
    if image is None:
        return ModelInput(None, EMPTY if int(gray.max(initial=0)) < MIN_INK else SPECK)
    return ModelInput(image)


def drawing_input(drawing: Drawing) -> ModelInput:
    """Strokes alone are rendered as vectors with MNIST's pen; a picture (with or without strokes over it)
    takes the raster path; a test digit alone is already what the models see."""
    if drawing.blank:
        return ModelInput(None, EMPTY)
    if drawing.background is None:
        image = render_strokes(drawing)
        if image is None:
            return ModelInput(None, EMPTY)
        return ModelInput(image, SPECK if is_speck(drawing) else None)
    if drawing.model_input and not drawing.strokes:
        return ModelInput(drawing.background.astype(np.float32) / 255.0)
    return image_input(render_as_drawn(drawing))


def recognise(predictor: Predictor | None, inputs: list[ModelInput], headline: int) -> list[Recognition]:
    """Every input through every available iteration in one batch; ``headline``'s answer is the digit (the
    first available iteration's if it is unavailable). Without a predictor: what the input checks found."""
    seen = [k for k, item in enumerate(inputs) if item.image is not None]
    ready = predictor is not None and predictor.available()
    images = np.stack([inputs[k].image for k in seen]) if seen else np.zeros((0, MNIST_SIDE, MNIST_SIDE), np.float32)
    outputs = predictor.outputs(images) if seen and ready else {}
    shape_tails = predictor.shape_log_tails(images) if outputs else None
    gate = predictor.gate_outputs(images) if outputs else None
    measures = input_measures(images)  # all at once: array operations over the batch, a loop only for the holes
    lead = headline if headline in outputs else next(iter(outputs), None)
    gate_judges = gate is not None and shape_tails is not None  # the seven's verdict is then the gate's (judge)
    # Without a model: the reason found so far, or no answer yet.
    results = [Recognition(item.image, Verdict(None, item.problem, None, None)) for item in inputs]
    for row, k in enumerate(seen if lead is not None else []):
        item = inputs[k]
        own = measures_of(measures, row)
        problem = item.problem or input_problem(own)
        seven_problem = item.problem or input_problem(own, shapes=not gate_judges)
        unfamiliar = unfamiliar_reason(own)
        probabilities = {i: out.probabilities[row] for i, out in outputs.items()}
        log_tails = {i: float(out.log_tail[row]) for i, out in outputs.items() if out.log_tail is not None}
        verdicts = {i: judge({i: p}, {i: log_tails[i]} if i in log_tails else {}, i, problem, unfamiliar)
                    for i, p in probabilities.items()}
        shape_tail = None if shape_tails is None else float(shape_tails[row])
        # Whether it is a digit is the seven's to say; the model made for drawings answers only as the headline.
        seven = {i: p for i, p in probabilities.items() if i in ITERATIONS or i == lead}
        opinion = None if gate is None else GateOpinion(float(gate.log_odds[row]), gate.threshold,
                                                        gate.likeness_weight, gate.seen[row])
        verdict = judge(seven, {i: t for i, t in log_tails.items() if i in ITERATIONS}, lead, seven_problem,
                        unfamiliar, shape_tail, opinion)
        results[k] = Recognition(item.image, verdict, probabilities, verdicts)
    return results


def recognise_one(predictor: Predictor | None, item: ModelInput, headline: int) -> Recognition:
    return recognise(predictor, [item], headline)[0]
