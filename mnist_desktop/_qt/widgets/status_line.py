"""The status bar, where each message stays only while it is true.

- The models' state ("Loading the models…", "8 models ready.", what is unavailable) shows whenever no message
  does, until the next state replaces it.
- What just happened ("Saved …", "Relabelled a 6 as an 8.", an error) shows for ``SAY_MS``, then the state again.
- What is said about the drawing on the canvas ("Kept as a 6 in Your drawings…", "Opened …") goes as soon as
  the drawing changes.
- What stays true until something else happens (a run's end and the weights it put in use, a file being
  opened) shows until the next message replaces it: whatever changes it says so.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar

SAY_MS = 10_000


class StatusLine(QObject):
    def __init__(self, bar: QStatusBar, drawing_changed: SignalInstance):
        super().__init__(bar)
        self.bar = bar
        self.state = QLabel()  # hidden by Qt while a message shows
        self.state.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        bar.addWidget(self.state, 1)
        self._about_drawing: str | None = None
        drawing_changed.connect(self._drawing_changed)

    def show_state(self, text: str) -> None:
        self.state.setText(text)
        self.state.setToolTip(text)

    def say(self, text: str) -> None:
        """Something just happened: said for a while."""
        self._show(text, SAY_MS)

    def say_until_replaced(self, text: str) -> None:
        self._show(text, 0)

    def say_about_drawing(self, text: str) -> None:
        """True of the drawing on the canvas: said until it changes."""
        self._show(text, 0)
        self._about_drawing = text

    def _show(self, text: str, timeout_ms: int) -> None:
        self._about_drawing = None
        self.bar.showMessage(text, timeout_ms)

    def _drawing_changed(self) -> None:
        if self._about_drawing is not None:
            if self.bar.currentMessage() == self._about_drawing:
                self.bar.clearMessage()
            self._about_drawing = None
