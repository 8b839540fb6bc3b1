"""Run a function at most once per interval: at once when idle, then with the latest state at the end of
each interval (the shape of qutebrowser's misc/throttle.py)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer


class Throttle(QObject):
    """``throttle()`` runs ``func`` at once when idle (the leading edge: the first ink is predicted without
    waiting), and calls that arrive within ``interval_ms`` of a run fold into one run at the interval's end
    (the trailing edge), so the latest state is always the last one run."""

    def __init__(self, func: Callable[[], None], interval_ms: int, parent: QObject | None = None):
        super().__init__(parent)
        self._func = func
        self._pending = False
        self._timer = QTimer(self, singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(self._on_interval_end)

    def __call__(self) -> None:
        if self._timer.isActive():
            self._pending = True
        else:
            self._run()

    def _run(self) -> None:
        self._pending = False
        self._timer.start()  # a quiet interval follows every run
        self._func()

    def _on_interval_end(self) -> None:
        if self._pending:
            self._run()

    @property
    def pending(self) -> bool:
        """A call waits for the end of the interval."""
        return self._pending

    @property
    def idle(self) -> bool:
        """No run within the last interval: the next call runs at once."""
        return not self._timer.isActive()

    def flush(self) -> None:
        """Run now (the stroke ended), dropping any pending call."""
        self._run()

    def cancel(self) -> None:
        """Drop any pending call; the next call runs at once."""
        self._pending = False
        self._timer.stop()
