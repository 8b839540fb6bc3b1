"""The checkpoint format, in one place: building it, its metadata as a typed object, reading and checking it.

A checkpoint is ``torch.save`` of a dict: ``format``, ``format_version``, the metadata keys of
``CheckpointInfo`` (plus any keys other parts of the project add, kept in ``CheckpointInfo.extra``) and
``state_dict``. It is written atomically and read with ``weights_only=True``; nothing in it is trusted.
"""
from __future__ import annotations

import os
import pickle
import stat
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checks import Check, instance, number, whole
from .errors import CheckpointError, ConfigError
from .iterations import ITERATIONS, Recipe, build_model, count_parameters, get_iteration
from .paths import shipped_weights_path

FORMAT = "mnist-desktop-checkpoint"
FORMAT_VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
RECIPE_KEYS = frozenset(f.name for f in fields(Recipe))


@dataclass(frozen=True)
class CheckpointInfo:
    """A checkpoint's metadata: everything but the weights."""

    iteration: int
    parameters: int
    recipe: dict  # Recipe.as_dict() of the run
    seed: int
    train_images: int  # training images actually used
    epochs: int  # epochs completed
    history: list[dict]  # one EpochEnd (as a dict) per completed epoch
    test_accuracy: float  # percent on the 10k test set after the last epoch
    test_loss: float
    device: str
    seconds: float  # wall-clock training time
    torch_version: str
    extra: dict = field(default_factory=dict)  # keys other parts of the project add (calibration, study data)

    @classmethod
    def of(cls, checkpoint: dict, source: str = "The checkpoint") -> CheckpointInfo:
        """The metadata of a checkpoint dict, or CheckpointError naming the first key that is missing or wrong."""
        values = {}
        for key in METADATA_KEYS:
            if key not in checkpoint:
                raise CheckpointError(f"{source} has no {key}, so it is not a complete mnist-desktop checkpoint. "
                                      "Retrain the iteration or restore the file.")
            is_valid, allowed = _METADATA_RULES[key]
            value = checkpoint[key]
            if not is_valid(value):
                shown = repr(value) if len(repr(value)) <= 40 else f"a {type(value).__name__}"
                raise CheckpointError(f"{source} is damaged: its {key} is {shown}, but must be {allowed}. "
                                      "Retrain the iteration or restore the file.")
            values[key] = value
        extra = {k: v for k, v in checkpoint.items() if k not in values and k not in _FRAME_KEYS}
        return cls(**values, extra=extra)

    def as_dict(self) -> dict:
        """The metadata as the checkpoint stores it: one key per field, ``extra``'s keys beside them."""
        return {key: getattr(self, key) for key in METADATA_KEYS} | self.extra


# What each metadata key must hold, and how to say it.
_METADATA_RULES: dict[str, tuple[Check, str]] = {
    "iteration": (lambda v: whole(1)(v) and v in ITERATIONS, f"a whole number from 1 to {max(ITERATIONS)}"),
    "parameters": (whole(1), "a whole number of at least 1"),
    "recipe": (lambda v: isinstance(v, dict) and RECIPE_KEYS <= v.keys(),
               f"a dict with the keys {', '.join(sorted(RECIPE_KEYS))}"),
    "seed": (whole(0), "a whole number of at least 0"),
    "train_images": (whole(1), "a whole number of at least 1"),
    "epochs": (whole(1), "a whole number of at least 1"),
    "history": (lambda v: isinstance(v, list) and all(isinstance(e, dict) for e in v), "a list of dicts"),
    "test_accuracy": (number(0, 100), "a percentage from 0 to 100"),
    "test_loss": (number(0), "a finite number of at least 0"),
    "device": (instance(str), "text"),
    "seconds": (number(0), "a finite number of at least 0"),
    "torch_version": (instance(str), "text"),
}
METADATA_KEYS = tuple(f.name for f in fields(CheckpointInfo) if f.name != "extra")
_FRAME_KEYS = frozenset({"format", "format_version", "state_dict"})


def build_checkpoint(model: nn.Module, info: CheckpointInfo) -> dict:
    """The dict to save: format, metadata and a CPU copy of the weights (layout-free, detached)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, **info.as_dict(),
            "state_dict": {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}}


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


def check_save_path(path: str | os.PathLike) -> Path:
    """``path`` if save_checkpoint may write there: a new name or an existing regular file, in an existing
    folder this process can write to. Anything else (a pipe, device, symbolic link, folder) is refused with
    ConfigError before any work is done, so a finished run is never lost to a bad path."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise ConfigError(f"The output path {path} cannot be checked ({e.strerror}); choose another one.") from e
    if mode is not None and not stat.S_ISREG(mode):
        kind = ("a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode)
                else "a pipe, socket or device")
        raise ConfigError(f"The output path {path} is {kind}, not a file; give the name of a new or existing "
                          ".pt file.")
    if not path.parent.is_dir():
        raise ConfigError(f"The output path {path} is in a folder that does not exist; create {path.parent} "
                          "first or choose another path.")
    if not os.access(path.parent, os.W_OK | os.X_OK) or (mode is not None and not os.access(path, os.W_OK)):
        raise ConfigError(f"The output path {path} cannot be written to; choose a path in a folder you can "
                          "write to.")
    return path


def _check_frame(checkpoint: Any, source: str) -> None:
    """The parts around the metadata: the format marker, its version, the weights."""
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{source} is a PyTorch file but not an mnist-desktop checkpoint. "
                              "Choose a .pt file written by mnist-desktop.")
    version = checkpoint.get("format_version")
    if not whole(1)(version):
        raise CheckpointError(f"{source} is damaged: its format_version is {version!r}, but must be a whole "
                              "number of at least 1. Retrain the iteration or restore the file.")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{source} was written by a newer mnist-desktop (checkpoint format {version}; this "
                              f"version reads format {FORMAT_VERSION}). Update mnist-desktop to use it.")
    weights = checkpoint.get("state_dict")
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise CheckpointError(f"{source} holds no weights (its state_dict is missing or not a dict of tensors). "
                              "Retrain the iteration or restore the file.")
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{source} holds NaN or infinite weights (in {name}), so its predictions would "
                                  "be meaningless. Retrain the iteration or restore the file.")


def load_torch_file(path: str | os.PathLike, remedy: str | None = None) -> Any:
    """What ``torch.save`` wrote to ``path``, read with ``weights_only=True``, or CheckpointError saying why it
    cannot be read; ``remedy`` says what to do instead of the checkpoint's advice, for a file the user does not
    choose.

    Only a regular file is opened: a pipe or device named like a checkpoint would block or never end.
    """
    path = Path(path)
    choose = remedy or "Choose a .pt file written by mnist-desktop."
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe, socket or device)"
            raise CheckpointError(f"{path} is {kind}, so it was not opened. {choose}")
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise CheckpointError(f"Cannot open the weights file {path}: {e.strerror}."
                              + (f" {remedy}" if remedy else "")) from e
    if magic != ZIP_MAGIC:
        raise CheckpointError(f"{path} is not a checkpoint: it is not a PyTorch file at all. {choose}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # weights_only refuses anything but tensors and plain containers
        raise CheckpointError(f"{path} holds Python objects other than weights, so it is not an mnist-desktop "
                              "checkpoint and was not loaded (loading it could run code)."
                              + (f" {remedy}" if remedy else "")) from e
    except Exception as e:  # torch raises RuntimeError, EOFError... for damaged archives
        raise CheckpointError(f"{path} is truncated or damaged and cannot be read ({type(e).__name__}). "
                              f"{remedy or 'Retrain the iteration or restore the file.'}") from e


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint dict, checked, or CheckpointError saying why the file is not a usable checkpoint."""
    checkpoint = load_torch_file(path)
    _check_frame(checkpoint, str(path))
    CheckpointInfo.of(checkpoint, str(path))
    return checkpoint


def model_from_checkpoint(checkpoint: dict, iteration: int, source: str = "checkpoint") -> nn.Module:
    """Build ``iteration``'s network and load the checkpoint's weights into it (eval mode)."""
    model = build_model(iteration)
    if checkpoint.get("iteration") != iteration:
        raise CheckpointError(f"{source} holds iteration {checkpoint.get('iteration')!r}, not iteration "
                              f"{iteration}.")
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
