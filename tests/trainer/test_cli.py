import json

import pytest

from trainer import read_checkpoint
from trainer.cli import main
from trainer.report import read_metrics
from trainer.runs import RunStore


def test_train_writes_a_checkpoint_and_evaluate_reads_it(tmp_path, mnist_dir, capsys):
    out = tmp_path / "it3.pt"
    assert main(["train", "3", "--epochs", "1", "--train-limit", "512", "--device", "cpu",
                 "--data-dir", str(mnist_dir), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "epoch 1/1" in printed and f"saved {out}" in printed
    checkpoint = read_checkpoint(out)
    assert checkpoint["iteration"] == 3 and checkpoint["train_images"] == 512

    assert main(["evaluate", "3", "--checkpoint", str(out), "--data-dir", str(mnist_dir), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert abs(figures["accuracy"] - checkpoint["test_accuracy"]) < 1e-9
    assert len(figures["confusion"]) == 10 and sum(map(sum, figures["confusion"])) == 10_000
    assert len(figures["misclassified"]) == round(10_000 * (1 - figures["accuracy"] / 100))


def test_train_without_output_saves_a_run_the_app_will_use(mnist_dir, capsys):
    assert main(["train", "1", "--train-limit", "256", "--device", "cpu", "--data-dir", str(mnist_dir)]) == 0
    runs = RunStore().list_runs()
    assert len(runs) == 1 and runs[0].iteration == 1
    assert RunStore().active_path(1) == runs[0].path


def test_missing_data_is_explained_and_nothing_is_downloaded(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setattr("trainer.data.download_mnist", lambda *a, **k: pytest.fail("downloaded without asking"))
    assert main(["evaluate", "5", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: MNIST was not found.") and "MNIST_DATA_DIR" in err and "mnist-train download" in err
    assert str(tmp_path) in err and "t10k-labels-idx1-ubyte.gz" in err


def test_python_dash_m_trainer(mnist_dir):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "trainer", "evaluate", "1", "--data-dir", str(mnist_dir)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    shipped = read_metrics()[1]["test_accuracy"]  # weights/metrics.json, from mnist-train report
    assert f"test accuracy {shipped:.2f}%" in out.stdout and "confusion" in out.stdout
