import json
import os
import shutil
import urllib.error

import pytest

from trainer import Finished, read_checkpoint, train
from trainer.cli import main
from trainer.report import read_metrics
from trainer.runs import RunStore


def test_train_writes_a_checkpoint_and_evaluate_reads_it(tmp_path, mnist_dir, capsys):
    out = tmp_path / "it3.pt"
    assert main(["train", "3", "--epochs", "1", "--train-limit", "512", "--device", "cpu",
                 "--data-dir", str(mnist_dir), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "epoch 1/1" in printed and f"saved {out}" in printed
    info = read_checkpoint(out).info
    assert info.iteration == 3 and info.train_images == 512

    assert main(["evaluate", "3", "--checkpoint", str(out), "--data-dir", str(mnist_dir), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert abs(figures["accuracy"] - info.test_accuracy) < 1e-9
    assert len(figures["confusion"]) == 10 and sum(map(sum, figures["confusion"])) == 10_000
    assert len(figures["misclassified"]) == round(10_000 * (1 - figures["accuracy"] / 100))


def test_train_without_output_saves_a_run_and_use_puts_it_in_use(mnist_dir, capsys):
    """256 images make a run far worse than the shipped weights: --use says to use it all the same (without it,
    tests.trainer.test_faults shows it kept as a past run)."""
    assert main(["train", "1", "--train-limit", "256", "--device", "cpu", "--data-dir", str(mnist_dir),
                 "--use"]) == 0
    runs = RunStore().list_runs()
    assert len(runs) == 1 and runs[0].iteration == 1
    assert RunStore().active_path(1) == runs[0].path and "iteration 1 now uses it" in capsys.readouterr().out


def test_missing_data_is_explained_and_nothing_is_downloaded(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    monkeypatch.setattr("trainer.data.download_mnist", lambda *a, **k: pytest.fail("downloaded without asking"))
    assert main(["evaluate", "5", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: The MNIST folder {tmp_path} lacks ") and "MNIST_DATA_DIR" in err
    assert "mnist-train download" in err
    assert str(tmp_path) in err and "t10k-labels-idx1-ubyte.gz" in err


def test_python_dash_m_trainer(mnist_dir):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "trainer", "evaluate", "1", "--data-dir", str(mnist_dir)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    shipped = read_metrics()[1]["test_accuracy"]  # weights/metrics.json, from mnist-train report
    assert f"test accuracy {shipped:.2f}%" in out.stdout and "confusion" in out.stdout


def bad_places(tmp_path):
    """A folder, a FIFO, a symbolic link, a non-checkpoint: things a path argument may name by mistake."""
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "target.pt").write_bytes(b"")
    (tmp_path / "link.pt").symlink_to(tmp_path / "target.pt")
    (tmp_path / "garbage.pt").write_bytes(b"\x00garbage" * 100)


# One row per bad argument: the arguments ({tmp} is a folder prepared by bad_places) and words of the sentence.
BAD_ARGUMENTS = [
    ("train 1 --epochs 0", "The number of epochs must be a whole number from 1 to 1000, not 0."),
    ("train 1 --epochs 1001", "The number of epochs must be"),
    (f"train 1 --seed {2**70}", "The seed must be a whole number from 0 to 2**63-1"),
    ("train 1 --seed -1", "The seed must be"),
    ("train 1 --seed 2**70", "Argument --seed: invalid int value: '2**70'"),
    ("train 1 --lr nan", "The learning rate must be a finite number above 0 and at most 10, not nan."),
    ("train 1 --lr inf", "The learning rate must be"),
    ("train 1 --lr 0", "The learning rate must be"),
    ("train 1 --batch-size -5", "The batch size must be a whole number from 1 to 60,000, not -5."),
    ("train 1 --batch-size 0", "The batch size must be"),
    ("train 1 --train-limit -59000", "The number of training images (train limit) must be"),
    ("train 1 --train-limit 0", "The number of training images (train limit) must be"),
    ("train 8", "Argument iteration: invalid choice: 8"),
    ("train 1 --device gpu", "Argument --device: invalid choice: 'gpu'"),
    ("train 1 --epochs abc", "Argument --epochs: invalid int value: 'abc'"),
    ("train 1 --data-dir {tmp}/nowhere", "The MNIST folder {tmp}/nowhere does not exist"),
    ("train 1 --output {tmp}/folder", "The output path {tmp}/folder is a folder, not a file"),
    ("train 1 --output {tmp}/fifo", "is a pipe, socket or device, not a file"),
    ("train 1 --output /dev/null", "The output path /dev/null is a pipe, socket or device"),
    ("train 1 --output {tmp}/link.pt", "is a symbolic link, not a file"),
    ("train 1 --output {tmp}/missing/it1.pt", "is in a folder that does not exist"),
    ("evaluate 5 --checkpoint {tmp}/folder", "{tmp}/folder is a folder, so it was not opened"),
    ("evaluate 5 --checkpoint {tmp}/fifo", "is not a regular file (a pipe, socket or device), so it was not opened"),
    ("evaluate 5 --checkpoint {tmp}/garbage.pt", "is not a checkpoint: it is not a PyTorch file at all"),
    ("evaluate 5 --checkpoint {tmp}/absent.pt", "Cannot open the weights file"),
    ("evaluate 0", "Argument iteration: invalid choice"),
    ("download --timeout 0", "Argument --timeout: invalid number of seconds above 0 value: '0'"),
    ("frobnicate", "Argument command: invalid choice: 'frobnicate'"),
    ("", "The following arguments are required: command"),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("arguments, sentence", BAD_ARGUMENTS)
def test_every_bad_argument_is_one_sentence_and_exit_code_2(tmp_path, isolated_user_folders, capsys, arguments,
                                                             sentence):
    bad_places(tmp_path)
    argv = arguments.format(tmp=tmp_path).split()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert sentence.format(tmp=tmp_path) in err
    assert "saved" not in out and not list(isolated_user_folders.rglob("*.pt"))  # nothing trained or written


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_folder_is_refused_before_training(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["train", "1", "--output", str(locked / "it1.pt")]) == 2
    assert "cannot be written to" in capsys.readouterr().err


def test_a_run_whose_output_fails_after_training_is_kept_in_the_run_store(tmp_path, mnist_dir, monkeypatch,
                                                                          capsys):
    """The path was fine when checked; during the run a folder appears there. The run must not be lost."""
    import trainer.cli

    out = tmp_path / "it1.pt"

    def train_then_block_the_path(config):
        for event in train(config):
            if isinstance(event, Finished):
                (out / "in-the-way").mkdir(parents=True)
            yield event

    monkeypatch.setattr(trainer.cli, "train", train_then_block_the_path)
    code = main(["train", "1", "--train-limit", "64", "--device", "cpu", "--data-dir", str(mnist_dir),
                 "--output", str(out)])
    err = capsys.readouterr().err
    [run] = RunStore().list_runs()
    assert code == 2 and err == f"error: {out} could not be written (it is a folder); the run was kept as {run.path} " \
                               "instead (not put in use).\n"
    assert run.iteration == 1 and run.train_images == 64
    assert RunStore().active_path(1) is None  # kept, not put in use: the person asked for a file


def copy_files(source):
    def download_url(url, root, filename, md5):
        shutil.copy(source / filename, f"{root}/{filename}")
    return download_url


def test_download_prints_progress_and_fills_the_folder(tmp_path, mnist_dir, monkeypatch, capsys):
    monkeypatch.setattr("torchvision.datasets.utils.download_url", copy_files(mnist_dir))
    assert main(["download", "--data-dir", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert [f"{n} of 4 files" for n in range(5)] == [line for line in out.splitlines() if "files" in line][-5:]
    assert f"done: MNIST is in {tmp_path / 'm'}" in out
    assert main(["download", "--data-dir", str(tmp_path / "m")]) == 0
    assert "already" in capsys.readouterr().out


def test_a_failed_download_is_one_sentence(tmp_path, monkeypatch, capsys):
    def unreachable(url, root, filename, md5):
        raise urllib.error.URLError("timed out")

    monkeypatch.setattr("torchvision.datasets.utils.download_url", unreachable)
    assert main(["download", "--data-dir", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Downloading MNIST failed at train-images-idx3-ubyte.gz (") and err.count("\n") == 1
