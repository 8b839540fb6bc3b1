"""Every panel fits: at the smallest supported size (1024×700) the Train tab shows its four live charts and
the run controls during a run, Past runs' actions sit above the list, and the first window fits the screen."""
from PySide6.QtCore import QPoint, QRect, QSize

from mnist_desktop._qt.window import DEFAULT_SIZE, first_size
from trainer.training import TrainConfig

from tests.app.qt.test_quit_question import StandIn, start


def inside(widget, area) -> bool:
    """``widget`` lies wholly within ``area`` (a widget), on screen."""
    top_left = widget.mapTo(area, QPoint(0, 0))
    return QRect(QPoint(0, 0), area.size()).contains(QRect(top_left, widget.size()))


def test_the_four_charts_and_the_run_controls_fit_during_a_run(window, qtbot, monkeypatch):
    window.resize(1024, 700)
    panel = window.training
    window.tabs.setCurrentWidget(panel)
    stand_in = StandIn()
    start(window, qtbot, monkeypatch, stand_in)
    viewport = panel.scroll.viewport()
    qtbot.waitUntil(lambda: all(inside(chart, viewport) for chart in panel.monitor.charts), timeout=5_000)
    assert inside(panel.stop_button, viewport) and panel.settings_box.isHidden()
    panel.settings_toggle.click()  # the settings unfold on demand
    assert panel.settings_box.isVisible()
    with qtbot.waitSignal(panel.runStopped, timeout=10_000):
        panel.stop()
        stand_in.step()
    panel.monitor.tabs.setCurrentWidget(panel.past_runs)
    panel.settings_toggle.click()
    qtbot.waitUntil(lambda: inside(panel.past_runs.revert_button, viewport), timeout=5_000)
    assert inside(panel.past_runs.use_button, viewport)


def test_the_first_window_fits_the_screen():
    assert first_size(QSize(1920, 1040)) == DEFAULT_SIZE
    assert first_size(QSize(960, 510)) == QSize(960, 510)  # 1920×1080 at a scale factor of 2
