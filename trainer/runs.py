"""The user's retrained weights: every saved run, and which one each iteration uses.

Layout in the per-user data folder: ``runs/<time>-iteration<N>.pt`` for each saved run, and
``active/iteration<N>`` holding the file name of the run iteration N uses (empty: the shipped weights, which
are never written to). One small file per iteration, each replaced atomically under a unique temporary name,
so several processes can activate runs at once without losing each other's choices. ``active.json`` (the
older single-file layout) is still read for iterations that have no file of their own.

Nothing read here is trusted: a selection of the wrong shape, naming a missing file or a path elsewhere, is
ignored with a logged warning, and non-regular files (pipes, devices) are never opened.
"""
from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

from .checkpoint import CheckpointInfo, read_checkpoint, save_checkpoint
from .checks import number
from .errors import CheckpointError, MnistDesktopError, WriteError
from .files import make_folder, remove_stale_temps, write_text
from .iterations import ITERATIONS
from .paths import user_data_dir

log = logging.getLogger(__name__)

MAX_NAME_BYTES = 255  # the usual limit of a file name: a longer selection names no run
MAX_LEGACY_BYTES = 65_536  # active.json maps seven iterations to names: far below this


@dataclass(frozen=True, kw_only=True)
class RunInfo(CheckpointInfo):
    """A saved run: its checkpoint's metadata and where it is."""

    path: Path


def _read_small_regular_file(path: Path, limit: int) -> bytes | None:
    """The file's first ``limit + 1`` bytes, or None when it is absent or not a regular file (checked before
    opening, so a pipe never blocks the reader)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            log.warning("%s is not a regular file; ignored", path)
            return None
        with open(path, "rb") as f:
            return f.read(limit + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        log.warning("%s cannot be read (%s); ignored", path, e.strerror)
        return None


class RunStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else user_data_dir()
        self.runs_dir = self.root / "runs"
        self.active_dir = self.root / "active"
        self.legacy_active_file = self.root / "active.json"
        for folder in (self.runs_dir, self.active_dir):  # what saves that were killed left behind
            remove_stale_temps(folder)

    def _selection_file(self, iteration: int) -> Path:
        return self.active_dir / f"iteration{iteration}"

    def _legacy_selection(self, iteration: int) -> object:
        raw = _read_small_regular_file(self.legacy_active_file, MAX_LEGACY_BYTES)
        if raw is None:
            return ""
        try:
            active = json.loads(raw) if len(raw) <= MAX_LEGACY_BYTES else None
        except ValueError:
            log.warning("%s is not JSON; ignored", self.legacy_active_file)
            return ""
        if not isinstance(active, dict):
            log.warning("%s holds a %s, not a mapping of iterations to runs; ignored",
                        self.legacy_active_file, type(active).__name__)
            return ""
        return active.get(str(iteration), "")

    def active_path(self, iteration: int) -> Path | None:
        """The run this iteration uses, or None for the shipped weights (also when the selection is unusable)."""
        raw = _read_small_regular_file(self._selection_file(iteration), MAX_NAME_BYTES)
        if raw is None:
            name = self._legacy_selection(iteration)
        elif len(raw) > MAX_NAME_BYTES:
            name = raw
        else:
            try:
                name = raw.decode().strip()
            except UnicodeDecodeError:
                name = raw
        if name == "":
            return None
        if (not isinstance(name, str) or Path(name).name != name or name in (".", "..")
                or (os.altsep and os.altsep in name)):
            log.warning("iteration %d's selection %r is not the file name of a run; using the shipped weights",
                        iteration, name)
            return None
        path = self.runs_dir / name
        if not path.is_file():  # stat only: a pipe or a missing file is not a run
            log.warning("iteration %d's run %s is missing or not a regular file; using the shipped weights",
                        iteration, path)
            return None
        return path

    def activate(self, iteration: int, path: Path | None) -> None:
        """Use the run at ``path`` (a file in ``runs_dir``) for ``iteration``; None reverts to the shipped weights."""
        if iteration not in ITERATIONS:
            raise ValueError(f"There is no iteration {iteration}.")
        make_folder(self.active_dir)
        write_text(self._selection_file(iteration), "" if path is None else Path(path).name)

    def save(self, checkpoint: dict, activate: bool = True) -> Path:
        path = save_checkpoint(checkpoint, self.runs_dir / run_file_name(checkpoint))
        if activate:
            self.activate(checkpoint["iteration"], path)
        return path

    def list_runs(self, limit: int = 10) -> list[RunInfo]:
        """The newest ``limit`` usable runs, newest first; unreadable or incomplete files are skipped."""
        runs = []
        for path in sorted(self.runs_dir.glob("*-iteration*.pt"), reverse=True):
            try:
                info = read_checkpoint(path).info  # never opens a non-regular file
            except CheckpointError as e:
                log.warning("skipped %s: %s", path, e)
                continue
            runs.append(RunInfo(path=path, **{f.name: getattr(info, f.name) for f in fields(info)}))
            if len(runs) == limit:
                break
        return runs


def accuracy_in_use(store: RunStore, iteration: int) -> float | None:
    """Test accuracy of the weights ``iteration`` uses now (a retrained run or the shipped weights), if known."""
    from .report import read_metrics

    active = store.active_path(iteration)
    if active is None:
        accuracy = read_metrics().get(iteration, {}).get("test_accuracy")
        return accuracy if number(0, 100)(accuracy) else None
    try:
        return read_checkpoint(active).info.test_accuracy
    except MnistDesktopError:
        return None


def run_file_name(checkpoint: dict) -> str:
    """``<time>-iteration<N>.pt``: sorts by time, and names the iteration."""
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}-iteration{checkpoint['iteration']}.pt"


def keep_run(checkpoint: dict, failure: WriteError, store: RunStore) -> WriteError:
    """After ``failure`` to save a finished run, keep it (not in use) in the store's runs folder, else in the
    system's temporary folder: the WriteError to report, which says where the run went."""
    places = [store.runs_dir, Path(tempfile.gettempdir())]
    for folder in places:
        try:
            kept = save_checkpoint(checkpoint, folder / run_file_name(checkpoint))
        except WriteError:
            continue
        return WriteError(failure.path, failure.reason, f"the run was kept as {kept} instead (not put in use)")
    return WriteError(failure.path, failure.reason,
                      f"it could not be kept in {' or '.join(map(str, places))} either, so the run is lost")
