"""Where files live: the per-user data folder and the shipped weights."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "mnist-desktop"


def user_data_dir() -> Path:
    """The per-user data folder (XDG data home on Linux, the platform's usual place elsewhere)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_NAME


def user_study_dir() -> Path:
    """Where a study run from the window or ``mnist-train study`` (without --output) keeps its pairs."""
    return user_data_dir() / "study"


def fine_tune_drawings_path() -> Path:
    """The person's drawings as a fine-tune in the window reads them (written when it starts)."""
    return user_data_dir() / "fine-tune" / "drawings.zip"


def user_cache_dir() -> Path:
    """The per-user cache folder, for what a command can make again (XDG cache home on Linux)."""
    if sys.platform == "win32":
        return user_data_dir() / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_NAME
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_NAME


def shipped_weights_dir() -> Path:
    """``weights/`` of a source checkout, or where ``pip install`` put it (``<prefix>/share/mnist-desktop``)."""
    checkout = Path(__file__).resolve().parent.parent / "weights"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / APP_NAME / "weights"


def shipped_weights_path(iteration: int, weights_dir: Path | None = None) -> Path:
    """Iteration ``iteration``'s checkpoint in ``weights_dir`` (default: the shipped weights folder)."""
    return (weights_dir or shipped_weights_dir()) / f"iteration{iteration}.pt"


METRICS_FILE = "metrics.json"  # the shipped weights' test-set figures, written by ``mnist-train report``
STUDY_RESULTS_FILE = "study.json"  # written by ``mnist-train study`` beside its pairs; the shipped one in weights/
