"""A notice bar: what the last action did, with an Undo button while that action can be undone."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget


def a_digit(digit: int) -> str:
    """The digit with its article, as it is read aloud: "a 7", "an 8"."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


class UndoBar(QWidget):
    undoClicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.undo_button = QPushButton("Undo")
        self.undo_button.clicked.connect(self.undoClicked)
        self.undo_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.undo_button)

    def say(self, text: str, undoable: str = "") -> None:
        """Show ``text``; with ``undoable`` (what Undo would do, for its tooltip) the Undo button too."""
        self.label.setText(text)
        self.undo_button.setVisible(bool(undoable))
        self.undo_button.setToolTip(f"{undoable} (Ctrl+Z)" if undoable else "")

    def text(self) -> str:
        return self.label.text()
