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


def test_the_weight_of_the_likeness_rejects_most_non_digits_and_at_most_the_rate_of_scans():
    # 100 drawn digits: log-odds 0..99 and likeness 0, so the threshold rejects one (RATE 1%) whatever the weight.
    digits = np.arange(100.0), np.zeros(100)
    scans = np.full(100, 50.0), np.zeros(100)  # MNIST's scans that the gate and the seven find digit-like
    # Non-digits the gate finds digit-like but the seven do not: weighing the likeness more rejects them, first
    # at 0.9 (50 + 0.9 * the floor of -60 < 1); a larger weight rejects no more, so the smaller is kept...
    unlike = np.full(10, 50.0), np.full(10, -200.0)
    weight, threshold, tried = chosen_weight(digits, unlike, scans)
    assert weight == 0.9 and threshold == 1.0 and tried[weight] == (1.0, 0.0) == tried[max(LIKENESS_WEIGHTS)]
    assert tried[0.8] == (0.0, 0.0) and list(tried) == list(LIKENESS_WEIGHTS)
    # ...unless that weight rejects more than RATE of the scans: here from 0.9 on, as it does the non-digits.
    weight, threshold, tried = chosen_weight(digits, unlike, (scans[0], np.r_[np.zeros(98), np.full(2, -100.0)]))
    assert weight == 0.0 and tried[0.9] == (1.0, 0.02)
    # When the likeness tells nothing the threshold alone decides: the smallest weight on a tie.
    weight, threshold, tried = chosen_weight(digits, (np.full(10, -5.0), np.zeros(10)), scans)
    assert weight == min(LIKENESS_WEIGHTS) and {share for share, _ in tried.values()} == {1.0}
    # Digits the seven find unlike: a large weight would push the threshold down and let non-digits through.
    digits = np.full(100, 10.0), np.r_[np.zeros(90), np.full(10, -30.0)]
    weight, threshold, tried = chosen_weight(digits, (np.full(10, 5.0), np.zeros(10)), scans)
    assert tried[weight][0] == 1.0 and (combined(*digits, weight) < threshold).mean() <= RATE
    assert tried[max(LIKENESS_WEIGHTS)][0] == 0.0
    # Scans rejected whatever the weight (5 of 100), 5 more without the likeness: the weight that rejects fewest.
    scans = np.r_[np.full(90, 50.0), np.full(5, -30.0), np.full(5, 0.5)], np.r_[np.zeros(95), np.full(5, 10.0)]
    weight, threshold, tried = chosen_weight((np.arange(100.0), np.zeros(100)), unlike, scans)
    assert weight == 0.1 and tried[0.0][1] == 0.1 and all(scanned >= 0.05 for _, scanned in tried.values())
