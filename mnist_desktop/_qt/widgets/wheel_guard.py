"""The wheel changes a spin box or list only once it has the keyboard focus; before that it scrolls the page."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget


class WheelGuard(QObject):
    """The wheel over a spin box or list that has no keyboard focus scrolls the panel instead of changing it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            event.ignore()  # handled here, but not accepted: Qt passes it on to the parents (the scroll area)
            return True
        return False


def guard_wheel(widgets: list[QWidget], guard: WheelGuard) -> None:
    for widget in widgets:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not WheelFocus: the wheel neither focuses nor edits
        widget.installEventFilter(guard)
