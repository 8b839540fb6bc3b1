"""The user's retrained weights: every saved run, and which one each iteration uses.

Layout in the per-user data folder: ``runs/<time>-iteration<N>.pt`` for each saved run and ``active.json``
mapping an iteration to the run it uses; an iteration absent from it uses the shipped weights, which are
never written to.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .checkpoint import read_checkpoint, save_checkpoint
from .errors import CheckpointError
from .paths import user_data_dir


@dataclass
class RunInfo:
    path: Path
    iteration: int
    test_accuracy: float
    epochs: int
    recipe: dict
    seed: int
    seconds: float
    train_images: int


class RunStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else user_data_dir()
        self.runs_dir = self.root / "runs"
        self.active_file = self.root / "active.json"

    def _active(self) -> dict[str, str]:
        try:
            return json.loads(self.active_file.read_text())
        except (OSError, ValueError):
            return {}

    def active_path(self, iteration: int) -> Path | None:
        """The run this iteration uses, or None for the shipped weights."""
        name = self._active().get(str(iteration))
        return self.runs_dir / name if name else None

    def activate(self, iteration: int, path: Path | None) -> None:
        """Use the run at ``path`` for ``iteration``; None reverts to the shipped weights."""
        active = self._active()
        if path is None:
            active.pop(str(iteration), None)
        else:
            active[str(iteration)] = Path(path).name
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.active_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(active, indent=1))
        os.replace(tmp, self.active_file)

    def save(self, checkpoint: dict, activate: bool = True) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = save_checkpoint(checkpoint, self.runs_dir / f"{stamp}-iteration{checkpoint['iteration']}.pt")
        if activate:
            self.activate(checkpoint["iteration"], path)
        return path

    def list_runs(self, limit: int = 10) -> list[RunInfo]:
        """The newest ``limit`` readable runs, newest first (unreadable files are skipped)."""
        runs = []
        for path in sorted(self.runs_dir.glob("*-iteration*.pt"), reverse=True):
            try:
                c = read_checkpoint(path)
            except CheckpointError:
                continue
            runs.append(RunInfo(path, c["iteration"], c["test_accuracy"], c["epochs"], c["recipe"], c["seed"],
                                c["seconds"], c["train_images"]))
            if len(runs) == limit:
                break
        return runs
