"""Checkpoints: a dict of state_dict + metadata, written atomically, read with ``weights_only=True``."""
from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import torch
from torch import nn

from .errors import CheckpointError
from .iterations import build_model, count_parameters, get_iteration
from .paths import shipped_weights_path

FORMAT = "mnist-desktop-checkpoint"
FORMAT_VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


def save_checkpoint(checkpoint: dict, path: str | os.PathLike) -> Path:
    """Write to a temporary file beside ``path`` and move it into place, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint dict, or CheckpointError saying why the file is not a usable checkpoint."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise CheckpointError(f"Cannot open the weights file {path}: {e.strerror}.") from e
    if magic != ZIP_MAGIC:
        raise CheckpointError(f"{path} is not a checkpoint: it is not a PyTorch file at all. "
                              "Choose a .pt file written by mnist-desktop.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # weights_only refuses anything but tensors and plain containers
        raise CheckpointError(f"{path} holds Python objects other than weights, so it is not an mnist-desktop "
                              "checkpoint and was not loaded (loading it could run code).") from e
    except Exception as e:  # torch raises RuntimeError, EOFError... for damaged archives
        raise CheckpointError(f"{path} is truncated or damaged and cannot be read ({type(e).__name__}). "
                              "Retrain the iteration or restore the file.") from e
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a PyTorch file but not an mnist-desktop checkpoint. "
                              "Choose a .pt file written by mnist-desktop.")
    return checkpoint


def model_from_checkpoint(checkpoint: dict, iteration: int, source: str = "checkpoint") -> nn.Module:
    """Build ``iteration``'s network and load the checkpoint's weights into it (eval mode)."""
    model = build_model(iteration)
    if checkpoint.get("iteration") != iteration:
        raise CheckpointError(f"{source} holds iteration {checkpoint.get('iteration')}, not iteration {iteration}.")
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except (RuntimeError, KeyError) as e:
        raise CheckpointError(
            f"{source} belongs to another architecture: its weights do not fit iteration {iteration} "
            f"({count_parameters(model):,} parameters). Retrain the iteration or restore the file."
        ) from e
    return model.eval()


def load_model(iteration: int, path: str | os.PathLike | None = None) -> nn.Module:
    """The iteration's model in eval mode, from ``path`` or from the shipped weights."""
    get_iteration(iteration)
    path = Path(path) if path else shipped_weights_path(iteration)
    return model_from_checkpoint(read_checkpoint(path), iteration, str(path))
