import math

import numpy as np
import pytest
import torch

from trainer import calibration, load_model
from trainer.augment import normalize
from trainer.checkpoint import read_checkpoint
from trainer.cli import main
from trainer.data import load_mnist
from trainer.errors import CheckpointError
from trainer.paths import shipped_weights_path


def test_calibrate_adds_the_statistics_and_keeps_the_weights(tmp_path, mnist_dir):
    checkpoint = torch.load(shipped_weights_path(5), weights_only=True)
    checkpoint.pop(calibration.KEY)
    path = tmp_path / "iteration5.pt"
    torch.save(checkpoint, path)
    assert main(["calibrate", str(path), "--data-dir", str(mnist_dir)]) == 0
    calibrated = read_checkpoint(path)
    assert all(torch.equal(calibrated.state_dict[k], v) for k, v in checkpoint["state_dict"].items())
    assert {k: v for k, v in calibrated.as_dict().items() if k not in ("state_dict", calibration.KEY)} == \
        {k: v for k, v in checkpoint.items() if k != "state_dict"}
    stats = calibrated.info.extra[calibration.KEY]
    assert stats["images"] == calibration.IMAGES and stats["class_means"].shape == (10, 28)
    for quantiles in stats["quantiles"].values():
        assert len(quantiles) == calibration.QUANTILES and bool((quantiles.diff() >= 0).all())
    # The same numbers as the shipped file's (computed by the same command).
    shipped = read_checkpoint(shipped_weights_path(5)).info.extra[calibration.KEY]
    assert torch.allclose(stats["class_means"], shipped["class_means"], atol=1e-5)


def test_the_class_log_likelihood_is_the_likeliest_class_gaussian_density(mnist_dir):
    """The verdict's score against torch's own multivariate normal, built from the stored precision."""
    stats = read_checkpoint(shipped_weights_path(5)).info.extra[calibration.KEY]
    with torch.inference_mode():
        features, _ = calibration.features_and_logits(calibration.split_model(load_model(5)),
                                                      normalize(load_mnist("test", mnist_dir)[0][:300]))
    features = features.double()
    gaussians = {name: stats[name].double() for name in ("class_means", "precisions", "log_determinants")}
    normals = [torch.distributions.MultivariateNormal(mean, precision_matrix=precision)
               for mean, precision in zip(gaussians["class_means"], gaussians["precisions"])]
    constant = 0.5 * features.shape[1] * math.log(2 * math.pi)  # left out of the score: the same for every class
    direct = torch.stack([normal.log_prob(features) for normal in normals], 1).max(1).values + constant
    ours = calibration.ClassGaussians.of(stats).log_likelihood(features.numpy())
    np.testing.assert_allclose(ours, direct.numpy(), rtol=1e-4, atol=1e-3)  # the log-determinant is stored as float32


@pytest.mark.parametrize("change, says", [
    (lambda stats: None, "has no"),
    (lambda stats: stats | {"version": 1}, "older version"),
    (lambda stats: {k: v for k, v in stats.items() if k != "precisions"}, "damaged"),
    (lambda stats: stats | {"precisions": -stats["precisions"]}, "damaged"),  # not positive definite
    (lambda stats: stats | {"quantiles": {"energy": stats["quantiles"]["energy"]}}, "damaged"),
    (lambda stats: stats | {"quantiles": stats["quantiles"] | {"gaussian": torch.full((256,), float("nan"))}},
     "damaged"),
])
def test_statistics_that_cannot_be_used_are_one_sentence(change, says):
    stats = read_checkpoint(shipped_weights_path(5)).info.extra[calibration.KEY]
    assert calibration.read_scorer(stats, "iteration5.pt").gaussians.shape == (10, 28)
    with pytest.raises(CheckpointError, match=says) as error:
        calibration.read_scorer(change(stats), "iteration5.pt")
    assert "mnist-train calibrate iteration5.pt" in str(error.value) and "\n" not in str(error.value)
