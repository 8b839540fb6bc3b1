"""Fault injection: full disks, read-only folders, kills mid-write, hostile checkpoints, runaway plans, Ctrl-C.

Every case ends the same way: one sentence on stderr, exit code 2 (130 for Ctrl-C), no traceback, and the
data that was there before is intact. The faults are real, not mocked:
- a full disk: RLIMIT_FSIZE in a child process with SIGXFSZ ignored, so every write past the limit fails with
  EFBIG, as on a full disk (torch.save then raises its RuntimeError, not OSError); and, where this process may
  mount (root with CAP_SYS_ADMIN), a 64 kB tmpfs that really fills up;
- a read-only folder: a tmpfs mounted read-only (EROFS, which stops root too; permission bits do not), else
  the immutable attribute (chattr +i), else, for a user other than root, mode 0500;
- a kill mid-write: SIGKILL of a child between writing its temporary file and moving it into place.
"""
from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import pytest
import torch

from trainer.checkpoint import read_checkpoint
from trainer.cli import main
from trainer.files import STALE_AFTER_S
from trainer.iterations import build_model
from trainer.paths import METRICS_FILE, shipped_weights_dir, shipped_weights_path
from trainer.report import write_report
from trainer.runs import RunStore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the faults are Linux's (rlimits, mounts, prctl)")


def one_sentence(err: str) -> str:
    """The single line ``error: ...`` the CLI printed, checked to be the only thing on stderr."""
    assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def child(args: list[str], file_limit: int | None = None, **kwargs) -> subprocess.CompletedProcess:
    """``python -m trainer ARGS`` in a child process, optionally with a file-size limit (a "full disk")."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run([sys.executable, "-m", "trainer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, preexec_fn=limit if file_limit else None, **kwargs)


def mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir(exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder holding ``earlier.pt`` (a copy of the shipped iteration 1) that nothing may write into."""
    folder = tmp_path / "read-only"
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(shipped_weights_path(1), source / "earlier.pt")
    if mount_tmpfs(folder, "size=1m"):
        shutil.copy(source / "earlier.pt", folder)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
        subprocess.run(["umount", str(folder)], check=True)
        return
    folder.mkdir(exist_ok=True)
    shutil.copy(source / "earlier.pt", folder)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        yield folder
        subprocess.run(["chattr", "-i", str(folder)], check=True)
        return
    if os.geteuid() == 0:
        pytest.skip("no way to make a folder read-only for root here (no mount, no chattr)")
    folder.chmod(0o500)
    yield folder
    folder.chmod(0o700)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 kB file system: a checkpoint (about 150 kB) does not fit."""
    folder = tmp_path / "small"
    if not mount_tmpfs(folder, "size=64k"):
        pytest.skip("this process may not mount a tmpfs")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def temporary_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*.tmp")]


# --- no finished work is lost ---------------------------------------------------------------------------
def test_a_run_that_cannot_be_saved_on_a_full_disk_is_kept_in_the_run_store(small_disk, mnist_dir):
    output = small_disk / "o.pt"
    output.write_bytes(b"earlier work")
    done = child(["train", "1", "--train-limit", "64", "--data-dir", str(mnist_dir), "--output", str(output)])
    [run] = RunStore().list_runs()
    assert done.returncode == 2 and one_sentence(done.stderr) == (
        f"error: {output} could not be written (the disk is full); the run was kept as {run.path} instead "
        "(not put in use).\n")
    assert output.read_bytes() == b"earlier work" and temporary_files(small_disk) == []
    assert run.train_images == 64 and RunStore().active_path(1) is None


def test_torch_save_past_a_file_size_limit_is_one_sentence_and_nothing_is_lost(tmp_path, mnist_dir):
    """The issue's case: torch.save raises its RuntimeError ("unexpected pos"), not OSError. Every file is over
    the limit here, so the run cannot be kept anywhere: the sentence says so and the earlier file is intact."""
    output = tmp_path / "o.pt"
    output.write_bytes(b"earlier work")
    done = child(["train", "1", "--train-limit", "64", "--data-dir", str(mnist_dir), "--output", str(output)],
                 file_limit=64_000)
    err = one_sentence(done.stderr)
    assert done.returncode == 2 and err.startswith(
        f"error: {output} could not be written (the file would exceed the size this process may write); it could "
        "not be kept in ") and err.endswith("either, so the run is lost.\n")
    assert output.read_bytes() == b"earlier work" and temporary_files(tmp_path) == []


@pytest.mark.parametrize("command", ["calibrate {folder}/earlier.pt", "shapes --weights-dir {folder}",
                                     "study --iterations 1 --seeds 1 --train-limit 64 --output {folder}"])
def test_writing_into_a_read_only_folder_is_one_sentence_and_the_earlier_file_is_intact(read_only_folder,
                                                                                       mnist_dir, command):
    before = (read_only_folder / "earlier.pt").read_bytes()
    done = child(command.format(folder=read_only_folder).split() + ["--data-dir", str(mnist_dir)])
    err = one_sentence(done.stderr)
    assert done.returncode == 2 and str(read_only_folder) in err
    assert (read_only_folder / "earlier.pt").read_bytes() == before


def test_calibrating_onto_a_full_disk_leaves_the_checkpoint_as_it_was(tmp_path, mnist_dir):
    path = tmp_path / "iteration1.pt"
    shutil.copy(shipped_weights_path(1), path)
    before = path.read_bytes()
    done = child(["calibrate", str(path), "--data-dir", str(mnist_dir)], file_limit=64_000)
    assert done.returncode == 2 and one_sentence(done.stderr) == (
        f"error: {path} could not be written (the file would exceed the size this process may write); what it "
        "held before is unchanged.\n")
    assert path.read_bytes() == before and temporary_files(tmp_path) == []


def test_a_save_killed_mid_write_leaves_the_old_file_and_its_temporary_file_is_removed_later(tmp_path):
    path = tmp_path / "runs" / "run.pt"
    path.parent.mkdir()
    torch.save({"old": torch.zeros(3)}, path)
    before = path.read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", f"""
import sys, torch
from trainer.files import write_atomic
def write(f):
    torch.save({{"new": torch.ones(100_000)}}, f)
    f.flush()
    print("written", flush=True)
    sys.stdin.readline()  # killed here: written, not yet moved into place
write_atomic({str(path)!r}, write)
"""], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline() == "written\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    [left] = temporary_files(tmp_path)
    assert path.read_bytes() == before and left.startswith(".run.pt.")
    RunStore(tmp_path)  # opening the store removes what killed saves left, once they are old
    assert temporary_files(tmp_path) == [left]
    old = time.time() - STALE_AFTER_S - 1
    os.utime(path.parent / left, (old, old))
    RunStore(tmp_path)
    assert temporary_files(tmp_path) == [] and path.read_bytes() == before


def test_too_few_images_for_the_statistics_keep_the_run_without_them_and_say_so(mnist_dir, capsys):
    assert main(["train", "1", "--train-limit", "5", "--data-dir", str(mnist_dir), "--use"]) == 0
    err = capsys.readouterr().err
    assert err.startswith('warning: The "not a digit" statistics of this run cannot be computed from 5 training '
                          "images") and err.count("\n") == 1 and "mnist-train calibrate" in err
    [run] = RunStore().list_runs()
    assert "calibration" not in run.extra and RunStore().active_path(1) == run.path


def test_divergence_is_named_and_nothing_is_kept(mnist_dir, capsys):
    assert main(["train", "1", "--train-limit", "600", "--lr", "10", "--data-dir", str(mnist_dir)]) == 2
    err = one_sentence(capsys.readouterr().err)
    assert "Training diverged" in err and "smaller learning rate than 10" in err
    assert RunStore().list_runs() == []


def test_a_worse_run_is_kept_but_not_put_in_use_without_asking(mnist_dir, capsys):
    assert main(["train", "1", "--train-limit", "64", "--data-dir", str(mnist_dir)]) == 0  # stdin: no terminal
    out = capsys.readouterr().out
    [run] = RunStore().list_runs()
    assert RunStore().active_path(1) is None and f"saved {run.path}" in out
    assert "kept as a past run; the model in use (" in out and "--use" in out


# --- mnist-train report: everything checked before anything is written --------------------------------------
@pytest.mark.parametrize("make, says", [
    (lambda p: None, "does not exist"),
    (lambda p: p.mkdir(), "is a folder, so it was not read"),
    (lambda p: p.write_text("# a README without the markers\n"), "has no <!-- accuracy-table:start -->"),
    (lambda p: p.write_bytes(b"\xff\xfe" * 10), "is not UTF-8 text"),
    (lambda p: p.write_bytes(b"x" * 4_000_001), "is larger than 4,000,000 bytes"),
])
def test_report_refuses_a_readme_it_cannot_use_before_writing_anything(tmp_path, capsys, make, says):
    readme = tmp_path / "README.md"
    make(readme)
    metrics = (shipped_weights_dir() / METRICS_FILE).read_bytes()
    assert main(["report", "--readme", str(readme)]) == 2
    assert says in one_sentence(capsys.readouterr().err)
    assert (shipped_weights_dir() / METRICS_FILE).read_bytes() == metrics


def test_report_refuses_dev_zero_without_reading_it(capsys):
    assert main(["report", "--readme", "/dev/zero"]) == 2
    err = one_sentence(capsys.readouterr().err)
    assert "is not a regular file (a pipe, socket or device), so it was not read" in err


def test_report_into_a_read_only_folder_writes_neither_file(read_only_folder, tmp_path, mnist_dir):
    """The README is fine, the weights folder (its metrics.json) is read-only: refused before the evaluation."""
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text())
    with pytest.raises(Exception, match="cannot be written to|could not be written") as error:
        write_report(str(mnist_dir), readme, read_only_folder)
    assert str(read_only_folder) in str(error.value)
    assert readme.read_text() == (ROOT / "README.md").read_text()


# --- bounded reads: hostile checkpoints made here -----------------------------------------------------------
def shipped(iteration: int = 1) -> dict:
    return torch.load(shipped_weights_path(iteration), weights_only=True)


def zip_bomb(path: Path) -> None:
    """A shipped checkpoint plus 64 MB of zeros under an extra key, its records deflated: about 100 kB on disk.
    torch reads deflated records too, so without the check the zeros would be unpacked whole."""
    plain = path.with_suffix(".plain")
    torch.save(shipped() | {"junk": torch.zeros(64_000_000, dtype=torch.uint8)}, plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for record in source.infolist():
            bomb.writestr(record.filename, source.read(record.filename))
    plain.unlink()


def torchscript(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated: people still have such files
        torch.jit.save(torch.jit.script(build_model(1)), path)


def with_weights(change) -> dict:
    checkpoint = shipped()
    return checkpoint | {"state_dict": {k: change(k, v) for k, v in checkpoint["state_dict"].items()}}


HOSTILE_CHECKPOINTS = {
    "compressed 64 MB of zeros": (zip_bomb, "would unpack to 64,"),
    "TorchScript": (torchscript, "is a TorchScript model (saved with torch.jit.save)"),
    "finite weights of 3e38": (lambda p: torch.save(with_weights(
        lambda k, v: torch.full_like(v, 3e38) if k.endswith("weight") else v), p), "overflow to NaN or infinity"),
    "int64 weights": (lambda p: torch.save(with_weights(lambda k, v: v.long()), p), "stored as torch.int64"),
    "an extra layer": (lambda p: torch.save(with_weights(lambda k, v: v) | {"state_dict": shipped()["state_dict"]
                                                                          | {"9.weight": torch.ones(1)}}, p),
                       "belongs to another architecture"),
    "a folder": (lambda p: p.mkdir(), "is a folder, so it was not opened"),
    "a pipe": (lambda p: os.mkfifo(p), "is not a regular file (a pipe, socket or device), so it was not opened"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CHECKPOINTS))
def test_hostile_checkpoints_are_refused_before_use(tmp_path, capsys, case):
    make, says = HOSTILE_CHECKPOINTS[case]
    path = tmp_path / "hostile.pt"
    make(path)
    assert main(["evaluate", "1", "--checkpoint", str(path)]) == 2
    assert says in one_sentence(capsys.readouterr().err)


def test_dev_zero_as_a_checkpoint_is_refused(capsys):
    assert main(["evaluate", "1", "--checkpoint", "/dev/zero"]) == 2
    assert "/dev/zero is not a regular file" in one_sentence(capsys.readouterr().err)


def test_a_hostile_run_in_use_leaves_predict_working_and_its_json_strict(tmp_path):
    """The run iteration 5 uses holds weights of 3e38: predict names it and answers with the other six, and
    every line it prints is JSON (no bare NaN)."""
    store = RunStore()
    store.runs_dir.mkdir(parents=True)
    path = store.runs_dir / "20990101-000000-000000-iteration5.pt"
    torch.save(shipped(5) | {"state_dict": {k: torch.full_like(v, 3e38) if k.endswith("weight") else v
                                            for k, v in shipped(5)["state_dict"].items()}}, path)
    store.activate(5, path)
    image = tmp_path / "one.png"
    from PIL import Image

    picture = Image.new("L", (28, 28))
    picture.paste(255, (12, 4, 16, 24))  # a "1"
    picture.save(image)
    done = subprocess.run([sys.executable, "-m", "mnist_desktop", "predict", "--json", str(image)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "iteration 5:" in done.stderr and "overflow to NaN or infinity" in done.stderr

    def no_constants(word):
        raise ValueError(f"not JSON: {word}")

    [record] = [json.loads(line, parse_constant=no_constants) for line in done.stdout.splitlines()]
    assert "5" not in record["iterations"] and len(record["iterations"]) == 6


# --- processes that end, plans that are bounded --------------------------------------------------------------
@pytest.mark.parametrize("arguments, says", [
    (["study", "--seeds", "5000000"], "invalid number of seeds (a whole number from 1 to 1,000) value: '5000000'"),
    (["study", "--iterations", "1-99999999999"], "invalid iterations (such as 1-7 or 3,5,6)"),
    (["study", "--jobs", "100000"], "invalid number of jobs"),
    (["bench", "--seconds", "nan"], "invalid number of seconds above 0 value: 'nan'"),
    (["bench", "--seconds", "inf"], "invalid number of seconds above 0 value: 'inf'"),
    (["bench", "--json", "{tmp}/missing/bench.json"], "is in a folder that does not exist"),
    (["train", "1", "--output", ""], "Argument --output: invalid path (an empty one names nothing) value: ''"),
    (["evaluate", "1", "--checkpoint", ""], "Argument --checkpoint: invalid path"),
    (["evaluate", "1", "--data-dir", ""], "Argument --data-dir: invalid path"),
    (["evaluate", "1", "--data-dir", "{tmp}"], "The MNIST folder {tmp} lacks train-images-idx3-ubyte.gz"),
])
def test_runaway_and_empty_arguments_are_one_sentence_before_any_work(tmp_path, capsys, arguments, says):
    assert main([a.format(tmp=tmp_path) for a in arguments]) == 2
    out, err = capsys.readouterr()
    assert says.format(tmp=tmp_path) in one_sentence(err) and out == ""


def test_predict_refuses_an_empty_explain_folder_and_names_maps_that_cannot_collide(tmp_path):
    from PIL import Image

    from mnist_desktop.predict_cli import main as predict

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        picture = Image.new("L", (28, 28))
        picture.paste(255, (12, 4, 16, 24))  # a "1"
        picture.save(tmp_path / folder / "x.png")
    with pytest.raises(SystemExit) as exited:
        predict(["--explain", "", str(tmp_path / "a" / "x.png")])
    assert exited.value.code == 2
    maps = tmp_path / "maps"
    assert predict(["--explain", str(maps), str(tmp_path / "a" / "x.png"), str(tmp_path / "b" / "x.png")]) == 0
    names = {p.name for p in maps.iterdir()}
    assert "x-iteration5-conv1.png" in names and "x-2-iteration5-conv1.png" in names


def study_child(output: Path, mnist_dir: Path, wait_for_training: bool = True) -> subprocess.Popen:
    """A two-process study in its own process group (as a terminal runs it), once its workers train (or at
    once). 30,000 training images keep it training for tens of seconds: with 6,000 it sometimes finished before
    the test's signal came (an idle machine trains them in about 3 s)."""
    study = subprocess.Popen([sys.executable, "-m", "trainer", "study", "--iterations", "1", "--seeds", "2",
                              "--jobs", "2", "--train-limit", "30000", "--output", str(output),
                              "--data-dir", str(mnist_dir)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    printed = ""
    while wait_for_training and "images/s" not in printed:  # the progress line: the pairs are training
        assert study.poll() is None, study.stderr.read()
        printed += study.stdout.read(1)
    return study


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def all_gone(pids: list[int]) -> bool:
    """Whether every process in ``pids`` has ended, waiting up to a minute for each on a pidfd (readable once
    the process exits): a worker ends a moment after its parent; the minute only bounds a failure."""
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            select.select([fd], [], [], 60)
        finally:
            os.close(fd)
    return not any(alive(p) for p in pids)


def test_study_workers_die_with_their_parent_and_a_second_study_on_the_output_is_refused(tmp_path, mnist_dir,
                                                                                         capsys):
    study = study_child(tmp_path / "study", mnist_dir)
    workers = children(study.pid)
    assert len(workers) >= 2
    assert main(["study", "--iterations", "1", "--seeds", "2", "--output", str(tmp_path / "study"),
                 "--data-dir", str(mnist_dir)]) == 2
    assert "Another study is already training into" in one_sentence(capsys.readouterr().err)
    study.kill()
    study.wait(timeout=60)
    assert all_gone(workers)


def spawned_workers(study: subprocess.Popen) -> list[int]:
    """The study's two worker processes, as soon as both exist (they may still be importing torch)."""
    def is_worker(pid: int) -> bool:
        try:
            return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return False

    while len(workers := [p for p in children(study.pid) if is_worker(p)]) < 2:
        assert study.poll() is None, study.stderr.read()
        time.sleep(0.05)  # polling /proc: a process's start sends no signal to wait on
    return workers


@pytest.mark.parametrize("when", ["training", "starting"])
def test_ctrl_c_stops_a_study_quietly(tmp_path, mnist_dir, when):
    """Ctrl-C while the workers train, or while they still import torch (before their initializer ignores
    SIGINT: each printed a KeyboardInterrupt traceback)."""
    study = study_child(tmp_path / "study", mnist_dir, wait_for_training=when == "training")
    workers = spawned_workers(study)
    os.killpg(study.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    out, err = study.communicate(timeout=120)
    assert study.returncode == 130 and err == "" and "interrupted; the finished pairs are kept" in out
    assert all_gone(workers)
