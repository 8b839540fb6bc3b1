import pytest
import torch

from trainer.errors import CheckpointError
from trainer.gate import (OUTPUTS, GateConfig, digit_log_odds, gate_file, gate_logits, read_gate, targets,
                          threshold_for, train_gate, what_it_sees, write_gate)


def test_the_threshold_rejects_at_most_the_rate_of_the_digits():
    scores = torch.tensor([5.0, -1.0, 3.0, 0.5, 2.0, 7.0, -3.0, 1.0, 4.0, 6.0])  # sorted: -3 -1 0.5 1 2 3 ...
    assert threshold_for(scores, 0.0) == -4.0  # nothing is below it: one under the lowest score
    assert threshold_for(scores, 0.1) == -2.0  # one of ten below, halfway to the next: -3 | -1
    assert threshold_for(scores, 0.19) == -2.0  # still one: two would be 20%
    assert threshold_for(scores, 0.2) == -0.25  # -1 | 0.5
    for rate in (0.0, 0.05, 0.1, 0.25, 0.5, 0.99):
        assert (scores < threshold_for(scores, rate)).float().mean() <= rate
    assert threshold_for(scores, 1.0) == 6.5  # never past the highest
    assert threshold_for(torch.tensor([-50.0, 0.0, 1.0, 2.0]), 0.25) == -1.0  # at most 1 under the boundary score
    assert threshold_for(torch.tensor([-torch.inf, 0.0, 1.0, 2.0]), 0.25) == -1.0  # an input check's rejection
    assert threshold_for(torch.tensor([-1.0, 0.0, 0.0, 0.0]), 0.5) == -0.5  # ties with the boundary pass with it


def test_log_odds_of_any_digit_against_anything_else():
    logits = torch.zeros(3, len(OUTPUTS))
    logits[0, 7] = 5.0  # a 7
    logits[1, OUTPUTS.index("letter")] = 5.0
    logits[2, :10] = 1.0  # some digit, which one unclear: still a digit
    odds = digit_log_odds(logits)
    p = logits.softmax(1)
    assert torch.allclose(odds, torch.log(p[:, :10].sum(1) / p[:, 10:].sum(1)))
    assert odds[0] > 0 > odds[1] and odds[2] > 0
    sure = torch.full((2, len(OUTPUTS)), -500.0)
    sure[0, 3] = sure[1, OUTPUTS.index("shape")] = 0.0
    assert digit_log_odds(sure).tolist() == pytest.approx([88, -88], abs=2)  # sure either way, still finite


def test_each_digit_is_its_own_output_and_the_other_kinds_follow():
    labels = torch.tensor([3, 0, -1, -1, -1, -1], dtype=torch.int8)
    kinds = torch.tensor([0, 0, 1, 2, 3, 4], dtype=torch.int8)  # digit, digit, letter, symbol, shape, digits
    assert [OUTPUTS[k] for k in targets(labels, kinds)] == ["3", "0", "letter", "symbol", "shape", "digits"]
    logits = torch.full((2, len(OUTPUTS)), -9.0)
    logits[0, OUTPUTS.index("shape")] = 5.0
    logits[1, OUTPUTS.index("letter")] = logits[1, OUTPUTS.index("symbol")] = 5.0
    assert what_it_sees(logits) == ["shape", None]  # only a clear kind is named


def bars_and_squares() -> tuple[torch.Tensor, torch.Tensor]:
    """Bars are ones, squares are shapes."""
    images = torch.zeros(64, 28, 28, dtype=torch.uint8)
    images[:32, 4:24, 13:15] = 255
    images[32:, 6:22, 6:22] = 255
    return images, torch.tensor([1] * 32 + [OUTPUTS.index("shape")] * 32)


def test_trained_written_and_read_back(tmp_path):
    images, classes = bars_and_squares()
    trained = train_gate(images, classes, GateConfig(epochs=3, batch_size=16, width=4, threads=1))
    scores = digit_log_odds(gate_logits(trained, images))
    assert scores[:32].min() > scores[32:].max()  # it tells bars from squares
    model, threshold, weight = read_gate(write_gate(gate_file(trained, 0.25, 4, 0.3), tmp_path / "gate.pt"))
    assert threshold == 0.25 and weight == 0.3 and torch.equal(digit_log_odds(gate_logits(model, images)), scores)


def test_the_members_differ_and_their_log_probabilities_are_averaged():
    images, classes = bars_and_squares()
    trained = train_gate(images, classes, GateConfig(epochs=1, batch_size=16, width=4, members=2, threads=1))
    first, second = trained.members
    assert not torch.equal(first[0].weight, second[0].weight)  # from seeds of their own
    x = images[:5].unsqueeze(1).float() / 255
    with torch.no_grad():
        assert torch.allclose(trained(x), (first(x).log_softmax(1) + second(x).log_softmax(1)) / 2)


def test_a_missing_or_damaged_gate_is_one_sentence(tmp_path):
    with pytest.raises(CheckpointError, match="Cannot open .* Run mnist-desktop gate to write it again"):
        read_gate(tmp_path / "gate.pt")
    images, classes = bars_and_squares()
    good = gate_file(train_gate(images, classes, GateConfig(epochs=1, width=4, threads=1)), 0.0, 4, 0.4)
    for damage in ({"threshold": float("nan")}, {"outputs": ["digit", "other"]}, {"width": 5}, {"format": "x"},
                   {"likeness_weight": -1.0}, {"likeness_weight": float("nan")}, {"likeness_weight": "0.4"},
                   {"members": 0}, {"members": 2}):
        write_gate(good | damage, tmp_path / "bad.pt")
        with pytest.raises(CheckpointError, match="is damaged or not the gate of mnist-desktop. Run mnist-desktop "
                                                  "gate to write it again"):
            read_gate(tmp_path / "bad.pt")
