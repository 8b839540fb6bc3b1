import numpy as np
import pytest

from mnist_desktop.core.render import render_strokes
from mnist_desktop.core.strokes import Drawing, Stroke
from mnist_desktop.core.verdict import (DISAGREE, ENSEMBLE_THRESHOLD, LIKENESS_FLOOR, LOOKS_LIKE, GateOpinion,
                                        combined, MAX_GREY, MAX_HOLES, MAX_INK, MAX_LENGTH,
                                        MAX_STROKE_WIDTH, MODEL_THRESHOLD, MODELS_ONLY_THRESHOLD, NO_STROKES,
                                        TOO_GREY, TOO_MANY_LINES, TOO_MANY_LOOPS, TOO_MUCH_INK, UNFAMILIAR,
                                        enclosed_holes, input_measures, input_problem, judge, unfamiliar_reason)
from trainer.data import load_mnist

from .nondigits import DIGITS, SHAPES


def one_hot(digit: int, p: float = 0.9) -> np.ndarray:
    q = np.full(10, (1 - p) / 9, np.float32)
    q[digit] = p
    return q


def test_input_limits_are_measured_on_mnists_training_digits(mnist_dir):
    images, _ = load_mnist("train", mnist_dir)
    measures = input_measures(images.numpy().astype(np.float32) / 255.0)
    for name, limit in (("ink", MAX_INK), ("grey", MAX_GREY), ("width", MAX_STROKE_WIDTH)):
        assert np.quantile(measures[name], 0.9995) == pytest.approx(limit, rel=0.01), name
    assert np.quantile(measures["length"], 0.999) == pytest.approx(MAX_LENGTH, rel=0.01)
    # The fewest holes that keeps all but 0.2% of the digits: one fewer would reject 6%.
    assert (measures["holes"] > MAX_HOLES).mean() < 0.002 < (measures["holes"] > MAX_HOLES - 1).mean()


def drawn(paths: list, brush: float = 0.05) -> np.ndarray:
    return render_strokes(Drawing(strokes=tuple(Stroke(tuple(path), brush) for path in paths)))


def test_holes_are_the_areas_the_ink_closes():
    ring = (np.abs(np.hypot(*np.indices((28, 28)) - 13.5) - 7) < 1.5).astype(np.float32)
    assert enclosed_holes(ring) == 1
    assert enclosed_holes(np.maximum(ring, np.eye(28, dtype=np.float32))) == 2  # a line across cuts it in two
    assert [enclosed_holes(drawn(DIGITS[digit])) for digit in (1, 0, 8)] == [0, 1, 2]


def test_too_many_loops_or_lines_for_a_digit():
    """A circle with a cross has four loops, a spiral of two turns is longer than any digit; digits pass. With
    the learned gate, which judges loops and lines itself, neither is the input checks' to reject."""
    cross = input_measures(drawn(SHAPES["circle with a cross"]))
    assert input_problem(cross) == TOO_MANY_LOOPS
    spiral = [[(0.5 + 0.035 * t * np.sin(t), 0.5 - 0.035 * t * np.cos(t)) for t in np.linspace(0, 14, 90)]]
    assert input_problem(input_measures(drawn(spiral))) == TOO_MANY_LINES
    assert input_problem(cross, shapes=False) is None
    assert input_problem(input_measures(drawn(spiral)), shapes=False) is None
    assert all(input_problem(input_measures(drawn(paths))) is None for paths in DIGITS.values())


def test_input_checks_name_blobs_and_photos():
    disc = (np.hypot(*np.indices((28, 28)) - 13.5) < 9).astype(np.float32)
    assert input_problem(input_measures(disc)) == TOO_MUCH_INK
    patch = np.zeros((28, 28), np.float32)
    patch[8:21, 8:21] = 1.0  # a square patch: wider than any stroke
    assert input_problem(input_measures(patch)) == NO_STROKES
    photo = np.random.default_rng(0).uniform(0.2, 0.55, (28, 28)).astype(np.float32)
    assert unfamiliar_reason(input_measures(photo)) == TOO_GREY
    bar = np.zeros((28, 28), np.float32)
    bar[4:24, 13:15] = 1.0
    assert input_problem(input_measures(bar)) is None and unfamiliar_reason(input_measures(bar)) == UNFAMILIAR


def test_judge_the_seven_together_and_one_alone():
    seven = {n: one_hot(3) for n in range(1, 8)}
    typical = {n: -1.0 for n in range(1, 8)}
    verdict = judge(seven, typical, 5, None, shape_tail=-1.0)
    assert verdict.is_digit and verdict.digit == 3 and verdict.confidence == pytest.approx(0.9)
    assert judge(seven, typical, 5, TOO_MUCH_INK, shape_tail=-1.0).reason == TOO_MUCH_INK
    # The models' mean and the pixel model's tail add up: each alone would pass, together they reject.
    half = {n: ENSEMBLE_THRESHOLD / 2 - 0.1 for n in range(1, 8)}
    assert judge(seven, half, 5, None, shape_tail=-0.1).is_digit
    verdict = judge(seven, half, 5, None, shape_tail=ENSEMBLE_THRESHOLD / 2)
    assert not verdict.is_digit and verdict.reason == UNFAMILIAR and verdict.guess == 3
    # Without the pixel model, the mean meets its own threshold.
    assert judge(seven, {n: MODELS_ONLY_THRESHOLD + 0.1 for n in range(1, 8)}, 5, None).is_digit
    assert not judge(seven, {n: MODELS_ONLY_THRESHOLD - 0.1 for n in range(1, 8)}, 5, None).is_digit
    # One model alone is held to its own threshold, and the pixel model is not its opinion.
    assert judge({2: one_hot(3)}, {2: MODEL_THRESHOLD + 0.1}, 2, None, shape_tail=-30.0).is_digit
    assert not judge({2: one_hot(3)}, {2: MODEL_THRESHOLD - 0.1}, 2, None).is_digit


def test_without_statistics_the_seven_must_agree():
    split = {n: one_hot(n % 3) for n in range(1, 8)}  # 3 say 1, 2 say 2, 2 say 0
    assert judge(split, {}, 5, None).reason == DISAGREE
    agreed = {n: one_hot(4) for n in range(1, 8)} | {7: one_hot(9)}
    assert judge(agreed, {}, 5, None).digit == 4
    assert judge({5: one_hot(1)}, {}, 5, None).digit == 1  # one model alone has nobody to agree with


def test_the_gate_and_the_digit_likeness_decide_together():
    seven = {n: one_hot(3) for n in range(1, 8)}
    tails = {n: -2.0 for n in range(1, 8)}  # digit-likeness -2 - 1 = -3
    weight = 0.4
    threshold = combined(0.5, -3.0, weight)
    opinion = lambda log_odds, seen=None: GateOpinion(log_odds, threshold, weight, seen)
    assert judge(seven, tails, 5, None, shape_tail=-1.0, gate=opinion(0.6)).digit == 3
    verdict = judge(seven, tails, 5, None, shape_tail=-1.0, gate=opinion(0.4))
    assert not verdict.is_digit and verdict.reason == UNFAMILIAR and verdict.guess == 3
    # A likeness the rule before the gate rejects passes when the gate is sure enough, and the other way round.
    unlike = {n: ENSEMBLE_THRESHOLD for n in range(1, 8)}
    assert judge(seven, unlike, 5, None, shape_tail=-1.0, gate=opinion(9.0)).is_digit
    assert not judge(seven, tails, 5, None, shape_tail=-1.0, gate=opinion(-9.0)).is_digit
    assert combined(0.0, -1000.0, weight) == combined(0.0, LIKENESS_FLOOR, weight)  # far off counts as the floor
    # The opinion's own weight of the likeness counts: weighed more, the same low likeness rejects what passed.
    assert not judge(seven, tails, 5, None, shape_tail=-1.0, gate=GateOpinion(0.6, threshold, 1.0)).is_digit
    for seen, reason in LOOKS_LIKE.items():  # what it sees, when that is clear
        assert judge(seven, tails, 5, None, shape_tail=-1.0, gate=opinion(-9.0, seen)).reason == reason
    assert judge(seven, tails, 5, TOO_MUCH_INK, shape_tail=-1.0, gate=opinion(9.0)).reason == TOO_MUCH_INK
    assert judge(seven, tails, 5, None, TOO_GREY, -1.0, opinion(-9.0, "shape")).reason == TOO_GREY
    # Without the pixel model the rule before the gate runs; one model alone keeps its own verdict.
    assert not judge(seven, {n: MODELS_ONLY_THRESHOLD - 0.1 for n in range(1, 8)}, 5, None,
                     gate=opinion(9.0)).is_digit
    assert judge({2: one_hot(3)}, {2: MODEL_THRESHOLD + 0.1}, 2, None, shape_tail=-1.0,
                 gate=opinion(-9.0)).is_digit
