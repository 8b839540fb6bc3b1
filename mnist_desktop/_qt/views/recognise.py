"""The Recognise tab: the iteration in view, its card, and what it makes of the drawing."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from trainer.iterations import MODELS

from ...core.verdict import Verdict
from ..widgets.iteration_picker import IterationPicker
from ..widgets.panels import RecognitionPanel, card_html

if TYPE_CHECKING:
    from trainer.checkpoint import CheckpointInfo

UNSURE_BELOW = 0.6  # a top probability below this is shown as "unsure"


class RecogniseView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.picker = IterationPicker(models=MODELS)  # the seven and the model made for drawings
        self.card = QLabel()
        self.card.setWordWrap(True)
        self.card.setTextFormat(Qt.TextFormat.RichText)
        self.card.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.panel = RecognitionPanel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(self.card)
        layout.addWidget(self.panel)
        layout.addStretch(1)

    def show_card(self, iteration: int, measured: float | None, retrained: CheckpointInfo | None,
                  error: str | None) -> None:
        """``measured``: the shipped weights' test accuracy; ``retrained``: the run in use, if any."""
        self.card.setText(card_html(MODELS[iteration], measured, retrained, error))

    def show_result(self, image: np.ndarray | None, probabilities: np.ndarray | None, unavailable: str | None,
                    verdict: Verdict | None) -> None:
        self.panel.show_result(image, probabilities, UNSURE_BELOW, unavailable, verdict)
