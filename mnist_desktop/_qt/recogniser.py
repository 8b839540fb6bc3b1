"""Recognition off the GUI thread, latest wins.

Rendering a drawing and running seven models takes a few milliseconds, and many more when a training run
shares the CPU; done on the GUI thread it delayed the mouse moves that come in meanwhile, and the canvas lost
points of the stroke. Here one thread of its own recognises one drawing at a time; a drawing asked for while
it works replaces any that still waits, so the answer always catches up with the latest drawing and never
falls behind it.
"""
from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..core.recognition import drawing_input, recognise_one

if TYPE_CHECKING:
    from ..core.drawing import Drawing
    from ..core.predictor import Predictor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    number: int  # counts up: a larger number is a later drawing
    drawing: Drawing  # immutable: the canvas's state when it was asked for
    headline: int  # the iteration in view
    predictor: Predictor | None


class Recogniser(QObject):
    """``ask(request)`` from the GUI thread; ``recognised(request, Recognition)`` or ``failed(request,
    message)`` arrive back on it (queued, since they are emitted on the recognition thread)."""

    recognised = Signal(object, object)
    failed = Signal(object, str)

    def __init__(self):
        super().__init__()  # no parent: the thread keeps this object alive until its last emit, whatever closes
        self._wake = threading.Condition()
        self._waiting: Request | None = None
        self._closed = False
        # A daemon: a recognition still running when the window closes never holds the process.
        self._thread = threading.Thread(target=self._serve, name="recognition", daemon=True)
        self._thread.start()

    def ask(self, request: Request) -> None:
        with self._wake:
            self._waiting = request  # replaces an older drawing that has not started
            self._wake.notify()

    def _next(self) -> Request | None:
        with self._wake:
            while self._waiting is None and not self._closed:
                self._wake.wait()
            request, self._waiting = self._waiting, None
            return None if self._closed else request

    def _serve(self) -> None:
        threads_set = False
        while (request := self._next()) is not None:
            try:
                if request.predictor is not None and not threads_set:  # torch has loaded with the models
                    import torch

                    from ..core.threads import RECOGNITION_THREADS

                    torch.set_num_threads(RECOGNITION_THREADS)
                    threads_set = True
                result = recognise_one(request.predictor, drawing_input(request.drawing), request.headline)
            except Exception as e:  # a bug must not end recognition for the rest of the session
                log.error("recognition failed:\n%s", traceback.format_exc())
                self.failed.emit(request, f"Recognition failed with an unexpected error: {type(e).__name__}: {e}")
            else:
                self.recognised.emit(request, result)

    def shutdown(self, timeout_s: float) -> bool:
        """Stop after the drawing in hand; True when the thread ended within ``timeout_s``."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()
