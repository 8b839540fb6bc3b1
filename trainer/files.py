"""Every file the project writes goes through ``write_atomic``; every small file it reads, through ``read_bounded``.

Writing: the content goes to a temporary file in the target's own folder (``.<name>.<8 random>.tmp``), which is
flushed, fsynced and moved over the target with ``os.replace``; then the folder is fsynced, so the new name
survives a power cut. A crash or kill at any point leaves the old file or the new one, never half of one. Any
failure — an OSError (full disk, read-only folder, size limit), torch's RuntimeError from ``torch.save`` on a
full disk ("[enforce fail at inline_container.cc] ... unexpected pos") — removes the temporary file and
becomes WriteError: one sentence naming the path and the reason; callers add where the work was kept instead.
Temporary files that killed saves left behind are removed by ``remove_stale_temps`` (only this pattern, only
files older than STALE_AFTER_S, so a save in progress in another process is never touched).

Reading: ``read_bounded`` opens only regular files (a pipe or ``/dev/zero`` would block or never end) and
never reads more than its limit.
"""
from __future__ import annotations

import errno
import json
import logging
import math
import os
import re
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Callable

from .errors import ConfigError, UnreadableFileError, WriteError

log = logging.getLogger(__name__)

STALE_AFTER_S = 3600  # a temporary file older than this belongs to a save that was killed
TEMP_PATTERN = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # what tempfile.mkstemp makes with our prefix/suffix
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once, at import: os.umask can only be read by setting it
FILE_MODE = 0o666 & ~_UMASK  # what open() would have created; mkstemp makes 0600

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file would exceed the size this process may write",
    errno.EROFS: "the folder is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.ENOENT: "its folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "it is a folder",
}


def reason(error: BaseException) -> str:
    """A failure to write, as a clause for a sentence ("the disk is full"). torch.save's RuntimeError carries
    the OSError of the write that failed as its context: that one says why."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, OSError):
        return _REASONS.get(cause.errno, cause.strerror or str(cause) or type(cause).__name__)
    if isinstance(error, RuntimeError) and ("unexpected pos" in str(error) or "inline_container" in str(error)):
        return "writing stopped part-way, as it does when the disk is full or a size limit is reached"
    return f"{type(error).__name__}: {error}"[:200]


def write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(f)`` on a binary file that becomes ``path`` only when everything was written and synced.

    WriteError (a MnistDesktopError) on any failure to write; ``path`` then still holds what it held before.
    Exceptions that are not about writing (a bug in ``write``, KeyboardInterrupt) propagate unchanged, and the
    temporary file is removed in every case.
    """
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise WriteError(path, "it names a folder, not a file")
    tmp = None
    try:
        remove_stale_temps(path.parent, path.name)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
        tmp = None
        _sync_folder(path.parent)
    except (OSError, RuntimeError) as e:
        raise WriteError(path, reason(e)) from e
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path


def check_save_path(path: str | os.PathLike) -> Path:
    """``path`` if write_atomic may write there: a new name or an existing regular file, in an existing folder
    this process can write to (os.access sees a read-only file system even for root). Anything else (a pipe,
    device, symbolic link, folder) is refused with ConfigError before any work is done, so finished work is
    never lost to a bad path."""
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
                          "file.")
    if not path.parent.is_dir():
        raise ConfigError(f"The output path {path} is in a folder that does not exist; create {path.parent} "
                          "first or choose another path.")
    if not os.access(path.parent, os.W_OK | os.X_OK) or (mode is not None and not os.access(path, os.W_OK)):
        raise ConfigError(f"The output path {path} cannot be written to; choose a path in a folder you can "
                          "write to.")
    return path


def make_folder(folder: str | os.PathLike) -> Path:
    """``folder`` and its parents, created if missing, or WriteError saying why it cannot be."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(folder, reason(e)) from e
    return folder


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return write_atomic(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def json_text(value: Any, indent: int | None = None) -> str:
    """Strict JSON: JSON has no NaN or Infinity (Python's json writes them as bare words other readers refuse),
    so a number that is not finite is written as null."""
    def finite(v: Any) -> Any:
        if isinstance(v, float):
            return v if math.isfinite(v) else None
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [finite(x) for x in v]
        return v

    return json.dumps(finite(value), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike, value: Any, indent: int | None = 1) -> Path:
    """``json_text`` and a newline, written atomically."""
    return write_text(path, json_text(value, indent) + "\n")


def _sync_folder(folder: Path) -> None:
    """fsync the folder so the rename itself is on disk (not possible, nor needed, on Windows)."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove the temporary files of killed saves in ``folder`` (of the file ``name`` only, when given): regular
    files of write_atomic's pattern not modified for STALE_AFTER_S. Returns what was removed; never raises."""
    prefix = "." if name is None else f".{name}."
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not (entry.name.startswith(prefix) and TEMP_PATTERN.match(entry.name)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > STALE_AFTER_S:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    if removed:
        log.info("removed %d temporary file(s) of interrupted saves in %s", len(removed), folder)
    return removed


def read_bounded(path: str | os.PathLike, limit: int, what: str = "The file") -> bytes:
    """The whole of a regular file of at most ``limit`` bytes, or UnreadableFileError saying why not: missing,
    not a regular file (never opened), larger than ``limit``, or unreadable."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe, socket or device)"
            raise UnreadableFileError(f"{what} {path} is {kind}, so it was not read.")
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError as e:
        raise UnreadableFileError(f"{what} {path} does not exist.") from e
    except OSError as e:
        raise UnreadableFileError(f"{what} {path} cannot be read ({reason(e)}).") from e
    if len(data) > limit:
        raise UnreadableFileError(f"{what} {path} is larger than {limit:,} bytes, far more than it should hold, "
                                  "so it was not read.")
    return data
