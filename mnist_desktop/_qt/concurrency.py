"""Run a plain function off the GUI thread and get its result back on the GUI thread as a signal.

A running task is kept alive by this module, not by a parent (superqt's idea): closing a window while its
task still runs must not delete the task under the thread that is emitting from it. The receivers' own
connections end when they are deleted, so a late result simply goes nowhere.
"""
from __future__ import annotations

import logging
import traceback
from functools import lru_cache
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from trainer.errors import MnistDesktopError

log = logging.getLogger(__name__)


class Task(QObject):
    """``done(result)`` or ``failed(message)``, delivered on the thread of ``owner`` (or of the creator);
    with ``failed`` comes ``errored(exception)`` for a receiver that must tell errors apart.

    Connect the signals, then ``start()``. The function may call ``task.report(done, total)``, which
    arrives as ``progress`` on that thread.
    """

    done = Signal(object)
    failed = Signal(str)
    errored = Signal(object)  # the exception itself
    progress = Signal(int, int)
    ended = Signal(object)  # this task, after done or failed: its keeper lets it go

    def __init__(self, func: Callable[[], Any], owner: QObject | None = None):
        super().__init__()  # no parent: the keeper, not the owner, decides when the task goes
        if owner is not None:
            self.moveToThread(QObject.thread(owner))  # unbound: an owner may name an attribute 'thread'
        self._func = func
        self.report = self.progress.emit

    def start(self) -> None:
        _keeper().hold(self)
        QThreadPool.globalInstance().start(QRunnable.create(self._run))

    def _run(self) -> None:
        try:
            result = self._func()
        except MnistDesktopError as e:
            self.failed.emit(str(e))
            self.errored.emit(e)
        except Exception as e:  # a bug: keep the window alive and say what happened
            log.error("background task failed:\n%s", traceback.format_exc())
            self.failed.emit(f"Unexpected error: {type(e).__name__}: {e}")
            self.errored.emit(e)
        else:
            self.done.emit(result)
        self.ended.emit(self)


class _Keeper(QObject):
    """Holds every started task until it has ended; lives on the GUI thread, so tasks are freed there."""

    def __init__(self):
        super().__init__()
        self.running: set[Task] = set()

    def hold(self, task: Task) -> None:
        self.running.add(task)
        task.ended.connect(self.release)

    @Slot(object)
    def release(self, task: Task) -> None:
        self.running.discard(task)


@lru_cache(maxsize=1)
def _keeper() -> _Keeper:
    """The one keeper, made on first use: by then the application and its GUI thread exist."""
    return _Keeper()


def run_in_background(func: Callable[[], Any], on_done: Callable[[Any], None],
                      on_failed: Callable[[str], None], parent: QObject,
                      on_error: Callable[[BaseException], None] | None = None) -> Task:
    """Run ``func`` on the thread pool. Pass bound methods of GUI-thread QObjects as callbacks: Qt then
    queues the call to the GUI thread (a plain function would run on the worker thread). ``parent`` says
    on which thread the results arrive; it does not own the task. ``on_error`` gets the exception after
    ``on_failed`` got its message."""
    task = Task(func, parent)
    task.done.connect(on_done)
    task.failed.connect(on_failed)
    if on_error is not None:
        task.errored.connect(on_error)
    task.start()
    return task
