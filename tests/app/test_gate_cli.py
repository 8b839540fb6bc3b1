"""``mnist-desktop gate``: its bad input is one sentence, and how it chooses the weight of the digit-likeness (the
whole command trains for many minutes; its figures are in the README)."""
import numpy as np

from mnist_desktop.command import launch
from mnist_desktop.core.verdict import combined
from mnist_desktop.gate_cli import LIKENESS_WEIGHTS, RATE, chosen_weight


def test_measuring_a_gate_that_cannot_be_read_is_one_sentence(tmp_path, capsys):
    assert launch(["gate", "--measure-only", "--weights-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Cannot open") and err.endswith("Run mnist-desktop gate to write it again.")
    assert len(err.splitlines()) == 1
    (tmp_path / "gate.pt").write_bytes(b"not a gate")
    assert launch(["gate", "--measure-only", "--weights-dir", str(tmp_path)]) == 2
    assert "Run mnist-desktop gate to write it again." in capsys.readouterr().err


def test_the_weight_of_the_likeness_is_the_one_that_rejects_most_non_digits_at_the_digits_rate():
    # 100 digits: log-odds 0..99 and likeness 0, so the threshold rejects one (RATE 1%) whatever the weight.
    digits = np.arange(100.0), np.zeros(100)
    # Non-digits the gate finds digit-like but the seven do not: weighing the likeness more rejects them, first
    # at 1.0 (50 + 1.0 * the floor of -60 < 1); a larger weight rejects no more, so the smaller is kept...
    unlike = np.full(10, 50.0), np.full(10, -200.0)
    weight, threshold, tried = chosen_weight(digits, unlike)
    assert weight == 1.0 and threshold == 1.0 and tried[weight] == 1.0 == tried[max(LIKENESS_WEIGHTS)]
    assert tried[0.8] == 0.0 and list(tried) == list(LIKENESS_WEIGHTS)
    # ...and when the likeness tells nothing the threshold alone decides: the smallest weight on a tie.
    weight, threshold, tried = chosen_weight(digits, (np.full(10, -5.0), np.zeros(10)))
    assert weight == min(LIKENESS_WEIGHTS) and set(tried.values()) == {1.0}
    # Digits the seven find unlike: a large weight would push the threshold down and let non-digits through.
    digits = np.r_[np.full(90, 10.0), np.full(10, 10.0)], np.r_[np.zeros(90), np.full(10, -30.0)]
    weight, threshold, tried = chosen_weight(digits, (np.full(10, 5.0), np.zeros(10)))
    assert tried[weight] == 1.0 and (combined(*digits, weight) < threshold).mean() <= RATE
    assert tried[max(LIKENESS_WEIGHTS)] == 0.0
