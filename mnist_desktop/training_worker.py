"""Drives the trainer's event generator on a QThread and re-emits its events as Qt signals.

The worker never touches a widget: it emits plain event objects, which Qt queues to the GUI thread.
"""
from __future__ import annotations

import logging
import threading
import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from trainer.errors import DataNotFoundError, MnistDesktopError

log = logging.getLogger(__name__)


class TrainingWorker(QObject):
    batch = Signal(object)  # trainer.BatchProgress
    epoch = Signal(object)  # trainer.EpochEnd
    finished = Signal(object, str)  # the checkpoint dict, the path it was saved to
    stopped = Signal(object)  # trainer.Stopped
    failed = Signal(str, bool)  # the message, whether MNIST was missing

    def __init__(self):
        super().__init__()
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Thread-safe; the generator sees it before its next batch."""
        self._stop.set()

    @Slot(object)
    def run(self, config) -> None:
        from trainer.runs import RunStore
        from trainer.training import EpochEnd, Finished, Stopped, train

        self._stop.clear()
        try:
            for event in train(config, self._stop.is_set):
                if isinstance(event, Finished):
                    path = RunStore().save(event.checkpoint)  # atomic; the shipped weights are never touched
                    self.finished.emit(event.checkpoint, str(path))
                elif isinstance(event, Stopped):
                    self.stopped.emit(event)
                elif isinstance(event, EpochEnd):
                    self.epoch.emit(event)
                else:
                    self.batch.emit(event)
        except DataNotFoundError as e:
            self.failed.emit(str(e), True)
        except MnistDesktopError as e:
            self.failed.emit(str(e), False)
        except Exception as e:  # a bug in training must not take the window down
            log.error("training failed:\n%s", traceback.format_exc())
            self.failed.emit(f"Training failed with an unexpected error: {type(e).__name__}: {e}", False)


class TrainingThread(QObject):
    """Owns the worker's QThread: start runs, stop them, and join cleanly."""

    start_run = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.thread = QThread(self)
        self.thread.setObjectName("training")
        self.worker = TrainingWorker()
        self.worker.moveToThread(self.thread)
        self.start_run.connect(self.worker.run)
        self.thread.start()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop any run and join the thread; True when it ended in time."""
        self.worker.request_stop()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
