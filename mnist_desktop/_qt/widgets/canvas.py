"""The drawing canvas: anti-aliased round strokes, eraser, undo/redo per stroke, images by file or drop.

Strokes are kept in canvas units (the square drawing area is 1x1), so the drawing scales with the window
and the screen's pixel ratio, and renders to the grey image the models read at any size.

Painting is incremental: the drawing lives in an image of the canvas's device pixels; a mouse move paints
only its new segment there and repaints only that segment's rectangle, so a move costs the same on the
first stroke and the hundredth. When a stroke ends, it is painted again as one path onto the image of the
finished strokes, and undo, redo, clear and resizing paint that image from the vectors, so what is shown is
exactly what the strokes describe.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.strokes import CANVAS_SIDE, Drawing, Point, Stroke

DEFAULT_BRUSH = 20  # brush width in pixels of a CANVAS_SIDE canvas
BRUSH_WIDTHS = range(4, 61)  # the widths offered
UNDO_LIMIT = 500  # undo steps kept; older ones are forgotten, so a long session's memory stays flat
SIZE_HINT = 440  # pixels of a side


def stroke_pen(stroke: Stroke, side: float) -> QPen:
    color = QColor(Qt.GlobalColor.black if stroke.eraser else Qt.GlobalColor.white)
    return QPen(color, stroke.width * side, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)


def paint_stroke(painter: QPainter, stroke: Stroke, side: float) -> None:
    """One whole stroke as one path (joins without overlapping seams), in a ``side`` x ``side`` square."""
    painter.setPen(stroke_pen(stroke, side))
    points = [QPointF(x * side, y * side) for x, y in stroke.points]
    if len(points) == 1:
        painter.drawPoint(points[0])
        return
    path = QPainterPath(points[0])
    for p in points[1:]:
        path.lineTo(p)
    painter.drawPath(path)


def paint_drawing(painter: QPainter, drawing: Drawing, side: float) -> None:
    """The whole drawing into a ``side`` x ``side`` square at the painter's origin."""
    painter.fillRect(QRectF(0, 0, side, side), Qt.GlobalColor.black)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    background = drawing.background
    if background is not None:
        h, w = background.shape
        image = QImage(background.data, w, h, w, QImage.Format.Format_Grayscale8)
        scale = side / max(h, w)
        painter.drawImage(QRectF((side - w * scale) / 2, (side - h * scale) / 2, w * scale, h * scale), image)
    for stroke in drawing.strokes:
        paint_stroke(painter, stroke, side)


def render_drawing(drawing: Drawing, side: int, image_format: QImage.Format) -> QImage:
    """The drawing painted from its vectors into a new ``side`` x ``side`` image."""
    image = QImage(side, side, image_format)
    painter = QPainter(image)
    paint_drawing(painter, drawing, side)
    painter.end()
    return image


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
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # drawing takes the keyboard back for Ctrl+Z
        self.brush_width = DEFAULT_BRUSH
        self.eraser = False
        self._drawing = Drawing()  # the finished strokes
        self._undo: deque[Drawing] = deque(maxlen=UNDO_LIMIT)
        self._redo: list[Drawing] = []
        self._current: list[Point] | None = None  # the stroke being drawn
        # The finished strokes in device pixels, exact; and what is shown: the same image (shared, Qt copies
        # it on the first write) with the stroke being drawn painted on segment by segment.
        self._finished = QImage()
        self._backing = QImage()

    # --- the drawing and its history -------------------------------------------------------------
    @property
    def drawing(self) -> Drawing:
        """What the canvas shows: the finished strokes, and the stroke being drawn if there is one."""
        if self._current is None:
            return self._drawing
        return Drawing(self._drawing.background, self._drawing.strokes + (self._current_stroke(),))

    def _current_stroke(self) -> Stroke:
        return Stroke(tuple(self._current), self.brush_width / CANVAS_SIDE, self.eraser)

    def _commit(self, drawing: Drawing, painted: bool = False) -> None:
        """Make ``drawing`` the new undo step; ``painted``: the images already show it."""
        self._undo.append(self._drawing)
        self._redo.clear()
        self._set(drawing, painted)

    def _set(self, drawing: Drawing, painted: bool = False) -> None:
        self._drawing = drawing
        if not painted:
            self._rebuild()
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

    def set_image(self, gray: np.ndarray, model_input: bool = False) -> None:
        """Replace the drawing by an image (uint8, ink bright on dark); undoable. ``model_input``: it is already
        what the models see (a 28x28 test digit), so it is not preprocessed again."""
        self._commit(Drawing(background=np.ascontiguousarray(gray, dtype=np.uint8), model_input=model_input))

    # --- geometry --------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        """Beside the tabs in the window's splitter, which shares what is left over between both halves."""
        return QSize(SIZE_HINT, SIZE_HINT)

    def drawing_area(self) -> QRect:
        """The square drawing area, centred in the widget, on whole pixels."""
        side = min(self.width(), self.height())
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def _to_canvas(self, pos: QPointF) -> Point:
        area = self.drawing_area()
        return (pos.x() - area.x()) / area.width(), (pos.y() - area.y()) / area.height()

    def _device_side(self) -> int:
        return round(self.drawing_area().width() * self.devicePixelRatioF())

    # --- the images ------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        """Paint the finished strokes from the vectors (the drawing changed as a whole, or the size did)."""
        self._finished = render_drawing(self._drawing, max(self._device_side(), 1), QImage.Format.Format_RGB32)
        self._finished.setDevicePixelRatio(self.devicePixelRatioF())
        self._backing = QImage(self._finished)
        if self._current is not None:  # resized mid-stroke: show the stroke so far
            self._paint_on_backing(lambda painter, side: paint_stroke(painter, self._current_stroke(), side))
        self.update()

    def _paint_on_backing(self, paint) -> None:
        if not self._backing.isNull():  # else never laid out yet: the first resize paints everything
            self._paint_in_device_pixels(self._backing, paint)

    def _paint_in_device_pixels(self, image: QImage, paint) -> None:
        """``paint(painter, side)`` onto ``image`` in its device pixels, as ``render_drawing`` paints."""
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(1 / image.devicePixelRatio(), 1 / image.devicePixelRatio())
        paint(painter, image.width())
        painter.end()

    def _paint_segment(self, a: Point, b: Point) -> None:
        """The stroke's newest piece onto the shown image; repaint only the rectangle it covers."""
        stroke = self._current_stroke()

        def paint(painter: QPainter, side: int) -> None:
            painter.setPen(stroke_pen(stroke, side))
            if a == b:
                painter.drawPoint(QPointF(a[0] * side, a[1] * side))
            else:
                painter.drawLine(QLineF(a[0] * side, a[1] * side, b[0] * side, b[1] * side))

        self._paint_on_backing(paint)
        area = self.drawing_area()
        side = area.width()
        margin = stroke.width * side / 2 + 2  # half the pen, and the anti-aliased edge
        rect = QRectF(QPointF(a[0] * side, a[1] * side), QPointF(b[0] * side, b[1] * side)).normalized()
        self.update(rect.adjusted(-margin, -margin, margin, margin).translated(area.topLeft()).toAlignedRect())

    def resizeEvent(self, event) -> None:
        self._rebuild()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self._rebuild()
        super().changeEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        area = self.drawing_area()
        dirty = event.rect()
        if not area.contains(dirty):
            painter.fillRect(dirty, self.palette().window())
        target = dirty.intersected(area)
        if not target.isEmpty():
            dpr = self._backing.devicePixelRatio()
            source = target.translated(-area.topLeft())
            painter.drawImage(QRectF(target), self._backing, QRectF(source.x() * dpr, source.y() * dpr,
                                                                    source.width() * dpr, source.height() * dpr))

    def render_gray(self, size: int = CANVAS_SIDE) -> np.ndarray:
        """The drawing (the stroke being drawn included) as a ``size`` x ``size`` uint8 array, ink bright on dark."""
        image = render_drawing(self.drawing, size, QImage.Format.Format_Grayscale8)
        return np.array(image.constBits(), dtype=np.uint8).reshape(size, image.bytesPerLine())[:, :size].copy()

    def save_png(self, path: str | Path) -> bool:
        gray = self.render_gray()
        return QImage(gray.data, gray.shape[1], gray.shape[0], gray.shape[1],
                      QImage.Format.Format_Grayscale8).save(str(path), "PNG")

    # --- input: mouse, and tablet pens where Qt delivers tablet events -------------------------------
    def _begin(self, pos: QPointF) -> None:
        point = self._to_canvas(pos)
        self._current = [point]
        self._paint_segment(point, point)
        self.changed.emit()

    def _extend(self, pos: QPointF) -> None:
        if self._current is not None:
            point = self._to_canvas(pos)
            self._paint_segment(self._current[-1], point)
            self._current.append(point)
            self.changed.emit()

    def _end(self) -> None:
        if self._current is None:
            return
        stroke = self._current_stroke()
        self._current = None
        drawing = Drawing(self._drawing.background, self._drawing.strokes + (stroke,))
        if self._finished.isNull():  # never laid out yet: the first resize paints everything
            self._commit(drawing)
            return
        # The stroke again, as one path, onto the finished strokes: the image now equals a render of the
        # vectors. (Segments painted one by one overlap at their joins, which shows in the anti-aliasing.)
        self._paint_in_device_pixels(self._finished, lambda painter, side: paint_stroke(painter, stroke, side))
        self._backing = QImage(self._finished)
        self.update(self.drawing_area())
        self._commit(drawing, painted=True)

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
