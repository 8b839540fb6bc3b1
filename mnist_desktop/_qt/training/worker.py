"""Drives the trainer's event generator on a QThread and re-emits its events as Qt signals.

The worker never touches a widget and decides nothing: it emits each plain event object together with the
request it belongs to, and Qt queues them to the GUI thread. Every request carries its own stop flag, made
when the run is asked for, so a Stop can never be erased by the start of the run (or of the next one).
"""
from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from trainer.errors import DataNotFoundError, MnistDesktopError

if TYPE_CHECKING:
    from trainer.training import TrainConfig

log = logging.getLogger(__name__)


@dataclass(eq=False)  # compared by identity: two runs with the same settings are still two runs
class RunRequest:
    config: TrainConfig
    stop: threading.Event = field(default_factory=threading.Event)


class TrainingWorker(QObject):
    started = Signal(object)  # the RunRequest, as the worker picks it up
    event = Signal(object, object)  # the RunRequest, a trainer event (BatchProgress, EpochEnd, Finished, Stopped)
    failed = Signal(object, str, bool)  # the RunRequest, the message, whether MNIST was missing

    @Slot(object)
    def run(self, request: RunRequest) -> None:
        import torch

        from trainer.training import train

        from ...core.threads import TRAINING_THREADS

        torch.set_num_threads(TRAINING_THREADS)  # one core is left to the window (core/threads.py)
        self.started.emit(request)
        try:
            for event in train(request.config, request.stop.is_set):
                self.event.emit(request, event)
        except DataNotFoundError as e:
            self.failed.emit(request, str(e), True)
        except MnistDesktopError as e:
            self.failed.emit(request, str(e), False)
        except Exception as e:  # a bug in training must not take the window down
            log.error("training failed:\n%s", traceback.format_exc())
            self.failed.emit(request, f"Training failed with an unexpected error: {type(e).__name__}: {e}", False)


class TrainingThread(QObject):
    """Owns the worker's QThread: queue runs and join cleanly."""

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
        """Join the thread (stop the run first); True when it ended in time. A thread still inside a batch or
        an evaluation is let go: it ends at its next stop check, and Qt must never destroy it while it runs."""
        self.thread.quit()
        if self.thread.wait(timeout_ms):
            return True
        self.thread.setParent(None)
        _LET_GO.append((self.thread, self.worker))
        return False


_LET_GO: list[tuple[QThread, TrainingWorker]] = []  # threads whose join timed out, kept until the process ends
