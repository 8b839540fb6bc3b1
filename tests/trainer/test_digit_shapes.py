"""The pixel model of the verdict: its density against torch's, writing and reading it, and damaged files."""
import math

import numpy as np
import pytest
import torch

from trainer import digit_shapes
from trainer.cli import main
from trainer.data import load_mnist
from trainer.errors import CheckpointError
from trainer.paths import shipped_weights_path


def test_the_log_likelihood_is_the_likeliest_class_ppca_density(mnist_dir):
    """Each class's covariance is V' diag(variances) V + noise (I - V'V): built in full here, its density
    computed by torch, against the two matrix products the scorer uses."""
    model = torch.load(digit_shapes.shapes_path(), weights_only=True)
    images = load_mnist("test", mnist_dir)[0][:50].numpy()
    x = torch.from_numpy(images.reshape(50, -1)).double() / 255
    identity = torch.eye(digit_shapes.PIXELS, dtype=torch.float64)
    densities = []
    for mean, basis, variances, noise in zip(*(model[k].double() for k in ("means", "bases", "variances", "noise"))):
        covariance = basis.T @ torch.diag(variances) @ basis + noise * (identity - basis.T @ basis)
        densities.append(torch.distributions.MultivariateNormal(mean, covariance).log_prob(x))
    direct = torch.stack(densities, 1).max(1).values + 0.5 * digit_shapes.PIXELS * math.log(2 * math.pi)
    ours = digit_shapes.ShapeScorer(model).log_likelihood(images)
    np.testing.assert_allclose(ours, direct.numpy(), rtol=1e-4)


def test_digits_look_typical_and_a_letter_does_not(mnist_dir):
    scorer = digit_shapes.read_shapes()
    tails = scorer.log_tail_probabilities(load_mnist("test", mnist_dir)[0][:1000].numpy())
    assert np.median(tails) > np.log(0.3)  # test digits score like the training digits
    h = np.zeros((28, 28), np.float32)
    h[4:24, 8:10] = h[4:24, 18:20] = h[13:15, 8:20] = 1.0  # an H, as the models would see it
    assert scorer.log_tail_probabilities(h[None])[0] < np.quantile(tails, 0.01)  # stranger than 99% of them


def test_the_command_writes_the_shipped_model_again(tmp_path, mnist_dir):
    assert main(["shapes", "--weights-dir", str(tmp_path), "--data-dir", str(mnist_dir)]) == 0
    written = torch.load(tmp_path / digit_shapes.FILE, weights_only=True)
    shipped = torch.load(digit_shapes.shapes_path(), weights_only=True)
    for key in ("means", "variances", "quantiles"):
        assert torch.allclose(written[key], shipped[key], rtol=1e-4, atol=1e-6), key
    assert digit_shapes.read_shapes(tmp_path / digit_shapes.FILE).quantiles.shape == (256,)


def shipped_with(**changes) -> dict:
    return torch.load(digit_shapes.shapes_path(), weights_only=True) | changes


@pytest.mark.parametrize("make, says", [
    (lambda path: None, "Cannot open"),
    (lambda path: path.mkdir(), "is a folder"),
    (lambda path: path.write_text("not a model"), "not a PyTorch file"),
    (lambda path: path.write_bytes(digit_shapes.shapes_path().read_bytes()[:5000]), "truncated or damaged"),
    (lambda path: path.write_bytes(shipped_weights_path(5).read_bytes()), "not the digit shapes model"),
    (lambda path: torch.save(shipped_with(noise=torch.full((10,), float("nan"))), path), "impossible values"),
    (lambda path: torch.save(shipped_with(noise=torch.zeros(10)), path), "impossible values"),
    (lambda path: torch.save(shipped_with(means=torch.zeros(10, 5)), path), "wrong shape"),
    (lambda path: torch.save(shipped_with(images=0), path), "impossible values"),
])
def test_a_missing_or_wrong_file_is_one_sentence_and_what_to_do(tmp_path, make, says):
    path = tmp_path / digit_shapes.FILE
    make(path)
    with pytest.raises(CheckpointError, match=says) as error:
        digit_shapes.read_shapes(path)
    assert "\n" not in str(error.value) and str(error.value).endswith("Run mnist-train shapes to write it again.")
