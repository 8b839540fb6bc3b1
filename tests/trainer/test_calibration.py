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


def test_the_expanded_mahalanobis_is_the_distance_to_the_nearest_class(mnist_dir):
    """f.P.f - 2 (P.mu_k).f + mu_k.P.mu_k, as the predictor computes it, against (f - mu_k).P.(f - mu_k)."""
    stats = read_checkpoint(shipped_weights_path(5))[calibration.KEY]
    with torch.inference_mode():
        features, _ = calibration.features_and_logits(calibration.split_model(load_model(5)),
                                                      normalize(load_mnist("test", mnist_dir)[0][:300]))
    features = features.double().numpy()
    means, precision = stats["class_means"].double().numpy(), stats["precision"].double().numpy()
    diff = features[:, None, :] - means[None]
    direct = -np.einsum("nkc,cd,nkd->nk", diff, precision, diff).min(1)
    expanded = calibration.mahalanobis(features, precision, *calibration.class_terms(means, precision))
    np.testing.assert_allclose(expanded, direct, rtol=1e-9, atol=1e-9)
