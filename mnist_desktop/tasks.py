"""Run a plain function off the GUI thread and get its result back on the GUI thread as a signal."""
from __future__ import annotations

import logging
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from trainer.errors import MnistDesktopError

log = logging.getLogger(__name__)


class Task(QObject):
    """``done(result)`` or ``failed(message)``, delivered on the thread that created the task.

    Connect the signals, then ``start()``. The function may call ``task.report(done, total)``, which
    arrives as ``progress`` on the creating thread.
    """

    done = Signal(object)
    failed = Signal(str)
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
        except Exception as e:  # a bug: keep the window alive and say what happened
            log.error("background task failed:\n%s", traceback.format_exc())
            self.failed.emit(f"Unexpected error: {type(e).__name__}: {e}")
        else:
            self.done.emit(result)


def run_in_background(func: Callable[[], Any], on_done: Callable[[Any], None],
                      on_failed: Callable[[str], None], parent: QObject) -> Task:
    """Run ``func`` on the thread pool. Pass bound methods of GUI-thread QObjects as callbacks: Qt then
    queues the call to the GUI thread (a plain function would run on the worker thread)."""
    task = Task(func, parent)
    task.done.connect(on_done)
    task.failed.connect(on_failed)
    task.start()
    return task
