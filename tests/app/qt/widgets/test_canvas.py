"""The canvas with real mouse events: what it shows equals a render of its vectors; a move repaints little."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from mnist_desktop._qt.widgets import canvas as canvas_module
from mnist_desktop._qt.widgets.canvas import DrawingCanvas, render_drawing

from tests.app.conftest import draw, loop_stroke, vertical_stroke


@pytest.fixture
def canvas(qtbot):
    c = DrawingCanvas()
    qtbot.addWidget(c)
    c.resize(320, 300)
    c.show()
    qtbot.waitExposed(c)
    return c


def shown(canvas: DrawingCanvas) -> np.ndarray:
    """The drawing area's pixels as the widget paints them (its paintEvent, into a pixmap)."""
    return pixels(canvas.grab(canvas.drawing_area()).toImage())


def rendered(canvas: DrawingCanvas) -> np.ndarray:
    """The drawing painted anew from its vectors, at the same size."""
    return pixels(render_drawing(canvas.drawing, canvas.drawing_area().width(), QImage.Format.Format_RGB32))


def pixels(image: QImage) -> np.ndarray:
    """Red, green and blue of each pixel (the grey ink makes them equal)."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    return np.array(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)[
        :, :image.width(), :3]


def test_what_is_shown_equals_the_vectors_after_strokes_undo_redo_and_the_eraser(canvas, qtbot):
    draw(qtbot, canvas, loop_stroke())
    draw(qtbot, canvas, vertical_stroke())
    assert len(canvas.drawing.strokes) == 2 and shown(canvas).max() == 255
    assert np.array_equal(shown(canvas), rendered(canvas))
    canvas.undo()
    assert len(canvas.drawing.strokes) == 1
    assert np.array_equal(shown(canvas), rendered(canvas))
    canvas.redo()
    canvas.eraser = True
    canvas.brush_width = 40
    draw(qtbot, canvas, [(0.2, 0.5), (0.5, 0.5), (0.8, 0.5)])
    assert canvas.drawing.strokes[-1].eraser
    assert np.array_equal(shown(canvas), rendered(canvas))
    canvas.resize(260, 400)
    assert np.array_equal(shown(canvas), rendered(canvas))
    canvas.clear()
    assert shown(canvas).max() == 0


def test_segments_alone_would_differ_from_the_vectors(canvas, qtbot):
    """Why a stroke is painted again as one path when it ends: its segments overlap at the joins."""
    canvas.brush_width = 30
    points = loop_stroke()
    area = canvas.drawing_area()
    at = [QPoint(round(area.x() + x * area.width()), round(area.y() + y * area.height())) for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at[0])
    for p in at[1:]:
        qtbot.mouseMove(canvas, p)
    during = shown(canvas)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at[-1])
    assert not np.array_equal(during, rendered(canvas))
    assert np.array_equal(shown(canvas), rendered(canvas))


class PaintRects(QObject):
    def __init__(self):
        super().__init__()
        self.rects = []

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.rects.append(event.rect())
        return False


def test_a_mouse_move_repaints_only_the_rectangle_of_its_segment(canvas, qtbot):
    area = canvas.drawing_area()
    paints = PaintRects()
    canvas.installEventFilter(paints)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(area.x() + 100, area.y() + 100))
    QApplication.processEvents()
    for step in range(1, 11):
        paints.rects.clear()
        qtbot.mouseMove(canvas, QPoint(area.x() + 100 + 5 * step, area.y() + 100 + 3 * step))
        QApplication.processEvents()
        assert len(paints.rects) == 1
        rect = paints.rects[0]
        pen = canvas.brush_width / canvas_module.CANVAS_SIDE * area.width()
        assert rect.width() <= 5 + pen + 6 and rect.height() <= 3 + pen + 6  # the segment, the pen, the edge
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(area.x() + 150, area.y() + 130))
    assert len(canvas.drawing.strokes[0].points) == 11


def test_the_stroke_being_drawn_is_part_of_the_drawing(canvas, qtbot):
    area = canvas.drawing_area()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=area.center())
    qtbot.mouseMove(canvas, area.center() + QPoint(20, 0))
    assert len(canvas.drawing.strokes) == 1 and len(canvas.drawing.strokes[0].points) == 2
    assert not canvas.can_undo()  # not an undo step until it ends
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=area.center() + QPoint(20, 0))
    assert canvas.can_undo()


def test_the_undo_history_is_bounded(qtbot, monkeypatch):
    monkeypatch.setattr(canvas_module, "UNDO_LIMIT", 3)
    c = DrawingCanvas()
    qtbot.addWidget(c)
    c.show()
    for i in range(5):
        draw(qtbot, c, [(0.1 + 0.15 * i, 0.2), (0.1 + 0.15 * i, 0.8)])
    while c.can_undo():
        c.undo()
    assert len(c.drawing.strokes) == 2  # the three newest strokes were undone; older steps were forgotten


HIGH_DPI_CHECK = """
import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication([])
from mnist_desktop._qt.widgets.canvas import DrawingCanvas, render_drawing
def pixels(image):
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    return np.array(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)[:, :, :3]
c = DrawingCanvas()
c.resize(300, 300)
c.show()
QTest.qWaitForWindowExposed(c)
a = c.drawing_area()
QTest.mousePress(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a.center())
for i in range(1, 20):
    QTest.mouseMove(c, a.center() + QPoint(4 * i, 2 * i))
QTest.mouseRelease(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a.center() + QPoint(76, 38))
shown = c.grab(a).toImage()
print(c.devicePixelRatioF(), shown.width(), a.width(),
      np.array_equal(pixels(shown), pixels(render_drawing(c.drawing, 2 * a.width(), QImage.Format.Format_RGB32))))
"""


def test_on_a_high_dpi_screen_the_canvas_paints_device_pixels():
    """A screen at twice the pixel density (Qt's scale factor, in a process of its own): the strokes are
    painted at the device's resolution, and what is shown still equals the vectors."""
    root = Path(__file__).resolve().parents[4]
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"}
    out = subprocess.run([sys.executable, "-c", HIGH_DPI_CHECK], cwd=root, env=env, capture_output=True, text=True,
                         timeout=120)
    dpr, shown_width, logical_width, equal = out.stdout.split()
    assert float(dpr) == 2.0 and int(shown_width) == 2 * int(logical_width) and equal == "True"
