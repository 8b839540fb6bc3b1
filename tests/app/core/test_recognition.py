"""The recognition path against real data: MNIST's test digits, hwd1000's drawings (evaluation only) and the
generated non-digits. The rates here are the ones the README quotes."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from mnist_desktop.core.corpus import NOT_A_DIGIT, drawn, is_held_out, make_corpus, prototypes
from mnist_desktop.core.predictor import Predictor
from mnist_desktop.core.recognition import ModelInput, drawing_input, image_input, recognise
from mnist_desktop.core.drawn_digits import style_digits, unipen_digits
from mnist_desktop.core.strokes import Drawing
from mnist_desktop.core.verdict import (EMPTY, MAX_HOLES, MAX_LENGTH, SPECK, TOO_MANY_LINES, TOO_MANY_LOOPS,
                                        input_measures)
from trainer import calibration, digit_shapes, gate
from trainer.iterations import DEFAULT_ITERATION
from trainer.paths import shipped_weights_dir, shipped_weights_path

from .nondigits import hwd_inputs, mnist_inputs, nondigit_set, sample_inputs


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    predictor = Predictor()
    predictor.load_all()
    return predictor


def rejected(predictor, inputs) -> np.ndarray:
    return np.array([not r.verdict.is_digit for r in recognise(predictor, inputs, DEFAULT_ITERATION)])


def test_at_most_one_percent_of_mnists_test_digits_are_rejected(predictor, mnist_dir):
    results = recognise(predictor, mnist_inputs("test")[0], DEFAULT_ITERATION)
    assert np.mean([not r.verdict.is_digit for r in results]) <= 0.01
    for n in range(1, 8):  # each model's own verdict too (the Compare cards)
        assert np.mean([not r.verdicts[n].is_digit for r in results]) <= 0.01, n


def weights_without(folder, *left_out: str):
    """A weights folder with the shipped files but ``left_out``."""
    for path in shipped_weights_dir().glob("*.pt"):
        if path.name not in left_out:
            (folder / path.name).symlink_to(path)
    return folder


def test_without_the_gate_the_old_rule_judges(tmp_path, mnist_dir):
    folder = weights_without(tmp_path, gate.FILE)
    (folder / gate.FILE).write_bytes(b"not a gate")
    old = Predictor(weights_dir=folder)
    old.load_all()
    assert old.gate is None and old.shapes is not None and old.available() == list(range(1, 8))
    assert old.problems() == [f"the \"not a digit\" gate (the models judge without it): {folder / gate.FILE} is "
                              "not a checkpoint: it is not a PyTorch file at all. Run mnist-desktop gate to write it "
                              "again."]
    assert rejected(old, mnist_inputs("test")[0]).mean() <= 0.01
    assert rejected(old, sample_inputs(nondigit_set())).mean() >= 0.9


def test_without_the_pixel_model_and_the_gate_the_models_judge_alone(tmp_path, predictor, mnist_dir):
    alone = Predictor(weights_dir=weights_without(tmp_path, digit_shapes.FILE, gate.FILE))
    alone.load_all()
    assert alone.shapes is None and alone.gate is None and alone.available() == list(range(1, 8))
    assert alone.problems() == [f"the \"not a digit\" verdict's pixel model (the models judge alone): "
                                f"Cannot open the weights file {tmp_path / digit_shapes.FILE}: No such file or "
                                "directory. Run mnist-train shapes to write it again.",
                                f"the \"not a digit\" gate (the models judge without it): Cannot open the weights "
                                f"file {tmp_path / gate.FILE}: No such file or directory. Run mnist-desktop gate "
                                "to write it again."]
    assert rejected(alone, mnist_inputs("test")[0]).mean() <= 0.01
    assert rejected(alone, sample_inputs(nondigit_set())).mean() >= 0.85


def test_hand_drawn_digits_are_kept_and_read(predictor, hwd_dir):
    """Evaluation only: nothing was fitted on these 1,000 drawings."""
    inputs, labels = hwd_inputs(hwd_dir)
    results = recognise(predictor, inputs, DEFAULT_ITERATION)
    assert np.mean([not r.verdict.is_digit for r in results]) <= 0.01
    accuracy = np.mean([int(np.argmax(r.probabilities[5])) == label for r, label in zip(results, labels)])
    assert accuracy >= 0.995


def test_most_non_digits_are_rejected(predictor):
    samples = nondigit_set()
    flags = rejected(predictor, sample_inputs(samples))
    by_category = {c: flags[[s.category == c for s in samples]].mean() for c in dict.fromkeys(s.category for s in samples)}
    assert flags.mean() >= 0.90
    assert all(by_category[c] == 1.0 for c in ("dots", "filled blobs", "photos", "noise")), by_category


def test_nothing_and_specks_never_reach_the_models(predictor):
    blank, speck = image_input(np.zeros((280, 280), np.uint8)), np.zeros((280, 280), np.uint8)
    speck[100:104, 100:104] = 255
    results = recognise(predictor, [blank, image_input(speck), drawing_input(Drawing())], 5)
    assert [r.verdict.reason for r in results] == [EMPTY, SPECK, EMPTY]
    assert all(r.probabilities == {} and r.verdict.guess is None for r in results)


def test_a_test_digit_is_seen_as_it_is(predictor, mnist_dir):
    from trainer.data import load_mnist

    image = load_mnist("test", mnist_dir)[0][62].numpy()
    item = drawing_input(Drawing(background=image, model_input=True))
    assert np.array_equal(item.image, image.astype(np.float32) / 255)
    assert not np.array_equal(drawing_input(Drawing(background=image)).image, item.image)  # preprocessed again


def test_checkpoints_without_statistics_still_judge(tmp_path, predictor):
    """Old checkpoints: the verdict falls back to the input checks and the seven's agreement, and each says
    what to run."""
    for n in range(1, 8):
        checkpoint = torch.load(shipped_weights_path(n), weights_only=True)
        if n == 1:  # statistics of the first version: one covariance shared by the classes
            checkpoint[calibration.KEY] = checkpoint[calibration.KEY] | {"version": 1}
        else:
            checkpoint.pop(calibration.KEY)
        torch.save(checkpoint, tmp_path / f"iteration{n}.pt")
    old = Predictor(weights_dir=tmp_path)
    old.load_all()
    assert old.available() == list(range(1, 8)) and all(s.scorer is None for s in old.slots.values())
    problems = old.problems()
    assert "older version" in problems[0] and all("has no" in problem for problem in problems[1:7])
    assert all(problem.startswith(f"iteration {n}: ") and "mnist-train calibrate" in problem
               for n, problem in zip(range(1, 8), problems))
    samples = nondigit_set(per_category=4)
    flags = rejected(old, sample_inputs(samples))
    assert flags[[s.category == "dots" for s in samples]].all() and flags.mean() >= 0.3
    digits, labels = mnist_inputs("test")
    results = recognise(old, digits[:500], 5)
    assert np.mean([r.verdict.digit == label for r, label in zip(results, labels[:500])]) >= 0.97


def test_the_gate_rejects_held_out_non_digits_and_keeps_held_out_writers_digits(predictor, unipen_dir):
    """Sources never used to train or choose the gate (whole font families, doodle kinds and UNIPEN
    contributors), a spread of each, drawn and judged as a drawing on the canvas is."""
    held_out = [replace(p, copies=1) for p in prototypes(unipen_dir) if is_held_out(p.source)]
    non_digits = make_corpus(0, [p for p in held_out if p.label == NOT_A_DIGIT][::40])
    digits = make_corpus(0, [p for p in held_out if p.label != NOT_A_DIGIT and p.source.startswith("unipen")][::2])
    assert len(non_digits.images) > 100 and len(digits.images) > 100
    as_inputs = lambda images: [ModelInput(image) for image in images.astype(np.float32) / 255]
    assert rejected(predictor, as_inputs(non_digits.images)).mean() >= 0.65
    assert rejected(predictor, as_inputs(digits.images)).mean() <= 0.02


def test_the_gate_judges_a_slashed_zero_that_has_more_line_than_mnists_digits(predictor):
    """A slashed zero is longer than MNIST's digits (the input checks' MAX_LENGTH): with the gate the seven's
    verdict is the gate's; each model's own verdict (a Compare card) keeps the check."""
    images, _, names = style_digits(11, 40)
    zeros = images[np.array(names) == "slashed 0"]
    long = zeros[input_measures(zeros)["length"] > MAX_LENGTH]
    assert len(long) >= 3
    results = recognise(predictor, [ModelInput(image) for image in long], DEFAULT_ITERATION)
    assert all(r.verdict.reason != TOO_MANY_LINES for r in results)
    assert np.mean([r.verdict.digit == 0 for r in results]) >= 0.8
    assert all(v.reason == TOO_MANY_LINES for r in results for v in r.verdicts.values())


def test_the_gate_judges_an_8_whose_pen_closes_a_third_loop(predictor, unipen_dir):
    """Some pens close a small third loop in an 8 where the stroke crosses itself (three of UNIPEN's choosing
    writers' 8s, drawn as they are), which the input checks' MAX_HOLES rejects: with the gate the seven's verdict
    is the gate's, and it reads them; each model's own verdict keeps the check."""
    paths, labels = unipen_digits(unipen_dir, held_out=False)
    images = np.stack([drawn(p) for p in paths])
    loops = input_measures(images)["holes"] > MAX_HOLES
    assert loops.sum() >= 3 and (labels[loops] == 8).all()
    results = recognise(predictor, [ModelInput(image) for image in images[loops]], DEFAULT_ITERATION)
    assert all(r.verdict.reason != TOO_MANY_LOOPS for r in results)
    assert np.mean([r.verdict.digit == 8 for r in results]) >= 2 / 3
    assert all(v.reason == TOO_MANY_LOOPS for r in results for v in r.verdicts.values())
