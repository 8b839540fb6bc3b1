"""Every model's answer at a glance: one cell per model (the seven and the model made for drawings) with its
digit and confidence, the one in view marked; a click on a cell puts that model in view."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from trainer.iterations import DRAWINGS, MODELS, model_title

from ...core.verdict import Verdict
from .panels import UNSURE_COLOR, digit_label, rejected

IN_VIEW_STYLE = "QFrame#answer { border: 2px solid #2a7de1; border-radius: 6px; background: rgba(42, 125, 225, 30); }"
OTHER_STYLE = "QFrame#answer { border: 1px solid palette(mid); border-radius: 6px; }"


class AnswerCell(QFrame):
    clicked = Signal()

    def __init__(self, number: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("answer")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # eight equal cells
        self.title = QLabel(str(number))  # 8: the model made for drawings, as in the Iteration menu (Ctrl+8)
        self.digit = digit_label(20)
        self.confidence = QLabel("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(0)
        for label in (self.title, self.digit, self.confidence):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        self.setToolTip(f"{model_title(number)}: click to show it")
        self.setStyleSheet(OTHER_STYLE)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()

    def show_answer(self, probabilities: np.ndarray | None, verdict: Verdict | None, in_view: bool) -> None:
        """A ``verdict`` of "not a digit" shows "?" and the best guess."""
        self.setStyleSheet(IN_VIEW_STYLE if in_view else OTHER_STYLE)
        if probabilities is None:
            self.digit.setText("–")
            self.digit.setStyleSheet("")
            self.confidence.setText("")
            return
        top = int(np.argmax(probabilities))
        confidence = f"{probabilities[top] * 100:.0f}%"
        if rejected(verdict):
            self.digit.setText("?")
            self.digit.setStyleSheet(f"color: {UNSURE_COLOR}")
            self.confidence.setText(f"{top}? {confidence}")
        else:
            self.digit.setText(str(top))
            self.digit.setStyleSheet("")
            self.confidence.setText(confidence)


class AnswerStrip(QGroupBox):
    """``iterationClicked(number)``: the person clicked that model's cell."""

    iterationClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(f"Every model's answer ({DRAWINGS.number}: made for drawings); click one to show it", parent)
        self.cells = {n: AnswerCell(n) for n in MODELS}
        layout = QHBoxLayout(self)
        layout.setSpacing(4)
        for number, cell in self.cells.items():
            cell.clicked.connect(lambda n=number: self.iterationClicked.emit(n))
            layout.addWidget(cell)

    def show_answers(self, probabilities: dict[int, np.ndarray], verdicts: dict[int, Verdict],
                     in_view: int, verdict: Verdict | None) -> None:
        """``verdicts``: each model's own; ``verdict``: the drawing's, as the panel above says it. Whether the
        drawing is a digit is judged once (the gate and the seven together), so when that says "not a digit"
        every cell shows its answer as a guess, never as a digit the panel above denies."""
        for number, cell in self.cells.items():
            own = verdict if rejected(verdict) else verdicts.get(number)
            cell.show_answer(probabilities.get(number), own, number == in_view)
