"""MNIST as uint8 tensors, read straight from the original IDX files.

Where the files come from, in order: an explicit folder, ``$MNIST_DATA_DIR``, the per-user data folder;
when none has them, ``torchvision.datasets.MNIST`` downloads them (md5-checked) into the per-user folder.
"""
from __future__ import annotations

import gzip
import logging
import os
import shutil
import struct
import tempfile
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .errors import DataNotFoundError
from .paths import user_data_dir

log = logging.getLogger(__name__)

ENV_VAR = "MNIST_DATA_DIR"
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
ALL_FILES = [name + ".gz" for images, labels, _ in FILES.values() for name in (images, labels)]
IMAGES_MAGIC, LABELS_MAGIC = 0x803, 0x801


class IdxError(ValueError):
    """A file is not the IDX file it should be."""


def read_idx(path: Path, magic: int, count: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or not), checking its magic number, shape and item count."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            # One C call that releases the GIL, so a GUI thread stays responsive while a worker loads MNIST.
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:  # what truncated or non-gzip files raise
        raise IdxError(f"{path} cannot be read ({e})") from e
    if len(raw) < 4 or struct.unpack(">I", raw[:4])[0] != magic:
        raise IdxError(f"{path} is not an IDX file of the expected kind (wrong magic number)")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected_shape = (count, 28, 28)[:ndim] if count is not None else shape
    if shape != expected_shape:
        raise IdxError(f"{path} holds shape {shape}, expected {expected_shape}")
    if len(raw) - header != int(np.prod(shape)):
        raise IdxError(f"{path} is truncated: {len(raw) - header} bytes of data for shape {shape}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _has_all(folder: Path) -> bool:
    return all(_find(folder, name.removesuffix(".gz")) for name in ALL_FILES)


def _candidate_folders(data_dir: str | os.PathLike | None) -> list[Path]:
    folders = [Path(data_dir)] if data_dir else []
    if os.environ.get(ENV_VAR):
        folders.append(Path(os.environ[ENV_VAR]))
    folders.append(user_data_dir() / "mnist")
    return folders


def _missing_message(looked_in: list[Path], reason: str) -> str:
    return (
        f"MNIST was not found ({reason}). It needs the four files {', '.join(ALL_FILES)}. "
        f"Looked in: {', '.join(str(f) for f in looked_in)}. Put the files in one of these folders, "
        f"or set the environment variable {ENV_VAR} to the folder that holds them."
    )


def download_mnist(target: Path | None = None, progress: Callable[[int, int], None] = lambda done, total: None,
                   looked_in: list[Path] | None = None) -> Path:
    """Download the four files with torchvision (md5-checked) into the per-user folder; return the folder.

    ``progress(files_done, 4)`` is called before each file and at the end. Failure raises DataNotFoundError
    naming the files, ``looked_in`` and the environment variable.
    """
    from torchvision.datasets import MNIST  # imported here: torchvision costs ~1 s and is rarely needed
    from torchvision.datasets.utils import download_url

    target = target or user_data_dir() / "mnist"
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target) as tmp:  # no half-downloaded file is left in target
            for done, (name, md5) in enumerate(MNIST.resources):
                progress(done, len(MNIST.resources))
                errors = []
                for mirror in MNIST.mirrors:
                    try:
                        download_url(mirror + name, tmp, name, md5)
                        break
                    except (RuntimeError, OSError) as e:
                        errors.append(f"{mirror}: {e}")
                else:
                    raise OSError(f"{name}: {'; '.join(errors)}")
            for name, _ in MNIST.resources:
                shutil.move(str(Path(tmp) / name), target / name)
    except OSError as e:
        raise DataNotFoundError(_missing_message(looked_in or [target], f"the download failed: {e}")) from e
    progress(len(MNIST.resources), len(MNIST.resources))
    return target


def find_mnist(data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The first folder that holds all four files, downloading them if none does."""
    folders = _candidate_folders(data_dir)
    for folder in folders:
        if _has_all(folder):
            return folder
    if not download:
        raise DataNotFoundError(_missing_message(folders, "downloading was not allowed"))
    log.info("MNIST not found locally; downloading it with torchvision")
    return download_mnist(looked_in=folders)


@lru_cache(maxsize=4)
def _load_split(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    images_name, labels_name, count = FILES[split]
    try:
        images = read_idx(_find(folder, images_name), IMAGES_MAGIC, count)
        labels = read_idx(_find(folder, labels_name), LABELS_MAGIC, count)
    except IdxError as e:
        raise DataNotFoundError(
            f"MNIST in {folder} is damaged: {e}. Replace the four files {', '.join(ALL_FILES)} "
            f"(or point {ENV_VAR} at a folder with good copies)."
        ) from e
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def load_mnist(split: str, data_dir: str | os.PathLike | None = None,
               download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images uint8 [N, 28, 28], labels int64 [N])`` for split ``"train"`` or ``"test"``."""
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return _load_split(find_mnist(data_dir, download).resolve(), split)
