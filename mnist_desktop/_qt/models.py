"""The seven models for the window: loaded, reloaded after training or a revert, and timed, all off the GUI
thread."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trainer.iterations import DRAWINGS

from ..core.threads import Threads
from .concurrency import run_job

if TYPE_CHECKING:
    from ..core.predictor import Predictor


def load_predictor() -> Predictor:
    """Read the seven checkpoints, the model made for drawings and the verdict's files."""
    from ..core.predictor import Predictor

    predictor = Predictor()
    predictor.load_all()
    predictor.load(DRAWINGS.number)
    return predictor


class Models(QObject):
    loaded = Signal(object)  # the Predictor
    reloaded = Signal(int)  # an iteration's new weights are loaded and timed
    timed = Signal()  # every model's latency is measured
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.predictor: Predictor | None = None
        self._reload_lock = threading.Lock()  # reloads run one at a time, in order

    def load(self) -> None:
        run_job(load_predictor, self._on_loaded, self.failed.emit, self, Threads.ONE_IMAGE)

    def _on_loaded(self, predictor: Predictor) -> None:
        self.predictor = predictor
        self.loaded.emit(predictor)

    def time_all(self) -> None:
        """The latency of one image through each model, as recognition runs it (one thread)."""
        run_job(self.predictor.measure_latency, lambda _: self.timed.emit(), self.failed.emit, self,
                Threads.ONE_IMAGE)

    def reload(self, iteration: int) -> None:
        """Re-read the weights ``iteration`` uses and time it; ``reloaded`` follows."""
        predictor = self.predictor
        if predictor is None:
            return

        def reload() -> int:
            with self._reload_lock:  # the last reload asked for reads the store last
                predictor.load(iteration)
                predictor.measure_latency([iteration])
            return iteration

        run_job(reload, self.reloaded.emit, self.failed.emit, self, Threads.ONE_IMAGE)
