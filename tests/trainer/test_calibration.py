import torch

from trainer import calibration
from trainer.checkpoint import read_checkpoint
from trainer.cli import main
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
