"""A drop-down of the seven iterations (and, where it is offered, the model made for drawings) whose entries
carry the model's number: no caller maps rows to numbers."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from trainer.iterations import DEFAULT_ITERATION, ITERATIONS, Iteration, model_title


class IterationPicker(QComboBox):
    iterationChanged = Signal(int)  # the number of the iteration now chosen

    def __init__(self, parent: QWidget | None = None, models: dict[int, Iteration] = ITERATIONS):
        super().__init__(parent)
        for number in models:
            self.addItem(model_title(number), number)
        self.set_number(DEFAULT_ITERATION)
        self.currentIndexChanged.connect(lambda _: self.iterationChanged.emit(self.number()))

    def number(self) -> int:
        return self.currentData()

    def set_number(self, number: int) -> None:
        """Choose iteration ``number``; emits ``iterationChanged`` when that changes the choice."""
        index = self.findData(number)
        if index < 0:
            raise ValueError(f"There is no iteration {number} in this list.")
        self.setCurrentIndex(index)
