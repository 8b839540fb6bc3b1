"""How many intra-op threads each kind of torch job uses, and the one rule every torch job keeps. Qt-free.

``torch.set_num_threads`` holds for the calling thread (and becomes the default of threads that have not
used torch yet), so a pool thread keeps whatever its last job set: every job sets its own count, through
``torch_job``, at its start.

One image through a small model gains nothing from a second intra-op thread, which mostly waits for the
first, and while a training run holds the other core each parallel op waits for a thread that is not
running: recognition, the maps, the latency column and loading the models (each checked on three probe
images) use one; with two threads on a busy machine, loading took several times as long. A training run in the
window leaves one core to drawing and recognising (``mnist-desktop bench`` prints the answer time after a stroke
during a run).
These networks gain little from a second thread anyway (``mnist-train bench`` prints two one-thread
processes against one two-thread process). Evaluating many images at once uses every core.

Importing ``torch._dynamo`` (the first optimizer does, once per process; 1-2 s) while another thread runs
torch ops failed with "operator _c10d_functional::... does not exist" or crashed the process. So the import
is exclusive: ``import_dynamo`` waits until no torch job runs, and torch jobs wait while it imports.
"""
from __future__ import annotations

import gc
import sys
import threading
from contextlib import contextmanager
from enum import Enum
from functools import lru_cache
from types import ModuleType
from typing import Iterator


_FIRST_IMPORT = threading.Lock()


def imported_torch() -> ModuleType:
    """torch, imported with the cycle collector paused the first time. The import makes a great many objects,
    all of which stay, so the collections they set off find nothing to free: pausing them takes a good part off
    the import, most of the time to the window's first answer (README, ``mnist-desktop bench --startup``).
    Always a real import, under a lock: while another thread imports torch, it is in ``sys.modules`` half made."""
    with _FIRST_IMPORT:
        pause = "torch" not in sys.modules and gc.isenabled()
        if pause:
            gc.disable()
        try:
            import torch
        finally:
            if pause:
                gc.enable()
    return torch


@lru_cache(maxsize=1)
def default_threads() -> int:
    """torch's own choice for this machine, read once, before the app changes it on any thread."""
    return imported_torch().get_num_threads()


class Threads(Enum):
    """The kinds of torch job; ``count()`` is the number of intra-op threads each uses."""

    ONE_IMAGE = "one image"  # recognition, the maps, loading and timing the models (a few images each)
    TRAINING = "training"  # leaves one core to drawing and recognising
    MANY_IMAGES = "many images"  # evaluation of the test set or of your drawings

    def count(self) -> int:
        if self is Threads.ONE_IMAGE:
            return 1
        if self is Threads.TRAINING:
            return max(1, default_threads() - 1)
        return default_threads()


class _SharedOrExclusive:
    """Many holders at once, or one exclusive holder. A waiting exclusive holder lets shared holders in
    meanwhile, so drawing goes on while the import waits for a gap between recognitions."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._shared = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._lock:
            self._lock.wait_for(lambda: not self._exclusive)
            self._shared += 1
        try:
            yield
        finally:
            with self._lock:
                self._shared -= 1
                self._lock.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            self._lock.wait_for(lambda: not self._exclusive and self._shared == 0)
            self._exclusive = True
        try:
            yield
        finally:
            with self._lock:
                self._exclusive = False
                self._lock.notify_all()


_TORCH = _SharedOrExclusive()


@contextmanager
def torch_job(kind: Threads) -> Iterator[None]:
    """Run a torch job: its thread count set on this thread, never beside the import of torch._dynamo. A
    training job imports it first (its optimizer needs it), waiting for the other torch jobs to end."""
    torch = imported_torch()
    default_threads()  # read before the first change
    if kind is Threads.TRAINING:
        import_dynamo()
    with _TORCH.shared():
        torch.set_num_threads(kind.count())
        yield


def import_dynamo() -> None:
    """Import torch._dynamo (through the trainer's first optimizer) while no torch job runs; at once after the
    first call. Not from inside a torch job: it would wait for itself."""
    import sys

    if "torch._dynamo" in sys.modules:
        return
    from trainer.training import warm_up

    with _TORCH.exclusive():
        warm_up()
