"""The window's recognition cycle: the drawing as it changes -> (throttled) the recogniser, off the GUI
thread -> the answer in hand. The canvas's changes arrive at most ``PREDICTIONS_PER_SECOND`` times a second,
the end of a stroke at once; the answer kept is the latest one, and a failure leaves none rather than the
previous drawing's."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from .recogniser import Recogniser
from .throttle import Throttle

if TYPE_CHECKING:
    from ..core.predictor import Predictor
    from ..core.recognition import Recognition
    from ..core.strokes import Drawing

PREDICTIONS_PER_SECOND = 30


class RecognitionCycle(QObject):
    """``changed()`` and ``flush()`` from the canvas, ``ask()`` when the models or the headline change;
    ``answered`` once ``recognition``, ``image`` and ``probabilities`` hold the new answer (or none: ``failed``
    follows with the sentence)."""

    answered = Signal()
    failed = Signal(str)

    def __init__(self, drawing: Callable[[], Drawing], headline: Callable[[], int],
                 predictor: Callable[[], Predictor | None], parent: QObject | None = None):
        super().__init__(parent)
        self._drawing, self._headline, self._predictor = drawing, headline, predictor
        self.recognition: Recognition | None = None  # the last answer: probabilities and verdicts
        self.image: np.ndarray | None = None  # the drawing preprocessed like MNIST, or None
        self.probabilities: dict[int, np.ndarray] = {}
        self._recogniser = Recogniser(self)
        self._recogniser.recognised.connect(self._on_recognised)
        self._recogniser.failed.connect(self._on_failed)
        self._throttle = Throttle(self.ask, 1000 // PREDICTIONS_PER_SECOND, self)

    def changed(self) -> None:
        """The drawing changed: recognise it now, or with the latest drawing at the interval's end."""
        self._throttle()

    def flush(self) -> None:
        """A stroke ended: recognise the drawing now rather than at the interval's end."""
        self._throttle.flush()

    def ask(self) -> None:
        """Recognise the drawing the way ``mnist-desktop predict`` does (core/recognition.py): render what the
        models see from the strokes, run every available iteration, judge whether it is a digit at all."""
        self._recogniser.ask(self._drawing(), self._headline(), self._predictor())

    @property
    def settled(self) -> bool:
        """The answer in hand is for the drawing as it is now: nothing waits in the throttle or the recogniser."""
        return not self._throttle.pending and self._recogniser.settled

    def cancel(self) -> None:
        """Nothing more is asked or arrives (the window is closing)."""
        self._throttle.cancel()
        self._recogniser.cancel()

    def _on_recognised(self, recognition: Recognition) -> None:
        self.recognition, self.image, self.probabilities = recognition, recognition.image, recognition.probabilities
        self.answered.emit()

    def _on_failed(self, message: str) -> None:
        self.recognition, self.image, self.probabilities = None, None, {}
        self.answered.emit()
        self.failed.emit(message)
