import numpy as np

from mnist_desktop.core.predictor import Predictor
from trainer.runs import RunStore


def vertical_bar() -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[4:24, 13:15] = 1.0
    return image


def test_all_seven_load_and_predict():
    predictor = Predictor()
    predictor.load_all()
    assert predictor.available() == [1, 2, 3, 4, 5, 6, 7]
    probabilities = predictor.predict(vertical_bar())
    assert sorted(probabilities) == [1, 2, 3, 4, 5, 6, 7]
    for p in probabilities.values():
        assert p.shape == (10,) and abs(p.sum() - 1) < 1e-5 and p.argmax() == 1
    assert list(predictor.predict(vertical_bar(), [5])) == [5]
    predictor.measure_latency(repeats=5)
    assert all(predictor.slots[i].latency_ms > 0 for i in predictor.available())  # measured; no bound on time


def test_a_corrupt_retrained_file_disables_only_its_iteration(tmp_path):
    store = RunStore()
    bad = store.runs_dir / "20260101-000000-000000-iteration3.pt"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PK\x03\x04 this zip ends here")
    store.activate(3, bad)
    predictor = Predictor(store)
    predictor.load_all()
    assert predictor.available() == [1, 2, 4, 5, 6, 7]
    assert "truncated or damaged" in predictor.slots[3].error
    assert 3 not in predictor.predict(vertical_bar())
    store.activate(3, None)  # revert to the shipped weights
    assert predictor.load(3).available and not predictor.slots[3].retrained


def test_folding_batchnorm_keeps_the_function():
    import torch

    from mnist_desktop.core.predictor import fused_for_inference
    from trainer import load_model

    model = load_model(5)
    fused = fused_for_inference(model)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in fused) == 0
    x = torch.randn(16, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(x), fused(x), atol=1e-4)


def test_the_gate_side_by_side_keeps_the_function():
    import torch

    from mnist_desktop.core.predictor import SideBySideGate
    from trainer.gate import build_gate, read_gate

    x = torch.randn(16, 1, 28, 28)
    # The shipped gate, and one a single channel wide, whose second conv reads one channel as the first does.
    for model in (read_gate()[0], build_gate(width=1, members=2).eval()):
        with torch.no_grad():
            assert torch.allclose(model(x), SideBySideGate(model)(x), atol=1e-4)
