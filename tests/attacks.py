"""Issue 20's attacks, run against a checkout and counted by how each one ends.

    python -m tests.attacks [--repo DIR] [--only WORD]

Each attack runs the checkout's own command line (``python -m trainer``, ``python -m mnist_desktop``, or a few
lines of its core for the drawings folder and the window's model loading) in a child process with fresh
per-user folders, and is classified as the first of these that applies:
  hang                 it did not end within its time, or processes it started outlived it;
  crash                it died of a signal, or its peak memory passed MEMORY_CAP (a machine with that cap
                       kills it; the issue's 4 GB cap killed the checkpoint bombs);
  data loss            work that existed, or that the command finished, is gone;
  traceback            Python printed one;
  silent wrong result  it succeeded with a wrong answer or without saying what went wrong;
  one sentence         it refused, or did what it was asked, in words.
The hostile files are made by this checkout's helpers (``tests/hostile.py``); the commands run in ``--repo``
(default: this checkout), so a checkout from before the work can be counted the same way. Needs root (a
tmpfs for a full disk, a read-only tmpfs: root ignores permission bits) and $MNIST_DATA_DIR. It is a command,
not part of the test suite: it trains and runs studies for several minutes; ``tests/trainer/test_faults.py``
holds the cases that guard each fix.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from tests.hostile import digit, patch_member, png_bytes, png_claiming

HERE = Path(__file__).resolve().parents[1]
CLASSES = ["one sentence", "traceback", "crash", "hang", "silent wrong result", "data loss"]
MEMORY_CAP = 1536 << 20  # peak resident bytes; a normal command here stays under 1 GB
ADDRESS_LIMIT = 8 << 30  # every child: a command that reads without end fails instead of taking the machine
BOMB_BYTES = 2_000_000_000  # zeros in a checkpoint record that deflates them into 2 MB
EARLIER = b"earlier work"
# A child's ru_maxrss starts at its parent's resident size (Linux keeps the larger across exec), so a command
# started from a runner of 1.5 GB would count as a crash. Each measured command therefore runs under this small
# launcher: the command is forked from it after exec, and it hands on the command's own peak, code and signal.
LAUNCHER = """import os, signal, sys
child = os.fork()
if child == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(child, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss * 1024))
code = os.waitstatus_to_exitcode(status)
if code < 0:
    if -code != signal.SIGKILL:
        signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


@dataclass
class Outcome:
    returncode: int | None  # None: it did not end in time
    out: str
    err: str
    peak_bytes: int = 0
    left_running: list[int] = field(default_factory=list)


class Scratch:
    """One attack's folder, per-user folders, mounts and the checkout its commands run in."""

    def __init__(self, repo: Path, folder: Path):
        self.repo, self.dir = repo, folder
        self.home = folder / "user"
        self.data = self.home / "data" / "mnist-desktop"  # the per-user data folder
        self.mnist = os.environ["MNIST_DATA_DIR"]
        self.mounts: list[Path] = []

    def env(self) -> dict[str, str]:
        return os.environ | {"XDG_DATA_HOME": str(self.home / "data"), "XDG_CONFIG_HOME": str(self.home / "config"),
                             "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(self.repo)}

    def mount(self, folder: Path, size: str, read_only: bool = False, contents: dict[str, bytes] | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
        self.mounts.append(folder)
        for name, data in (contents or {}).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

    def unmount(self) -> None:
        for folder in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(folder)], check=False)

    def popen(self, argv: list[str], file_limit: int | None = None, address_limit: int = ADDRESS_LIMIT,
              **kwargs) -> subprocess.Popen:
        def limits() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (address_limit, address_limit))
            if file_limit:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE} | kwargs
        return subprocess.Popen([sys.executable, *argv], cwd=self.repo, env=self.env(), preexec_fn=limits,
                                stdin=subprocess.DEVNULL, text=True, start_new_session=True, **pipes)

    def run(self, argv: list[str], timeout: float = 300, **limits) -> Outcome:
        """Run to its end (or ``timeout``, then kill its process group), with its own peak memory (LAUNCHER)."""
        peak = self.dir / ".peak"
        peak.unlink(missing_ok=True)
        with open(self.dir / ".out", "w+") as out, open(self.dir / ".err", "w+") as err:
            child = self.popen(["-c", LAUNCHER, str(peak), *argv], stdout=out, stderr=err, **limits)
            expired = threading.Event()

            def expire() -> None:
                expired.set()
                os.killpg(child.pid, signal.SIGKILL)

            timer = threading.Timer(timeout, expire)
            timer.start()
            child.wait()
            timer.cancel()
            out.seek(0), err.seek(0)
            peak_bytes = int(peak.read_text() or 0) if peak.exists() else 0  # none when the timeout ended it
            return Outcome(None if expired.is_set() else child.returncode, out.read(), err.read(), peak_bytes)

    def python(self, code: str) -> str:
        """A few lines run in the checkout with this attack's per-user folders: their printed answer."""
        done = self.run(["-c", code], timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"a helper snippet failed: {done.err}")
        return done.out

    def runs(self) -> list[str]:
        return json.loads(self.python("import json; from trainer.runs import RunStore\n"
                                      "print(json.dumps([str(r.path) for r in RunStore().list_runs()]))"))

    def active(self, iteration: int) -> str | None:
        return json.loads(self.python(f"import json; from trainer.runs import RunStore\n"
                                      f"p = RunStore().active_path({iteration}); print(json.dumps(p and str(p)))"))


def trainer(*args: str) -> list[str]:
    return ["-m", "trainer", *args]


def desktop(*args: str) -> list[str]:
    return ["-m", "mnist_desktop", *args]


# --- hostile files ----------------------------------------------------------------------------------------
def shipped(s: Scratch, iteration: int = 1) -> dict:
    return torch.load(s.repo / "weights" / f"iteration{iteration}.pt", weights_only=True)


def save_with_weights(s: Scratch, path: Path, change, iteration: int = 1) -> Path:
    checkpoint = shipped(s, iteration)
    torch.save(checkpoint | {"state_dict": {k: change(k, v) for k, v in checkpoint["state_dict"].items()}}, path)
    return path


def huge(k, v):
    return torch.full_like(v, 3e38) if k.endswith("weight") else v


def checkpoint_bomb(s: Scratch, path: Path) -> Path:
    """The shipped iteration 1 plus BOMB_BYTES of zeros under an extra key, its record deflated: 2 MB on disk.
    The zeros are never held here: the pickle's size is patched and the record written in chunks."""
    marker = 0x1234567  # a size that appears in the pickle only as the junk tensor's
    buffer = io.BytesIO()
    torch.save(shipped(s) | {"junk": torch.zeros(marker, dtype=torch.uint8)}, buffer)
    source = zipfile.ZipFile(buffer)
    names = source.namelist()
    junk = next(n for n in names if source.getinfo(n).file_size == marker)
    with zipfile.ZipFile(path, "w") as bomb:
        for name in names:
            if name != junk:
                data = source.read(name)
                if name.endswith("data.pkl"):  # BININT marker -> LONG1 of the bomb's size
                    data = data.replace(b"J" + struct.pack("<i", marker),
                                        b"\x8a\x05" + BOMB_BYTES.to_bytes(5, "little"))
                bomb.writestr(name, data)
                continue
            record = zipfile.ZipInfo(name)
            record.compress_type, record._compresslevel = zipfile.ZIP_DEFLATED, 9
            chunk = bytes(64 << 20)
            with bomb.open(record, "w", force_zip64=True) as f:
                for start in range(0, BOMB_BYTES, len(chunk)):
                    f.write(chunk[:min(len(chunk), BOMB_BYTES - start)])
    return path


def torchscript(s: Scratch, path: Path) -> Path:
    code = ("import sys, warnings, torch\nfrom trainer.iterations import build_model\n"
            "warnings.simplefilter('ignore')\ntorch.jit.save(torch.jit.script(build_model(1)), sys.argv[1])")
    s.run(["-c", code, str(path)])
    return path


def one_png(path: Path, array: np.ndarray | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(digit() if array is None else array))
    return path


def drawings_zip(path: Path, edit=None, patch=None, count: int = 10) -> Path:
    """A drawings export of ``count`` "1"s as the window writes it (labels.csv, images/, strokes.json),
    rewritten through ``edit(name, data) -> [(name, data), ...]`` and then ``patch(path)``."""
    ids = [f"d{i}" for i in range(count)]
    members = [(f"images/{i}.png", png_bytes(digit(shift=n % 5))) for n, i in enumerate(ids)]
    members += [("labels.csv", ("id,label,image\n" + "".join(f"{i},1,images/{i}.png\n" for i in ids)).encode()),
                ("strokes.json", json.dumps([{"id": i, "label": 1} for i in ids]).encode())]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a name written twice: one attack does that
        for name, data in members:
            for name, data in (edit(name, data) if edit else [(name, data)]):
                archive.writestr(name, data)
    if patch:
        patch(path)
    return path


IMPORT_STORE = ("try:\n    from mnist_desktop.core.drawing_store import DrawingStore\n"
                "except ImportError:  # its name before issue 20's work\n"
                "    from mnist_desktop.core.drawings import DrawingStore\n")
LOAD_DRAWINGS = IMPORT_STORE + ("import json\ndrawings, problems = DrawingStore().load()\n"
                                "print(json.dumps({'drawings': len(drawings), 'problems': problems}))")

APP_LOADING = ("from mnist_desktop.core.predictor import Predictor\n"  # what the window loads, off its GUI thread
               "predictor = Predictor()\npredictor.load_all()\nprint(*predictor.problems(), sep='\\n')")


def make_drawings(s: Scratch, count: int = 3) -> None:
    """``count`` good drawings in the per-user drawings folder, kept by the checkout's own store."""
    s.python(IMPORT_STORE + "import numpy as np\n"
             f"for i in range({count}):\n"
             "    image = np.zeros((28, 28), np.uint8); image[6:22, 10 + i:14 + i] = 255\n"
             "    DrawingStore().add(image, (), 1)")


# --- judges: what a command that ended in words must also have done --------------------------------------
def refused(s: Scratch, done: Outcome) -> str | None:
    """The command must refuse (exit code not 0)."""
    return "silent wrong result" if done.returncode == 0 else None


def says(*words: str) -> Callable[[Scratch, Outcome], str | None]:
    """The command may succeed or refuse, but must name what happened (in its own words: Python's warnings,
    such as torch's about a TorchScript file, do not count)."""
    def judge(s: Scratch, done: Outcome) -> str | None:
        text = "\n".join(line for line in (done.out + done.err).splitlines() if "Warning: " not in line).lower()
        return None if any(w.lower() in text for w in words) else "silent wrong result"
    return judge


def all_of(*judges) -> Callable[[Scratch, Outcome], str | None]:
    def judge(s: Scratch, done: Outcome) -> str | None:
        return next((verdict for j in judges if (verdict := j(s, done))), None)
    return judge


def intact(path: str, data: bytes = EARLIER) -> Callable[[Scratch, Outcome], str | None]:
    def judge(s: Scratch, done: Outcome) -> str | None:
        file = s.dir / path
        return None if file.is_file() and file.read_bytes() == data else "data loss"
    return judge


def run_kept(s: Scratch, done: Outcome) -> str | None:
    """A finished run must be somewhere: in the runs folder or where the sentence says it was kept."""
    if s.runs():
        return None
    kept = [w.rstrip(".,;") for w in (done.out + done.err).split() if w.rstrip(".,;").endswith(".pt")]
    return None if any(Path(w).is_file() and Path(w) != s.dir / "o.pt" for w in kept) else "data loss"


def not_in_use(iteration: int) -> Callable[[Scratch, Outcome], str | None]:
    def judge(s: Scratch, done: Outcome) -> str | None:
        return "silent wrong result" if s.active(iteration) else None
    return judge


def strict_json(s: Scratch, done: Outcome) -> str | None:
    def no_constants(word):
        raise ValueError(word)
    try:
        for line in done.out.splitlines():
            json.loads(line, parse_constant=no_constants)
    except ValueError:
        return "silent wrong result"
    return None


def reads_a_one(s: Scratch, done: Outcome) -> str | None:
    """predict --json must read the "1" the picture holds."""
    try:
        [record] = [json.loads(line) for line in done.out.splitlines()]
    except ValueError:
        return "silent wrong result"
    return None if record.get("digit") == 1 else "silent wrong result"


def drawings_loaded(expected: int, problems: int = 1) -> Callable[[Scratch, Outcome], str | None]:
    def judge(s: Scratch, done: Outcome) -> str | None:
        try:
            state = json.loads(done.out)
        except ValueError:
            return "silent wrong result"
        return None if state["drawings"] == expected and len(state["problems"]) >= problems else "silent wrong result"
    return judge


def maps_of_both(s: Scratch, done: Outcome) -> str | None:
    """--explain D a/x.png b/x.png: both files' maps, none overwritten."""
    files = list((s.dir / "maps").iterdir()) if (s.dir / "maps").is_dir() else []
    stems = {f.name.split("-iteration")[0] for f in files}
    return None if len(stems) == 2 else "silent wrong result"


def no_stale_temp(s: Scratch, done: Outcome) -> str | None:
    return "silent wrong result" if list((s.data / "runs").glob(".*.tmp")) else None


# --- the attacks ------------------------------------------------------------------------------------------
@dataclass
class Attack:
    group: str
    name: str
    argv: Callable[[Scratch], list[str]] | None = None
    prepare: Callable[[Scratch], None] = lambda s: None
    judge: Callable[[Scratch, Outcome], str | None] = lambda s, done: None
    limits: dict = field(default_factory=dict)
    timeout: float = 300
    drive: Callable[[Scratch], Outcome] | None = None  # an attack that is more than one command


def earlier_output(s: Scratch) -> None:
    (s.dir / "o.pt").write_bytes(EARLIER)


def small_disk(s: Scratch) -> None:
    s.mount(s.dir / "disk", "64k", contents={"o.pt": EARLIER})


def read_only_data_folder(s: Scratch) -> None:
    s.mount(s.home / "data", "1m", read_only=True, contents={"mnist-desktop/.kept": b""})


def read_only_folder(s: Scratch) -> None:
    s.mount(s.dir / "ro", "1m", read_only=True,
            contents={"earlier.pt": (s.repo / "weights/iteration1.pt").read_bytes()})


def unchanged_in_ro(s: Scratch, done: Outcome) -> str | None:
    return intact("ro/earlier.pt", (s.repo / "weights/iteration1.pt").read_bytes())(s, done)


def with_zip(edit=None, patch=None, count=10) -> Callable[[Scratch], None]:
    return lambda s: drawings_zip(s.dir / "z.zip", edit, patch, count) and None


def appended_row(row: str, *members: tuple[str, bytes]):
    def edit(name, data):
        return [(name, data + row.encode())] + list(members) if name == "labels.csv" else [(name, data)]
    return edit


def replaced(member: str, new: bytes):
    return lambda name, data: [(name, new if name == member else data)]


def twice(member: str):
    return lambda name, data: [(name, data)] * (2 if name == member else 1)


def fine_tune(s: Scratch) -> list[str]:
    """Fine-tuning on the drawings ZIP ``z.zip``, as briefly as it goes."""
    return trainer("train", "5", "--extra-data", str(s.dir / "z.zip"), "--train-limit", "300", "--epochs", "1",
                   "--output", str(s.dir / "tuned.pt"))


def report_copy(s: Scratch) -> Path:
    """A copy of the checkout for ``report``, which rewrites the checkout's own weights/metrics.json."""
    copy = s.dir / "checkout"
    shutil.copytree(s.repo, copy, ignore=shutil.ignore_patterns(".git", "study-runs", "assets", "__pycache__"))
    return copy


def report(readme: Callable[[Scratch], str]) -> Callable[[Scratch], Outcome]:
    """``report --readme X`` in a copy of the checkout: it must refuse, and metrics.json must be unchanged."""
    def drive(s: Scratch) -> Outcome:
        s.repo = report_copy(s)
        metrics = (s.repo / "weights/metrics.json").read_bytes()
        done = s.run(trainer("report", "--readme", readme(s)), timeout=600, address_limit=5 << 30)
        if done.returncode == 0:
            done.err += "\n[judge] silent wrong result: a README that cannot be used was accepted"
        elif (s.repo / "weights/metrics.json").read_bytes() != metrics:
            done.err += "\n[judge] data loss: metrics.json was rewritten though the README was refused"
        return done
    return drive


def report_onto_full_disk(s: Scratch) -> Outcome:
    """``report`` that may write no file over 8 kB: both files must stay whole (before, a cut README)."""
    s.repo = report_copy(s)
    readme, metrics = s.repo / "README.md", s.repo / "weights/metrics.json"
    done = s.run(trainer("report", "--readme", str(readme)), timeout=900, file_limit=8192)
    try:
        json.loads(metrics.read_text())
        whole = "accuracy-table:end" in readme.read_text()
    except ValueError:
        whole = False
    if not whole:
        done.err += "\n[judge] data loss: metrics.json or the README was cut"
    return done


def active_run(make: Callable[[Scratch, Path], Path], iteration: int = 1) -> Callable[[Scratch], None]:
    """A hostile checkpoint as the run ``iteration`` uses, chosen through the checkout's own run store."""
    def prepare(s: Scratch) -> None:
        runs = s.data / "runs"
        runs.mkdir(parents=True)
        path = make(s, runs / f"20990101-000000-000000-iteration{iteration}.pt")
        s.python(f"from pathlib import Path\nfrom trainer.runs import RunStore\n"
                 f"RunStore().activate({iteration}, Path({str(path)!r}))")
    return prepare


def study_argv(s: Scratch) -> list[str]:
    return trainer("study", "--iterations", "2", "--seeds", "2", "--jobs", "2", "--train-limit", "30000",
                   "--output", str(s.dir / "study"), "--data-dir", s.mnist)


def started_study(s: Scratch, settle: float = 20) -> tuple[subprocess.Popen, list[int]]:
    """A two-process study ``settle`` seconds after its two workers started (by 20 s they have imported torch,
    read MNIST and train: 5 epochs of 30,000 images, a minute or more), with its workers' ids."""
    study = s.popen(study_argv(s))
    deadline = time.monotonic() + 120
    while len(workers := [p for p in children(study.pid) if b"spawn_main" in command_line(p)]) < 2:
        if study.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    time.sleep(settle)
    return study, workers


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def alive(pids: list[int], wait: float) -> list[int]:
    """Those of ``pids`` still running after up to ``wait`` seconds; the survivors are then ended here."""
    deadline = time.monotonic() + wait
    def running():
        left = []
        for pid in pids:
            with contextlib.suppress(FileNotFoundError):
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(") ")[1][0] != "Z":
                        left.append(pid)
        return left
    while running() and time.monotonic() < deadline:
        time.sleep(0.5)
    left = running()
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def kill_study(s: Scratch) -> Outcome:
    study, workers = started_study(s)
    study.kill()
    study.wait()
    left = alive(workers, 60)  # before reading: a worker that lives on holds the output open
    out, err = study.communicate()
    return Outcome(0, out, err, left_running=left)


def interrupt_study(s: Scratch, settle: float = 20) -> Outcome:
    study, workers = started_study(s, settle)
    os.killpg(study.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    try:
        out, err = study.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(study.pid, signal.SIGKILL)
        out, err = study.communicate()
        return Outcome(None, out, err)
    code = 0 if study.returncode in (130, 1, 2) else study.returncode  # ended by the interrupt, as asked
    return Outcome(code, out, err, left_running=alive(workers, 60))


def two_studies(s: Scratch) -> Outcome:
    first, workers = started_study(s)
    try:
        second = s.run(study_argv(s), timeout=90)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
        alive(workers, 30)
    if second.returncode is None:  # it went on training the pairs the first one trains
        return Outcome(0, second.out, second.err + "\n[judge] silent wrong result: both studies trained")
    if second.returncode == 0:
        second.err += "\n[judge] silent wrong result: both studies trained"
    return second


def stale_temp(s: Scratch) -> None:
    runs = s.data / "runs"
    runs.mkdir(parents=True)
    left = runs / ".20990101-000000-000000-iteration1.pt.abcd1234.tmp"
    left.write_bytes(b"\0" * 1000)
    old = time.time() - 2 * 3600
    os.utime(left, (old, old))


def sixteen_bit(s: Scratch) -> None:
    """A photo of a "1" in 16 bits: dark ink at 10,000, paper at 61,000 (clipped to 8 bits, all of it white)."""
    one_png(s.dir / "wide.png", (10_000 + (255 - digit()).astype(np.uint16) * 200).astype(np.uint16))


def float_tiff(s: Scratch) -> None:
    Image.fromarray(digit().astype(np.float32) / 255 * 3.5).save(s.dir / "float.tif")


def drawing_file(s: Scratch, name: str, data: bytes) -> None:
    make_drawings(s)
    (s.data / "drawings" / name).write_bytes(data)


def pixel_bomb_drawing(s: Scratch) -> None:
    """A copy of a good drawing whose PNG declares 20000x20000."""
    make_drawings(s)
    good = json.loads(next((s.data / "drawings").glob("*.json")).read_text())
    image = base64.b64encode(png_claiming(20_000, 20_000)).decode()
    (s.data / "drawings" / "bomb.json").write_text(json.dumps(good | {"image_png": image}))


def unreadable_drawings_folder(s: Scratch) -> None:
    s.data.mkdir(parents=True)
    (s.data / "drawings").write_text("a file where the folder should be")


ATTACKS = [
    # 1. no finished work is lost
    Attack("1 work kept", "train onto a full disk (RLIMIT_FSIZE 64 kB)",
           lambda s: trainer("train", "1", "--train-limit", "300", "--output", str(s.dir / "o.pt")),
           earlier_output, intact("o.pt"), {"file_limit": 64_000}),
    Attack("1 work kept", "train onto a full disk (a 64 kB tmpfs)",
           lambda s: trainer("train", "1", "--train-limit", "300", "--output", str(s.dir / "disk/o.pt")),
           small_disk, all_of(intact("disk/o.pt"), run_kept)),
    Attack("1 work kept", "train --train-limit 5 (a singular covariance)",
           lambda s: trainer("train", "1", "--train-limit", "5"), judge=run_kept),
    Attack("1 work kept", "train --lr 10 (a dead network)",
           lambda s: trainer("train", "1", "--train-limit", "600", "--lr", "10"), judge=says("diverged")),
    Attack("1 work kept", "train with a read-only data folder",
           lambda s: trainer("train", "1", "--train-limit", "300"), read_only_data_folder, all_of(refused, run_kept)),
    Attack("1 work kept", "train --extra-data with a read-only data folder",
           lambda s: trainer("train", "5", "--extra-data", str(s.dir / "z.zip"), "--train-limit", "300", "--epochs",
                             "1"),
           lambda s: (with_zip()(s), read_only_data_folder(s)) and None, all_of(refused, run_kept)),
    Attack("1 work kept", "calibrate a checkpoint in a read-only folder",
           lambda s: trainer("calibrate", str(s.dir / "ro/earlier.pt")), read_only_folder, unchanged_in_ro),
    Attack("1 work kept", "shapes --weights-dir a read-only folder",
           lambda s: trainer("shapes", "--weights-dir", str(s.dir / "ro")), read_only_folder, unchanged_in_ro),
    Attack("1 work kept", "study --output a read-only folder",
           lambda s: trainer("study", "--iterations", "1", "--seeds", "1", "--train-limit", "64", "--output",
                             str(s.dir / "ro")), read_only_folder, all_of(refused, unchanged_in_ro)),
    Attack("1 work kept", "calibrate onto a full disk (RLIMIT_FSIZE 64 kB)",
           lambda s: trainer("calibrate", str(s.dir / "c.pt")),
           lambda s: shutil.copy(s.repo / "weights/iteration1.pt", s.dir / "c.pt") and None,
           lambda s, done: intact("c.pt", (s.repo / "weights/iteration1.pt").read_bytes())(s, done),
           {"file_limit": 64_000}),
    Attack("1 work kept", "report with a file-size limit of 8 kB (a full disk)", drive=report_onto_full_disk),
    Attack("1 work kept", "report --readme missing", drive=report(lambda s: str(s.dir / "missing.md"))),
    Attack("1 work kept", "report --readme without the markers",
           drive=report(lambda s: (s.dir.joinpath("r.md").write_text("# no markers\n"), str(s.dir / "r.md"))[1])),
    Attack("1 work kept", "report --readme a folder", drive=report(lambda s: str(s.dir))),
    Attack("1 work kept", "report --readme /dev/zero", drive=report(lambda s: "/dev/zero")),
    Attack("1 work kept", "a stale .tmp file of a killed save",
           lambda s: trainer("train", "1", "--train-limit", "64"), stale_temp, no_stale_temp),
    # 2. bounded reads
    Attack("2 bounded reads", "evaluate --checkpoint: 2 GB of zeros deflated into 2 MB under an extra key",
           lambda s: trainer("evaluate", "1", "--checkpoint", str(s.dir / "bomb.pt")),
           lambda s: checkpoint_bomb(s, s.dir / "bomb.pt") and None, refused),
    Attack("2 bounded reads", "predict with that bomb as the run in use",
           lambda s: desktop("predict", str(one_png(s.dir / "one.png"))), active_run(checkpoint_bomb),
           says("iteration 1:")),
    Attack("2 bounded reads", "the window's model loading with that bomb as the run in use",
           lambda s: ["-c", APP_LOADING], active_run(checkpoint_bomb), says("iteration 1:")),
    Attack("2 bounded reads", "evaluate --checkpoint /dev/zero",
           lambda s: trainer("evaluate", "1", "--checkpoint", "/dev/zero"), judge=refused, timeout=120),
    Attack("2 bounded reads", "evaluate --checkpoint a TorchScript file",
           lambda s: trainer("evaluate", "1", "--checkpoint", str(s.dir / "ts.pt")),
           lambda s: torchscript(s, s.dir / "ts.pt") and None,
           all_of(refused, says("TorchScript"))),
    # 3. hostile drawings and ZIPs
    Attack("3 hostile drawings", "predict a 1 kB PNG declaring 20000x20000",
           lambda s: desktop("predict", str(s.dir / "bomb.png")),
           lambda s: (s.dir / "bomb.png").write_bytes(png_claiming(20_000, 20_000)), refused),
    Attack("3 hostile drawings", "predict a 16-bit PNG (a photo: ink at 10,000, paper at 61,000)",
           lambda s: desktop("predict", "--json", str(s.dir / "wide.png")), sixteen_bit, reads_a_one),
    Attack("3 hostile drawings", "predict a float TIFF",
           lambda s: desktop("predict", "--json", str(s.dir / "float.tif")), float_tiff, reads_a_one),
    Attack("3 hostile drawings", "drawings folder: a PNG declaring 20000x20000 among 3 drawings",
           lambda s: ["-c", LOAD_DRAWINGS], pixel_bomb_drawing, drawings_loaded(3)),
    Attack("3 hostile drawings", 'drawings folder: "[" * 100000 among 3 drawings',
           lambda s: ["-c", LOAD_DRAWINGS], lambda s: drawing_file(s, "deep.json", b"[" * 100_000),
           drawings_loaded(3)),
    Attack("3 hostile drawings", "drawings folder that is a file (unreadable)",
           lambda s: ["-c", LOAD_DRAWINGS], unreadable_drawings_folder, drawings_loaded(0)),
    Attack("3 hostile drawings", 'ZIP: strokes.json "[" * 100000', fine_tune,
           with_zip(replaced("strokes.json", b"[" * 100_000)), says("strokes")),
    Attack("3 hostile drawings", "ZIP: an encrypted member", fine_tune,
           with_zip(patch=lambda p: patch_member(p, "images/d1.png", flag=1)), says("encrypted")),
    Attack("3 hostile drawings", "ZIP: a Deflate64 member", fine_tune,
           with_zip(patch=lambda p: patch_member(p, "images/d1.png", method=9)), says("Deflate64")),
    Attack("3 hostile drawings", "ZIP: an unknown compression method", fine_tune,
           with_zip(patch=lambda p: patch_member(p, "images/d1.png", method=77)), says("method 77")),
    Attack("3 hostile drawings", "ZIP: a labels.csv field over 131,072 characters", fine_tune,
           with_zip(appended_row("x," + "7" * 200_000 + ",images/d0.png\n")), says("field")),
    Attack("3 hostile drawings", "ZIP: an image member named twice", fine_tune,
           with_zip(twice("images/d1.png")), says("appears 2 times", "twice", "duplicate")),
    Attack("3 hostile drawings", "ZIP: a PNG declaring 20000x20000", fine_tune,
           with_zip(appended_row("x,1,images/bomb.png\n", ("images/bomb.png", png_claiming(20_000, 20_000)))),
           says("too large")),
    # 4. processes that end
    Attack("4 processes end", "study: SIGKILL of the parent while its workers train", drive=kill_study),
    Attack("4 processes end", "study: Ctrl-C while its workers train", drive=interrupt_study),
    Attack("4 processes end", "study: Ctrl-C as its workers start", drive=lambda s: interrupt_study(s, 1)),
    Attack("4 processes end", "two studies on one --output", drive=two_studies),
    Attack("4 processes end", "study --seeds 5000000",
           lambda s: trainer("study", "--seeds", "5000000", "--output", str(s.dir / "st")), judge=refused,
           timeout=90),
    Attack("4 processes end", "study --iterations 1-99999999999",
           lambda s: trainer("study", "--iterations", "1-99999999999", "--output", str(s.dir / "st")), judge=refused,
           timeout=90),
    Attack("4 processes end", "bench --seconds nan", lambda s: trainer("bench", "--seconds", "nan", "--skip-reference"),
           judge=refused, timeout=120),
    Attack("4 processes end", "bench --seconds inf", lambda s: trainer("bench", "--seconds", "inf", "--skip-reference"),
           judge=refused, timeout=120),
    Attack("4 processes end", "bench --json <missing folder>",
           lambda s: trainer("bench", "--seconds", "1", "--skip-reference", "--json", str(s.dir / "no/b.json")),
           judge=refused),
    # 5. nothing silent
    Attack("5 nothing silent", "evaluate --data-dir an existing folder without MNIST",
           lambda s: trainer("evaluate", "1", "--data-dir", str(s.dir)), judge=refused),
    Attack("5 nothing silent", "train --data-dir an existing folder without MNIST",
           lambda s: trainer("train", "1", "--train-limit", "64", "--data-dir", str(s.dir)), judge=refused),
    Attack("5 nothing silent", "train --output ''",
           lambda s: trainer("train", "1", "--train-limit", "64", "--output", ""),
           judge=all_of(refused, not_in_use(1))),
    Attack("5 nothing silent", "evaluate --checkpoint ''", lambda s: trainer("evaluate", "1", "--checkpoint", ""),
           judge=refused),
    Attack("5 nothing silent", "evaluate --data-dir ''", lambda s: trainer("evaluate", "1", "--data-dir", ""),
           judge=refused),
    Attack("5 nothing silent", "predict --explain ''",
           lambda s: desktop("predict", "--explain", "", str(one_png(s.dir / "one.png"))), judge=refused),
    Attack("5 nothing silent", "predict --explain D a/x.png b/x.png",
           lambda s: desktop("predict", "--explain", str(s.dir / "maps"),
                             *[str(one_png(s.dir / f / "x.png")) for f in ("a", "b")]), judge=maps_of_both),
    Attack("5 nothing silent", "evaluate --checkpoint weights of 3e38",
           lambda s: trainer("evaluate", "1", "--checkpoint", str(s.dir / "huge.pt")),
           lambda s: save_with_weights(s, s.dir / "huge.pt", huge) and None, refused),
    Attack("5 nothing silent", "predict --json with a run of 3e38 weights in use",
           lambda s: desktop("predict", "--json", str(one_png(s.dir / "one.png"))),
           active_run(lambda s, p: save_with_weights(s, p, huge, 5), 5), all_of(strict_json, says("iteration 5"))),
    Attack("5 nothing silent", "evaluate --checkpoint int64 weights",
           lambda s: trainer("evaluate", "1", "--checkpoint", str(s.dir / "long.pt")),
           lambda s: save_with_weights(s, s.dir / "long.pt", lambda k, v: v.long()) and None, refused),
    Attack("5 nothing silent", "train 1 (a worse run) without --use",
           lambda s: trainer("train", "1", "--train-limit", "64"), judge=not_in_use(1)),
]


def classify(done: Outcome, verdict: str | None) -> str:
    if done.returncode is None or done.left_running:
        return "hang"
    if done.returncode < 0 or done.peak_bytes > MEMORY_CAP:
        return "crash"
    if "[judge] data loss" in done.err or verdict == "data loss":
        return "data loss"
    if "Traceback (most recent call last)" in done.err:
        return "traceback"
    if "[judge] silent wrong result" in done.err:
        return "silent wrong result"
    return verdict or "one sentence"


def attack(repo: Path, one: Attack, root: Path) -> tuple[str, Outcome]:
    s = Scratch(repo, Path(tempfile.mkdtemp(dir=root)))
    try:
        one.prepare(s)
        done = one.drive(s) if one.drive else s.run(one.argv(s), timeout=one.timeout, **one.limits)
        verdict = None
        if not one.drive and done.returncode is not None:
            with contextlib.suppress(RuntimeError):  # a state the checkout's store cannot read: no verdict
                verdict = one.judge(s, done)
        return classify(done, verdict), done
    finally:
        s.unmount()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.attacks", description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=HERE, help="the checkout to attack (default: this one)")
    parser.add_argument("--only", default="", help="only the attacks whose name holds this text")
    args = parser.parse_args(argv)
    counts: Counter[str] = Counter()
    root = Path(tempfile.mkdtemp(prefix="attacks-"))
    try:
        for one in ATTACKS:
            if args.only.lower() not in one.name.lower():
                continue
            cls, done = attack(args.repo.resolve(), one, root)
            counts[cls] += 1
            last = (done.err.strip().splitlines() or done.out.strip().splitlines() or [""])[-1]
            print(f"{cls:20} | {one.group:18} | {one.name} | {last[:160]}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("\n" + ", ".join(f"{c}: {counts[c]}" for c in CLASSES) + f" ({sum(counts.values())} attacks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
