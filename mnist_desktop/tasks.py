"""Run a plain function off the GUI thread and get its result back on the GUI thread as a signal."""
from __future__ import annotations

import logging
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from trainer.errors import MnistDesktopError

log = logging.getLogger(__name__)


class Task(QObject):
    """``done(result)`` or ``failed(message)``, delivered on the thread that created the task; with
    ``failed`` comes ``errored(exception)`` for a receiver that must tell errors apart.

    Connect the signals, then ``start()``. The function may call ``task.report(done, total)``, which
    arrives as ``progress`` on the creating thread.
    """

    done = Signal(object)
    failed = Signal(str)
    errored = Signal(object)  # the exception itself
    progress = Signal(int, int)

    def __init__(self, func: Callable[[], Any], parent: QObject | None = None):
        super().__init__(parent)
        self._func = func
        self.report = self.progress.emit

    def start(self) -> None:
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


def run_in_background(func: Callable[[], Any], on_done: Callable[[Any], None],
                      on_failed: Callable[[str], None], parent: QObject,
                      on_error: Callable[[BaseException], None] | None = None) -> Task:
    """Run ``func`` on the thread pool. Pass bound methods of GUI-thread QObjects as callbacks: Qt then
    queues the call to the GUI thread (a plain function would run on the worker thread). ``on_error``
    gets the exception after ``on_failed`` got its message."""
    task = Task(func, parent)
    task.done.connect(on_done)
    task.failed.connect(on_failed)
    if on_error is not None:
        task.errored.connect(on_error)
    task.start()
    return task
