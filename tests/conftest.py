"""Shared fixtures. Tests read the real MNIST files from $MNIST_DATA_DIR and never download."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_user_folders(tmp_path_factory, monkeypatch):
    """Each test gets its own per-user data and config folders, so nothing touches the real ones."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    return home


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    folder = os.environ.get("MNIST_DATA_DIR")
    if not folder or not Path(folder).is_dir():
        pytest.fail("Set MNIST_DATA_DIR to the folder with the four MNIST .gz files (see the README).")
    return Path(folder)


@pytest.fixture(scope="session")
def hwd_dir() -> Path:
    """The 1,000 hand-drawn digits, for evaluating the drawing path only."""
    folder = Path(os.environ.get("HWD1000_DIR", Path(__file__).resolve().parents[2] / "shared/data/hwd1000"))
    if not (folder / "dataset.csv").is_file():
        pytest.fail(f"hwd1000 not found at {folder}; set HWD1000_DIR.")
    return folder


@pytest.fixture(scope="session")
def unipen_dir() -> Path:
    """Real pen digits, letters and symbols from 9 UNIPEN contributors (CC BY 4.0), as strokes."""
    folder = Path(os.environ.get("UNIPEN_DIR", Path(__file__).resolve().parents[2] / "shared/data/unipen"))
    if not (folder / "digits.json").is_file():
        pytest.fail(f"UNIPEN's strokes not found at {folder}; set UNIPEN_DIR.")
    return folder
