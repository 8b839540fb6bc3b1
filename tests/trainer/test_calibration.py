import math

import numpy as np
import torch

from trainer import calibration, load_model
from trainer.augment import normalize
from trainer.checkpoint import read_checkpoint
from trainer.cli import main
from trainer.data import load_mnist
from trainer.paths import shipped_weights_path


def test_calibrate_adds_the_statistics_and_keeps_the_weights(tmp_path, mnist_dir):
    checkpoint = torch.load(shipped_weights_path(5), weights_only=True)
    checkpoint.pop(calibration.KEY)
    path = tmp_path / "iteration5.pt"
    torch.save(checkpoint, path)
    assert main(["calibrate", str(path), "--data-dir", str(mnist_dir)]) == 0
    calibrated = read_checkpoint(path)
    assert all(torch.equal(calibrated["state_dict"][k], v) for k, v in checkpoint["state_dict"].items())
    assert {k: v for k, v in calibrated.items() if k not in ("state_dict", calibration.KEY)} == \
        {k: v for k, v in checkpoint.items() if k != "state_dict"}
    stats = calibrated[calibration.KEY]
    assert stats["images"] == calibration.IMAGES and stats["class_means"].shape == (10, 28)
    for quantiles in stats["quantiles"].values():
        assert len(quantiles) == calibration.QUANTILES and bool((quantiles.diff() >= 0).all())
    # The same numbers as the shipped file's (computed by the same command).
    shipped = read_checkpoint(shipped_weights_path(5))[calibration.KEY]
    assert torch.allclose(stats["class_means"], shipped["class_means"], atol=1e-5)


def test_the_class_log_likelihood_is_the_likeliest_class_gaussian_density(mnist_dir):
    """The verdict's score against torch's own multivariate normal, built from the stored precision."""
    stats = read_checkpoint(shipped_weights_path(5))[calibration.KEY]
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


def test_older_statistics_are_not_used(mnist_dir):
    stats = read_checkpoint(shipped_weights_path(5))[calibration.KEY]
    assert calibration.is_current(stats)
    assert not calibration.is_current(stats | {"version": 1}) and not calibration.is_current(None)
