"""MNIST as uint8 tensors, read straight from the original IDX files.

Where the files come from, in order: an explicit folder (which must exist), ``$MNIST_DATA_DIR``, the per-user
data folder. Nothing is downloaded unless asked (``download=True``, ``mnist-train download``, the app's
Download button); then torchvision's mirrors (md5-checked) fill the per-user folder.

Files are read defensively: the header is checked before the body, and a gzipped file is decompressed as a
stream capped at the size its header announces, so a truncated header or a gzip bomb costs nothing.
"""
from __future__ import annotations

import gzip
import logging
import os
import shutil
import socket
import struct
import tempfile
import zlib
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from .errors import DataNotFoundError
from .iterations import MNIST_SIDE, MNIST_TRAIN_IMAGES
from .paths import user_data_dir

log = logging.getLogger(__name__)

ENV_VAR = "MNIST_DATA_DIR"
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", MNIST_TRAIN_IMAGES),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
ALL_FILES = [name + ".gz" for images, labels, _ in FILES.values() for name in (images, labels)]
IMAGES_MAGIC, LABELS_MAGIC = 0x803, 0x801


class IdxError(ValueError):
    """A file is not the IDX file it should be."""


def read_idx(path: Path, magic: int, count: int) -> np.ndarray:
    """Read an IDX file (gzipped or not) of ``count`` items, checking its magic number, shape and length.

    The body is read only after the header matched, and never more of it than the header announces (+1 byte
    to notice extra data): memory stays at the file's real size whatever the file holds.
    """
    ndim = magic & 0xFF
    expected_shape = (count, MNIST_SIDE, MNIST_SIDE)[:ndim]
    expected_bytes = int(np.prod(expected_shape))
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            head = f.read(4 + 4 * ndim)
            if len(head) < 4 or struct.unpack(">I", head[:4])[0] != magic:
                raise IdxError(f"{path} is not an IDX file of the expected kind (wrong magic number)")
            if len(head) < 4 + 4 * ndim:
                raise IdxError(f"{path} is truncated: its header is {len(head)} bytes, not {4 + 4 * ndim}")
            shape = struct.unpack(f">{ndim}I", head[4:])
            if shape != expected_shape:
                raise IdxError(f"{path} holds shape {shape}, expected {expected_shape}")
            # gzip decompresses in chunks as it is read, so a bomb stops here at expected_bytes + 1.
            body = f.read(expected_bytes + 1)
    except (OSError, EOFError, zlib.error) as e:  # what truncated or non-gzip files raise
        raise IdxError(f"{path} cannot be read ({e})") from e
    if len(body) > expected_bytes:
        raise IdxError(f"{path} holds more data than its header announces ({expected_bytes} bytes for shape {shape})")
    if len(body) < expected_bytes:
        raise IdxError(f"{path} is truncated: {len(body)} bytes of data for shape {shape}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def has_all_files(folder: Path) -> bool:
    return all(_find(folder, name.removesuffix(".gz")) for name in ALL_FILES)


def _candidate_folders(data_dir: str | os.PathLike | None) -> list[Path]:
    """Where MNIST is looked for: a named folder alone (never replaced by another), else $MNIST_DATA_DIR and
    the per-user folder."""
    if data_dir:
        return [Path(data_dir)]
    folders = []
    if os.environ.get(ENV_VAR):
        folders.append(Path(os.environ[ENV_VAR]))
    folders.append(default_download_dir())
    return folders


def default_download_dir() -> Path:
    return user_data_dir() / "mnist"


def _missing_message(looked_in: list[Path]) -> str:
    return (
        f"MNIST was not found. It needs the four files {', '.join(ALL_FILES)}. "
        f"Looked in: {', '.join(str(f) for f in looked_in)}. Put the files in one of these folders, "
        f"set the environment variable {ENV_VAR} to the folder that holds them, "
        f"or download them (mnist-train download, or Download in the app)."
    )


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """torchvision's download opens its URLs without a timeout: give every socket opened meanwhile one."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def download_mnist(target: Path | None = None, progress: Callable[[int, int], None] = lambda done, total: None,
                   cancelled: Callable[[], bool] = lambda: False, timeout_s: float = 30.0) -> Path:
    """Download the four files with torchvision (md5-checked) into ``target`` (default: the per-user folder).

    ``progress(files_done, 4)`` is called before each file and at the end; ``cancelled()`` is asked before
    each file. Files arrive in a temporary folder and move into ``target`` only when all four are there.
    Failure or cancellation raises DataNotFoundError with one sentence; the underlying errors are its cause.
    """
    from torchvision.datasets import MNIST  # imported here: torchvision costs ~1 s and is rarely needed
    from torchvision.datasets.utils import download_url

    target = Path(target) if target else default_download_dir()
    total = len(MNIST.resources)
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target) as tmp, _socket_timeout(timeout_s):
            for done, (name, md5) in enumerate(MNIST.resources):
                if cancelled():
                    raise DataNotFoundError(f"The MNIST download was cancelled; nothing was kept in {target}.")
                progress(done, total)
                errors = []
                for mirror in MNIST.mirrors:
                    try:
                        download_url(mirror + name, tmp, name, md5)
                        break
                    except (RuntimeError, OSError) as e:  # URLError, timeouts and md5 mismatches
                        errors.append(f"{mirror}: {e}")
                else:
                    raise DataNotFoundError(
                        f"Downloading MNIST failed at {name} ({errors[-1]}); check the internet connection and "
                        f"try again, or put the four files in a folder and choose it."
                    ) from OSError("; ".join(errors))
            for name, _ in MNIST.resources:
                shutil.move(str(Path(tmp) / name), target / name)
    except OSError as e:  # the target cannot be created or written
        raise DataNotFoundError(f"MNIST cannot be saved in {target} ({e.strerror or e}); choose a folder you can "
                                "write to.") from e
    progress(total, total)
    return target


def find_mnist(data_dir: str | os.PathLike | None = None, download: bool = False) -> Path:
    """The first folder that holds all four files; downloading them only when ``download`` is True.

    A ``data_dir`` that someone named must hold the files: it is never silently replaced by another folder.
    """
    if data_dir:
        if not Path(data_dir).is_dir():
            raise DataNotFoundError(f"The MNIST folder {data_dir} does not exist; choose the folder that holds the "
                                    f"four MNIST files, or name none to use ${ENV_VAR} or the per-user folder.")
        if not has_all_files(Path(data_dir)):
            missing = [name for name in ALL_FILES if not _find(Path(data_dir), name.removesuffix(".gz"))]
            raise DataNotFoundError(f"The MNIST folder {data_dir} lacks {', '.join(missing)}; put the four files "
                                    f"there (mnist-train download --data-dir {data_dir} fetches them), or name no "
                                    f"folder to use ${ENV_VAR} or the per-user folder.")
        return Path(data_dir)
    folders = _candidate_folders(None)
    for folder in folders:
        if has_all_files(folder):
            return folder
    if not download:
        raise DataNotFoundError(_missing_message(folders))
    log.info("MNIST not found locally; downloading it with torchvision")
    return download_mnist()


@lru_cache(maxsize=4)
def _load_split(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    images_name, labels_name, count = FILES[split]
    labels_path = _find(folder, labels_name)
    try:
        images = read_idx(_find(folder, images_name), IMAGES_MAGIC, count)
        labels = read_idx(labels_path, LABELS_MAGIC, count)
        if labels.max() > 9:  # found now, not after a whole epoch of training
            raise IdxError(f"{labels_path} holds the label {labels.max()}, but MNIST labels are the digits 0-9")
    except IdxError as e:
        raise DataNotFoundError(
            f"MNIST in {folder} is damaged: {e}. Replace the four files {', '.join(ALL_FILES)} "
            f"(or point {ENV_VAR} at a folder with good copies)."
        ) from e
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def load_mnist(split: str, data_dir: str | os.PathLike | None = None,
               download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images uint8 [N, 28, 28], labels int64 [N])`` for split ``"train"`` or ``"test"``."""
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return _load_split(find_mnist(data_dir, download).resolve(), split)
