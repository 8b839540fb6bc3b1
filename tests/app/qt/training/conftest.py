from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from trainer.runs import RunStore

from mnist_desktop._qt.concurrency import wait_for_jobs
from mnist_desktop._qt.training.controller import TrainingController


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "user")


@pytest.fixture
def controller(qtbot, tmp_path, store):
    """A controller of its own, with a RunStore in a temporary folder; a finished tiny run is used (it is worse
    than the shipped model)."""
    c = TrainingController(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), store)
    c.confirm_use_worse = lambda iteration, new, current: True
    yield c
    c.shutdown()
    assert wait_for_jobs(10_000)
