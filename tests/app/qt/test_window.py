import threading

import numpy as np
from PySide6.QtCharts import QLineSeries
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from mnist_desktop._qt.concurrency import wait_for_jobs
from mnist_desktop._qt.window import MainWindow
from trainer.iterations import ITERATIONS
from trainer.report import read_metrics
from trainer.runs import RunStore
from trainer.training import TrainConfig

from tests.app.conftest import draw, loop_stroke, settle, vertical_stroke


def top_digit(window, iteration=None) -> int | None:
    p = window.answers.probabilities.get(iteration or window.iteration)
    return None if p is None else int(np.argmax(p))


def test_a_vertical_stroke_is_a_one_and_a_loop_is_a_zero(window, qtbot):
    assert window.iteration == 5
    draw(qtbot, window.canvas, vertical_stroke())
    assert top_digit(window) == 1
    assert window.recognise.panel.digit.text() == "1"
    window.canvas.clear()
    draw(qtbot, window.canvas, loop_stroke())
    assert top_digit(window) == 0
    assert window.recognise.panel.digit.text() == "0"


def test_undo_redo_and_clear_change_the_prediction(window, qtbot):
    draw(qtbot, window.canvas, vertical_stroke())
    draw(qtbot, window.canvas, [(0.35, 0.2), (0.5, 0.15), (0.65, 0.2)])  # a hat on the 1
    with_hat = window.answers.probabilities[5].copy()
    window.undo_action.trigger()
    settle(qtbot, window)
    assert top_digit(window) == 1 and not np.allclose(window.answers.probabilities[5], with_hat)
    window.redo_action.trigger()
    settle(qtbot, window)
    assert np.allclose(window.answers.probabilities[5], with_hat)
    window.clear_action.trigger()
    settle(qtbot, window)
    assert window.answers.image is None and window.answers.probabilities == {}
    assert window.recognise.panel.digit.text() == "–" and "No digit" in window.recognise.panel.verdict.text()
    window.undo_action.trigger()
    settle(qtbot, window)
    assert np.allclose(window.answers.probabilities[5], with_hat)


def test_a_blank_canvas_shows_no_prediction(window, qtbot):
    window.answers.ask()
    settle(qtbot, window)
    assert window.answers.image is None and window.answers.probabilities == {}
    assert window.recognise.panel.bars.probabilities is None and window.recognise.panel.digit.text() == "–"


def test_switching_iteration_re_predicts(window, qtbot):
    draw(qtbot, window.canvas, loop_stroke())
    with qtbot.waitSignal(window.predicted, timeout=1000):
        window.iteration_actions.actions()[0].trigger()  # Ctrl+1
    assert window.iteration == 1
    assert np.array_equal(window.recognise.panel.bars.probabilities, window.answers.probabilities[1])
    assert "Iteration 1" in window.recognise.card.text() and "26,714 parameters" in window.recognise.card.text()
    assert "training" in window.recognise.card.text()  # the study's figure is labelled as a training-set figure


def test_comparison_view_fills_seven_results(window, qtbot):
    draw(qtbot, window.canvas, vertical_stroke())
    window.tabs.setCurrentWidget(window.compare)  # the cards are filled when they come into view
    digits = [window.compare.results[n].digit.text() for n in ITERATIONS]  # beside them, the drawings model's
    assert digits == ["1"] * 7
    assert "All 7 agree" in window.compare.agreement.text()
    shipped = read_metrics()[5]["test_accuracy"]  # weights/metrics.json, from mnist-train report
    column = window.compare.TABLE_COLUMNS.index
    assert window.compare.table.item(4, column("Test\naccuracy\nin use")).text() == f"{shipped:.2f}%"
    assert window.compare.table.item(4, column("Study's\nfigure\n(train set)")).text() == "99.55%"  # training set
    latency = column("CPU\nlatency\n/ image")
    qtbot.waitUntil(lambda: window.compare.table.item(4, latency).text().endswith("ms"))  # timed in the background
    assert sum(isinstance(s, QLineSeries) for s in window.compare.chart.series()) == 7


def test_confusion_matrix_and_gallery(window, qtbot, mnist_dir):
    window.tabs.setCurrentWidget(window.compare)
    with qtbot.waitSignal(window.compare.evaluated, timeout=30_000):
        window.compare.tabs.setCurrentIndex(2)
    total = sum(int(window.compare.confusion.item(r, c).text()) for r in range(10) for c in range(10))
    assert total == 10_000
    assert window.compare.gallery.count() > 0
    item = window.compare.gallery.item(0)
    window.compare.gallery.itemClicked.emit(item)
    settle(qtbot, window)
    assert window.canvas.drawing.background is not None and window.answers.image is not None


def test_a_corrupt_weights_file_disables_one_iteration(qtbot, settings_path):
    store = RunStore()
    bad = store.runs_dir / "20260101-000000-000000-iteration3.pt"
    bad.parent.mkdir(parents=True)
    bad.write_text("garbage")
    store.activate(3, bad)
    w = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.predictorReady, timeout=30_000):
        w.start_loading_models()
    state = w.status_line.state.text()  # the models' state, shown whenever no message is
    assert "iteration 3" in state and "not a PyTorch file" in state
    draw(qtbot, w.canvas, vertical_stroke())
    assert sorted(w.answers.probabilities) == [1, 2, 4, 5, 6, 7, 8]  # 8: the model made for drawings
    w.set_iteration(3)
    assert "Unavailable" in w.recognise.card.text() and w.recognise.panel.digit.text() == "×"
    w.tabs.setCurrentWidget(w.compare)
    assert w.compare.results[3].confidence.text() == "unavailable"


def test_settings_survive_a_restart(qtbot, settings_path):
    first = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.set_iteration(3)
    first.brush.setValue(33)
    first.resize(700, 500)  # inside the offscreen screen (800x600), which restoreGeometry clamps to
    first.close()
    second = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.iteration == 3 and second.canvas.brush_width == 33
    assert (second.width(), second.height()) == (700, 500)


def test_a_tablet_pen_draws(window, qtbot):
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
    from PySide6.QtWidgets import QApplication

    pen = QPointingDevice("test pen", 1, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
                          QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 3)
    canvas = window.canvas
    area = canvas.drawing_area()
    kinds = [QEvent.Type.TabletPress] + [QEvent.Type.TabletMove] * 9 + [QEvent.Type.TabletRelease]
    for kind, (fx, fy) in zip(kinds, vertical_stroke()):
        pos = QPointF(area.x() + fx * area.width(), area.y() + fy * area.height())
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
        event = QTabletEvent(kind, pen, pos, canvas.mapToGlobal(pos), 0.8, 0, 0, 0, 0, 0,
                             Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, buttons)
        QApplication.sendEvent(canvas, event)
    assert len(canvas.drawing.strokes) == 1
    settle(qtbot, window)
    assert top_digit(window) == 1


def test_the_eraser_removes_ink(window, qtbot):
    draw(qtbot, window.canvas, vertical_stroke())
    assert top_digit(window) == 1
    window.eraser_action.trigger()  # Ctrl+E
    window.brush.setValue(60)
    draw(qtbot, window.canvas, vertical_stroke())
    assert window.answers.image is None and window.answers.probabilities == {}
    window.eraser_action.trigger()
    assert not window.canvas.eraser


def test_the_compare_cards_are_updated_only_while_in_view(window, qtbot):
    draw(qtbot, window.canvas, vertical_stroke())
    assert window.recognise.panel.digit.text() == "1"
    assert [r.digit.text() for r in window.compare.results.values()] == ["–"] * 8  # hidden: untouched
    window.tabs.setCurrentWidget(window.compare)
    assert [r.digit.text() for r in window.compare.results.values()] == ["1"] * 8  # the seven and model 8
    window.clear_action.trigger()
    settle(qtbot, window)
    assert [r.digit.text() for r in window.compare.results.values()] == ["–"] * 8  # in view: updated


def test_ctrl_z_undoes_a_stroke_after_typing_a_brush_width(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    draw(qtbot, window.canvas, vertical_stroke())
    qtbot.mouseClick(window.brush, Qt.MouseButton.LeftButton)
    window.brush.selectAll()
    qtbot.keyClicks(window.brush, "33")
    qtbot.keyClick(window.brush, Qt.Key.Key_Return)
    assert window.canvas.brush_width == 33
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.canvas.drawing.strokes == ()


def test_the_wheel_changes_the_brush_only_once_it_has_the_focus(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    width = window.brush.value()

    def wheel_up() -> None:
        pos = QPointF(window.brush.rect().center())
        QApplication.sendEvent(window.brush, QWheelEvent(
            pos, window.brush.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))

    wheel_up()
    assert window.brush.value() == width and not window.brush.hasFocus()
    window.brush.setFocus()
    wheel_up()
    assert window.brush.value() == width + 1


def long_run(mnist_dir) -> TrainConfig:
    """A full-set run of 100 epochs: it lasts far longer than anything a test does while it trains."""
    return TrainConfig(5, epochs=100, data_dir=str(mnist_dir), device="cpu")


def test_drawing_works_while_a_run_trains(window, qtbot, mnist_dir):
    with qtbot.waitSignal(window.training.controller.batch, timeout=30_000):
        window.training.start(long_run(mnist_dir))
    draw(qtbot, window.canvas, vertical_stroke())
    assert window.training.running  # the stroke was drawn during the run
    assert len(window.canvas.drawing.strokes[0].points) == len(vertical_stroke()) and top_digit(window) == 1
    with qtbot.waitSignal(window.training.runStopped, timeout=30_000):
        window.training.stop()


def test_closing_during_a_run_stops_it_and_waits_for_it(window, qtbot, mnist_dir):
    with qtbot.waitSignal(window.training.controller.batch, timeout=30_000):
        window.training.start(long_run(mnist_dir))
    window.confirm_stop_training = lambda: True  # the person answers Yes
    assert window.close()
    assert not window.abandoned_threads and wait_for_jobs(0)  # the run's job has ended
    assert RunStore().list_runs() == []


def test_closing_gives_up_on_a_job_that_does_not_stop(window, qtbot, monkeypatch):
    """A run stuck where it cannot see Stop (a long evaluation): closing waits a bounded time, says so, and
    leaves the job to the process's exit."""
    started, release = threading.Event(), threading.Event()

    def stuck(config, should_stop):
        started.set()
        release.wait(60)
        return iter(())

    monkeypatch.setattr("trainer.training.train", stuck)
    monkeypatch.setattr("mnist_desktop._qt.window.CLOSE_WAIT_MS", 100)
    window.training.start(TrainConfig(5, epochs=1, train_limit=64))
    qtbot.waitUntil(started.is_set, timeout=10_000)
    window.confirm_stop_training = lambda: True
    assert window.close()
    assert window.abandoned_threads and not wait_for_jobs(0)
    release.set()  # let it end, so the test process exits normally
    assert wait_for_jobs(10_000)
