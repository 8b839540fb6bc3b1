"""Recognition off the GUI thread, latest wins.

Rendering a drawing and running seven models takes a few milliseconds, and many more when a training run
shares the CPU; done on the GUI thread it delayed the mouse moves that come in meanwhile, and the canvas lost
points of the stroke. Here one drawing is recognised at a time on the concurrency module's pool; a drawing
asked for meanwhile replaces any that still waits, and the answer in hand still arrives, so the answer
always catches up with the latest drawing and never falls behind it.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..core.recognition import Recognition, drawing_input, recognise_one
from ..core.threads import Threads
from .concurrency import Latest

if TYPE_CHECKING:
    from ..core.predictor import Predictor
    from ..core.strokes import Drawing

log = logging.getLogger(__name__)


class Recogniser(QObject):
    """``ask(...)`` on the GUI thread; ``recognised(Recognition)`` or ``failed(message)`` come back on it."""

    recognised = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._jobs = Latest(self.failed.emit, cancel_running=False, parent=self)
        self._asked = 0  # counts up: a larger number is a later drawing
        self._answered = 0  # the number of the drawing whose answer (or failure) came last

    @property
    def settled(self) -> bool:
        """The latest drawing asked for is answered."""
        return self._answered == self._asked

    def ask(self, drawing: Drawing, headline: int, predictor: Predictor | None) -> None:
        """Recognise ``drawing`` (immutable: the canvas's state now) with ``headline``, the iteration in view."""
        self._asked += 1
        number = self._asked
        self._jobs.request(lambda: recognise_one(predictor, drawing_input(drawing), headline),
                           lambda result: self._answer(number, result), lambda error: self._fail(number, error),
                           None if predictor is None else Threads.ONE_IMAGE)

    def cancel(self) -> None:
        """Nothing more arrives (the window is closing)."""
        self._jobs.cancel()

    def _answer(self, number: int, recognition: Recognition) -> None:
        self._answered = number  # one job at a time: answers come in order
        self.recognised.emit(recognition)

    def _fail(self, number: int, error: BaseException) -> None:
        """A bug must not end recognition for the rest of the session: no answer for this drawing."""
        self._answered = number
        self.failed.emit(f"Recognition failed with an unexpected error: {type(error).__name__}: {error}")
