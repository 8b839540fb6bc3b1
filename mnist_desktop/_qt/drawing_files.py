"""File > Open and Save for the canvas: an image opened (or dropped) is read off the GUI thread, then put on
the canvas; the drawing is saved as a PNG. What happened is said in the status bar; what went wrong in
the window's error message, and the window keeps working."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.preprocess import load_image
from .concurrency import Latest

if TYPE_CHECKING:
    from .widgets.canvas import DrawingCanvas
    from .widgets.status_line import StatusLine


class DrawingFiles(QObject):
    opened = Signal(str)  # an opened image file is on the canvas

    def __init__(self, canvas: DrawingCanvas, status_line: StatusLine, show_error: Callable[[str], None],
                 parent: QWidget):
        super().__init__(parent)
        self._canvas, self._status_line, self._show_error = canvas, status_line, show_error
        self._opening = Latest(show_error, parent=self)  # a file opened later replaces one still read

    def open_image(self, path: str) -> None:
        """Read the image in the background (a 40-megapixel photo takes a second or two to decode), then put
        it on the canvas; ``opened`` or a message follows."""
        self._status_line.say_until_replaced(f"Opening {path}…")
        self._opening.request(lambda: (path, load_image(path)), self._on_image_read)

    def _on_image_read(self, read: tuple[str, np.ndarray]) -> None:
        path, gray = read
        self._canvas.set_image(gray)
        self._status_line.say_about_drawing(f"Opened {path}")
        self.opened.emit(path)

    def save_drawing(self, path: str) -> bool:
        if not self._canvas.save_png(path):
            self._show_error(f"Could not write {path}. Choose another folder.")
            return False
        self._status_line.say(f"Saved {path}")
        return True

    def ask_open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent(), "Open an image of a digit", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif);;All files (*)")
        if path:
            self.open_image(path)

    def ask_save_drawing(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.parent(), "Save the drawing", "digit.png", "PNG image (*.png)")
        if path:
            self.save_drawing(path)
