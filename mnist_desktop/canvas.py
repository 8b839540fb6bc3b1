"""The drawing canvas: anti-aliased round strokes, eraser, undo/redo per stroke, images by file or drop.

Strokes are kept in canvas units (the square drawing area is 1x1), so the drawing scales with the window
and the screen's pixel ratio, and renders to the grey image the models read at any size.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .core.drawing import Drawing, Point, Stroke

MODEL_IMAGE_SIZE = 280  # the grey image handed to preprocessing, in pixels
DEFAULT_BRUSH = 20  # brush width in pixels of a 280-pixel canvas


class DrawingCanvas(QWidget):
    changed = Signal()  # the drawing changed (also on every move while drawing)
    strokeFinished = Signal()  # a stroke ended, or the drawing changed as a whole (undo, clear, image)
    fileDropped = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self.setAcceptDrops(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.brush_width = DEFAULT_BRUSH
        self.eraser = False
        self._drawing = Drawing()
        self._undo: list[Drawing] = []
        self._redo: list[Drawing] = []
        self._current: list[Point] | None = None  # the stroke being drawn

    # --- the drawing and its history -------------------------------------------------------------
    @property
    def drawing(self) -> Drawing:
        return self._drawing

    def _commit(self, drawing: Drawing) -> None:
        self._undo.append(self._drawing)
        self._redo.clear()
        self._set(drawing)

    def _set(self, drawing: Drawing) -> None:
        self._drawing = drawing
        self.update()
        self.changed.emit()
        self.strokeFinished.emit()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self._drawing)
            self._set(self._undo.pop())

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self._drawing)
            self._set(self._redo.pop())

    def clear(self) -> None:
        if not self._drawing.blank:
            self._commit(Drawing())

    def set_image(self, gray: np.ndarray) -> None:
        """Replace the drawing by an image (uint8, ink bright on dark); undoable."""
        self._commit(Drawing(background=np.ascontiguousarray(gray, dtype=np.uint8)))

    # --- geometry --------------------------------------------------------------------------------
    def _area(self) -> QRectF:
        """The square drawing area, centred in the widget."""
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_canvas(self, pos: QPointF) -> Point:
        area = self._area()
        return (pos.x() - area.x()) / area.width(), (pos.y() - area.y()) / area.height()

    # --- rendering -------------------------------------------------------------------------------
    def _paint_drawing(self, painter: QPainter, side: float) -> None:
        """Paint the drawing into a ``side`` x ``side`` square at the painter's origin."""
        painter.fillRect(QRectF(0, 0, side, side), Qt.GlobalColor.black)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        background = self._drawing.background
        if background is not None:
            h, w = background.shape
            image = QImage(background.data, w, h, w, QImage.Format.Format_Grayscale8)
            scale = side / max(h, w)
            painter.drawImage(QRectF((side - w * scale) / 2, (side - h * scale) / 2, w * scale, h * scale), image)
        strokes = list(self._drawing.strokes)
        if self._current:
            strokes.append(Stroke(tuple(self._current), self.brush_width / MODEL_IMAGE_SIZE, self.eraser))
        for stroke in strokes:
            color = QColor(Qt.GlobalColor.black if stroke.eraser else Qt.GlobalColor.white)
            pen = QPen(color, stroke.width * side, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                       Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            points = [QPointF(x * side, y * side) for x, y in stroke.points]
            if len(points) == 1:
                painter.drawPoint(points[0])
            else:
                path = QPainterPath(points[0])
                for p in points[1:]:
                    path.lineTo(p)
                painter.drawPath(path)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        area = self._area()
        painter.translate(area.topLeft())
        self._paint_drawing(painter, area.width())

    def render_gray(self, size: int = MODEL_IMAGE_SIZE) -> np.ndarray:
        """The drawing as a ``size`` x ``size`` uint8 array, ink bright on dark."""
        image = QImage(size, size, QImage.Format.Format_Grayscale8)
        painter = QPainter(image)
        self._paint_drawing(painter, size)
        painter.end()
        return np.array(image.constBits(), dtype=np.uint8).reshape(size, image.bytesPerLine())[:, :size].copy()

    def save_png(self, path: str | Path) -> bool:
        gray = self.render_gray()
        return QImage(gray.data, gray.shape[1], gray.shape[0], gray.shape[1],
                      QImage.Format.Format_Grayscale8).save(str(path), "PNG")

    # --- input: mouse, and tablet pens where Qt delivers tablet events -------------------------------
    def _begin(self, pos: QPointF) -> None:
        self._current = [self._to_canvas(pos)]
        self.update()
        self.changed.emit()

    def _extend(self, pos: QPointF) -> None:
        if self._current is not None:
            self._current.append(self._to_canvas(pos))
            self.update()
            self.changed.emit()

    def _end(self) -> None:
        if self._current is not None:
            stroke = Stroke(tuple(self._current), self.brush_width / MODEL_IMAGE_SIZE, self.eraser)
            self._current = None
            self._commit(Drawing(self._drawing.background, self._drawing.strokes + (stroke,)))

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())

    def mouseMoveEvent(self, event) -> None:
        self._extend(event.position())

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._end()

    def tabletEvent(self, event) -> None:
        # Handled here (not left to Qt's synthesized mouse events) so a pen draws even where the platform
        # does not synthesize them; the stroke width stays uniform, as in MNIST.
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position())
        elif kind == QEvent.Type.TabletMove:
            self._extend(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._end()
        event.accept()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.fileDropped.emit(urls[0].toLocalFile())
