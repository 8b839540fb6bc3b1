"""Every shipped checkpoint reaches its floor on the real 10k test set and matches weights/metrics.json."""
import pytest

from trainer import evaluate, load_mnist, load_model, read_checkpoint
from trainer.paths import shipped_weights_path
from trainer.report import read_metrics

FLOOR = {1: 97.0, 2: 98.5, 3: 99.0, 4: 99.0, 5: 99.0, 6: 99.0, 7: 99.0}


@pytest.mark.parametrize("iteration", sorted(FLOOR))
def test_shipped_weights_reach_their_accuracy(iteration, mnist_dir):
    images, labels = load_mnist("test", mnist_dir, download=False)
    result = evaluate(load_model(iteration), images, labels)
    assert result.accuracy >= FLOOR[iteration]
    assert abs(result.accuracy - read_metrics()[iteration]["test_accuracy"]) <= 0.05
    info = read_checkpoint(shipped_weights_path(iteration)).info
    assert info.seed == 0 and info.train_images == 60_000
    assert info.epochs == info.recipe["epochs"]  # trained under its own recipe
