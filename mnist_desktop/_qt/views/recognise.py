"""The Recognise tab: the iteration in view, its card, what it makes of the drawing, and every model's answer
in a strip, where a click puts another model in view."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from trainer.iterations import MODELS

from ...core.recognition import Recognition
from ..widgets.answer_strip import AnswerStrip
from ..widgets.iteration_picker import IterationPicker
from ..widgets.panels import RecognitionPanel, card_html

if TYPE_CHECKING:
    from trainer.checkpoint import CheckpointInfo

UNSURE_BELOW = 0.6  # a top probability below this is shown as "unsure"


class RecogniseView(QScrollArea):
    """Scrolls where the window is shorter than its content (1920×1080 at a scale factor of 2 offers 540 units),
    so that the window fits the screen."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.picker = IterationPicker(models=MODELS)  # the seven and the model made for drawings
        self.card = QLabel()
        self.card.setWordWrap(True)
        self.card.setTextFormat(Qt.TextFormat.RichText)
        self.card.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.panel = RecognitionPanel()
        self.strip = AnswerStrip()
        self.strip.iterationClicked.connect(self.picker.set_number)  # the window follows the picker
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.picker)
        layout.addWidget(self.card)
        layout.addWidget(self.panel)
        layout.addWidget(self.strip)
        layout.addStretch(1)
        self.setWidget(content)

    def show_card(self, iteration: int, measured: float | None, retrained: CheckpointInfo | None,
                  error: str | None) -> None:
        """``measured``: the shipped weights' test accuracy; ``retrained``: the run in use, if any."""
        self.card.setText(card_html(MODELS[iteration], measured, retrained, error))

    def show_result(self, image: np.ndarray | None, probabilities: dict[int, np.ndarray], unavailable: str | None,
                    recognition: Recognition | None) -> None:
        """``probabilities``: every available model's; the one in view is the picker's."""
        number = self.picker.number()
        verdict = recognition.verdict_for(number) if recognition else None
        verdicts = recognition.verdicts if recognition else {}
        self.panel.show_result(image, probabilities.get(number), UNSURE_BELOW, unavailable, verdict,
                               verdicts.get(number))
        self.strip.show_answers(probabilities, verdicts, number, verdict)
