from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QSettings, Qt

from mnist_desktop._qt.concurrency import running_jobs, wait_for_jobs
from mnist_desktop._qt.window import MainWindow

JOB_WAIT_MS = 60_000


@pytest.fixture(autouse=True)
def qt_objects_end_with_their_test(request):
    """A Qt test ends only once what it made is gone: its jobs ended and let go, its closed widgets deleted
    by Qt, its garbage collected. Left over, a widget pytest-qt had only marked for deletion was destroyed
    by the next test's garbage collection, from inside the collector, while a model loaded on a pool thread:
    a segfault in CI."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    assert wait_for_jobs(JOB_WAIT_MS), f"a background job was still running {JOB_WAIT_MS // 1000} s after the test"
    while running_jobs():
        QCoreApplication.processEvents()  # the jobs are let go on the GUI thread
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def settings_path(tmp_path):
    return str(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, settings_path):
    """The real main window, shown offscreen, with its models loaded and Your drawings read: a test that waits
    for the drawings' next ``refreshed`` (after labelling one) must not get this first read's, which can end
    while the label waits for its recognition."""
    w = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignals([w.predictorReady, w.training.ready, w.drawings.refreshed], timeout=30_000):
        w.start_loading_models()
    return w


def settle(qtbot, window: MainWindow) -> None:
    """Wait until the answer shown is for the drawing as it is now (recognition runs on its own thread)."""
    qtbot.waitUntil(lambda: window.answers.settled, timeout=10_000)


def stroke(qtbot, canvas, points: list[tuple[float, float]]) -> None:
    """One stroke with real mouse events; points are fractions of the square drawing area. Returns at once:
    in the main window its recognition may still be in flight."""
    area = canvas.drawing_area()

    def at(fx: float, fy: float) -> QPoint:
        return QPoint(round(area.x() + fx * area.width()), round(area.y() + fy * area.height()))

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(*points[0]))
    for point in points[1:]:
        qtbot.mouseMove(canvas, at(*point))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(*points[-1]))


def draw(qtbot, canvas, points: list[tuple[float, float]]) -> None:
    """A stroke (see ``stroke``); in the main window, returns once it is recognised."""
    stroke(qtbot, canvas, points)
    if isinstance(canvas.window(), MainWindow):
        settle(qtbot, canvas.window())


def vertical_stroke() -> list[tuple[float, float]]:
    return [(0.5, 0.15 + 0.07 * i) for i in range(11)]


def loop_stroke() -> list[tuple[float, float]]:
    import math

    return [(0.5 + 0.22 * math.sin(t / 20 * 2 * math.pi), 0.5 - 0.32 * math.cos(t / 20 * 2 * math.pi))
            for t in range(21)]
