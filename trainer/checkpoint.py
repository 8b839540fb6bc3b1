"""The checkpoint format, in one place: building it, its metadata as a typed object, reading and checking it.

A checkpoint is ``torch.save`` of a dict: ``format``, ``format_version``, the metadata keys of
``CheckpointInfo`` (plus any keys other parts of the project add, kept in ``CheckpointInfo.extra``) and
``state_dict``. It is written atomically and read with ``weights_only=True``; nothing in it is trusted.
"""
from __future__ import annotations

import os
import pickle
import stat
import zipfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checks import Check, instance, number, whole
from .errors import CheckpointError
from .files import make_folder, write_atomic
from .iterations import MNIST_SIDE, MODELS, Recipe, build_model, count_parameters, get_iteration
from .paths import shipped_weights_path

FORMAT = "mnist-desktop-checkpoint"
FORMAT_VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive
# What a file read with load_torch_file may unpack to: the largest iteration's weights are about 110 kB, its
# statistics 45 kB, the pixel model (digit_shapes.pt) 660 kB; a history of 1,000 epochs stays far below.
MAX_TORCH_FILE_BYTES = 4_000_000
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
    "iteration": (lambda v: whole(1)(v) and v in MODELS, f"a whole number from 1 to {max(MODELS)}"),
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
    weights = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    return Checkpoint(info, weights).as_dict()


def save_checkpoint(checkpoint: dict, path: str | os.PathLike) -> Path:
    """Write atomically (trainer.files), creating the folder: a crash never leaves half a file; a failure is
    WriteError."""
    path = Path(path)
    make_folder(path.parent)
    return write_atomic(path, lambda f: torch.save(checkpoint, f))


def _check_frame(checkpoint: Any, source: str) -> None:
    """The parts around the metadata: the format marker, its version, the weights as a dict of tensors."""
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


def _check_weights(weights: dict[str, torch.Tensor], iteration: int, source: str) -> None:
    """The weights are exactly what ``iteration``'s network has (names, shapes, dtypes), finite, and give
    finite outputs: weights of 3e38 are finite but overflow to NaN on the first image."""
    with torch.device("meta"):  # shapes and dtypes only: no memory, no initialisation, the RNG untouched
        model = build_model(iteration)
    expected = model.state_dict()
    if weights.keys() != expected.keys() or any(weights[k].shape != v.shape for k, v in expected.items()):
        raise CheckpointError(
            f"{source} belongs to another architecture: its weights do not fit iteration {iteration} "
            f"({count_parameters(model):,} parameters). Retrain the iteration or restore the file.")
    for name, tensor in weights.items():
        if tensor.dtype != expected[name].dtype:
            raise CheckpointError(f"{source} is damaged: its weight {name} is stored as {tensor.dtype}, not "
                                  f"{expected[name].dtype}. Retrain the iteration or restore the file.")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{source} holds NaN or infinite weights (in {name}), so its predictions would "
                                  "be meaningless. Retrain the iteration or restore the file.")
    model.load_state_dict(weights, assign=True)
    with torch.no_grad():
        outputs = model.eval()(_PROBES)
    if not torch.isfinite(outputs).all():
        raise CheckpointError(f"{source} holds weights so large that its outputs overflow to NaN or infinity, so "
                              "its predictions would be meaningless. Retrain the iteration or restore the file.")


# Inputs every usable network must answer with finite numbers: blank, full of ink, and noise (normalised range).
_PROBE_SHAPE = (1, MNIST_SIDE, MNIST_SIDE)
_PROBES = torch.stack([torch.full(_PROBE_SHAPE, -0.5), torch.full(_PROBE_SHAPE, 2.9),
                       torch.rand(_PROBE_SHAPE, generator=torch.Generator().manual_seed(0)) * 3.4 - 0.5])


@dataclass(frozen=True)
class Checkpoint:
    """A checked checkpoint: its metadata and weights that fit its iteration's network."""

    info: CheckpointInfo
    state_dict: dict[str, torch.Tensor] = field(repr=False)

    @classmethod
    def of(cls, checkpoint: Any, source: str = "The checkpoint") -> Checkpoint:
        """The checkpoint of a dict (from torch.load or build_checkpoint), or CheckpointError saying why not."""
        _check_frame(checkpoint, source)
        info = CheckpointInfo.of(checkpoint, source)
        _check_weights(checkpoint["state_dict"], info.iteration, source)
        return cls(info, checkpoint["state_dict"])

    def as_dict(self) -> dict:
        """What save_checkpoint writes."""
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **self.info.as_dict(), "state_dict": self.state_dict}

    def with_extra(self, **keys: Any) -> Checkpoint:
        """The same weights and metadata with ``keys`` added to (or replaced in) ``info.extra``."""
        return replace(self, info=replace(self.info, extra=self.info.extra | keys))


def load_torch_file(path: str | os.PathLike, remedy: str | None = None, max_bytes: int = MAX_TORCH_FILE_BYTES) -> Any:
    """What ``torch.save`` wrote to ``path``, read with ``weights_only=True``, or CheckpointError saying why it
    cannot be read; ``remedy`` says what to do instead of the checkpoint's advice, for a file the user does not
    choose.

    Nothing is unpacked before the archive was checked: only a regular file is opened (a pipe or device named
    like a checkpoint would block or never end), and its records may not unpack to more than ``max_bytes``
    (a few megabytes of zeros compress into a kilobyte: such a file would fill the memory).
    """
    path = Path(path)
    choose = remedy or "Choose a .pt file written by mnist-desktop."
    restore = remedy or "Retrain the iteration or restore the file."
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe, socket or device)"
            raise CheckpointError(f"{path} is {kind}, so it was not opened. {choose}")
        if info.st_size > max_bytes:
            raise CheckpointError(f"{path} is {info.st_size:,} bytes, more than any mnist-desktop file of this kind "
                                  f"({max_bytes:,} at most), so it was not loaded. {choose}")
        with open(path, "rb") as f:
            magic = f.read(4)
            if magic == ZIP_MAGIC:
                records = zipfile.ZipFile(f).infolist()
    except OSError as e:
        raise CheckpointError(f"Cannot open the weights file {path}: {e.strerror}."
                              + (f" {remedy}" if remedy else "")) from e
    except zipfile.BadZipFile as e:
        raise CheckpointError(f"{path} is truncated or damaged and cannot be read (its archive is incomplete). "
                              f"{restore}") from e
    if magic != ZIP_MAGIC:
        raise CheckpointError(f"{path} is not a checkpoint: it is not a PyTorch file at all. {choose}")
    if any(r.filename.endswith("/constants.pkl") or "/code/" in r.filename for r in records):
        raise CheckpointError(f"{path} is a TorchScript model (saved with torch.jit.save), not an mnist-desktop "
                              f"checkpoint, so it was not loaded. {choose}")
    unpacked = sum(r.file_size for r in records)
    if unpacked > max_bytes:
        raise CheckpointError(f"{path} would unpack to {unpacked:,} bytes, more than any mnist-desktop file of this "
                              f"kind ({max_bytes:,} at most), so it was not loaded. {choose}")
    if any(r.compress_type != zipfile.ZIP_STORED for r in records):
        raise CheckpointError(f"{path} holds compressed records, which torch.save never writes, so it was not "
                              f"loaded. {choose}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # weights_only refuses anything but tensors and plain containers
        raise CheckpointError(f"{path} holds Python objects other than weights, so it is not an mnist-desktop "
                              "checkpoint and was not loaded (loading it could run code)."
                              + (f" {remedy}" if remedy else "")) from e
    except Exception as e:  # torch raises RuntimeError, EOFError... for damaged archives
        raise CheckpointError(f"{path} is truncated or damaged and cannot be read ({type(e).__name__}). "
                              f"{restore}") from e


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """The checkpoint in ``path``, checked, or CheckpointError saying why the file is not a usable checkpoint."""
    return Checkpoint.of(load_torch_file(path), str(path))


def model_from_checkpoint(checkpoint: Checkpoint, iteration: int | None = None,
                          source: str = "The checkpoint") -> nn.Module:
    """The checkpoint's network with its weights, in eval mode; CheckpointError if it is not ``iteration``'s."""
    if iteration is not None and checkpoint.info.iteration != iteration:
        raise CheckpointError(f"{source} holds iteration {checkpoint.info.iteration}, not iteration {iteration}.")
    model = build_model(checkpoint.info.iteration)
    model.load_state_dict(checkpoint.state_dict)  # Checkpoint.of checked that they fit
    return model.eval()


def load_model(iteration: int, path: str | os.PathLike | None = None) -> nn.Module:
    """The iteration's model in eval mode, from ``path`` or from the shipped weights."""
    get_iteration(iteration)
    path = Path(path) if path else shipped_weights_path(iteration)
    return model_from_checkpoint(read_checkpoint(path), iteration, str(path))
