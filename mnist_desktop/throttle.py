"""Fold bursts of calls into one trailing call (the shape of qutebrowser's misc/throttle.py)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer


class Throttle(QObject):
    """``throttle()`` runs ``func`` at most once per ``interval_ms``; the last call of a burst always runs."""

    def __init__(self, func: Callable[[], None], interval_ms: int, parent: QObject | None = None):
        super().__init__(parent)
        self._func = func
        self._timer = QTimer(self, singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(self._func)

    def __call__(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Run now, dropping any pending call."""
        self._timer.stop()
        self._func()
