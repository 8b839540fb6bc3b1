"""Every panel fits: at the smallest supported size (1024×700) the Train tab shows its four live charts and
the run controls during a run, Past runs' actions sit above the list, and the first window fits the screen;
Compare's table needs no sideways scrolling and its cards are equal; no chart's legend cuts a name short."""
from PySide6.QtCore import QPoint, QRect, QSize

from mnist_desktop._qt.window import DEFAULT_SIZE, first_size
from trainer.training import EpochEnd, Stopped, TrainConfig

from tests.app.conftest import draw, stroke
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


SIZES = [(1024, 700), (1200, 760), (1400, 900)]  # the smallest supported, the default, a larger one


def resized(window, qtbot, size) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: window.centralWidget().width() == size[0])


def fully_shown(label) -> bool:
    """The label is on screen, wide enough for its text, or (word-wrapped) tall enough for all its lines."""
    if not label.isVisible():
        return False
    if label.wordWrap():
        return label.height() >= label.heightForWidth(label.width())
    return label.width() >= label.sizeHint().width() and label.height() >= label.sizeHint().height()


def test_compares_table_fits_and_its_cards_are_equal(window, qtbot):
    """A plus: some cards say "not a digit? (best guess 4, 57%)", others "4  99.7%"; the cards stay equal, their
    digits under the bars are not squashed together, the table needs no sideways scrolling and every tab's
    title shows."""
    window.tabs.setCurrentWidget(window.compare)
    stroke(qtbot, window.canvas, [(0.5, 0.2), (0.5, 0.8)])
    draw(qtbot, window.canvas, [(0.2, 0.5), (0.8, 0.5)])
    compare = window.compare
    assert any(card.digit.text() == "?" for card in compare.results.values())  # texts of different lengths
    table, cards = compare.table, compare.results.values()
    for size in SIZES:
        resized(window, qtbot, size)
        qtbot.waitUntil(lambda: table.horizontalHeader().length() <= table.viewport().width())
        assert table.horizontalScrollBar().maximum() == 0, size
        for tabs in (window.tabs, compare.tabs):  # every tab's title in view, no scroll arrows
            assert tabs.tabBar().sizeHint().width() <= tabs.width(), (size, tabs.tabBar().sizeHint().width())
        widths = [card.width() for card in cards]
        assert max(widths) - min(widths) <= 1, (size, widths)  # the grid's rounding, at most
        digit = max(compare.results[1].bars.fontMetrics().horizontalAdvance(str(d)) for d in range(10))
        assert all(card.bars.width() / 10 >= digit + 3 for card in cards), size  # "0 1 2", not "012"


def test_no_legend_cuts_a_name_short(window, qtbot, monkeypatch):
    """Train's charts during a second run of a fine-tune (six lines: this run's and the dashed previous
    run's, with the held-out drawings), and Compare's learning curves of the shipped seven-seed study: at each
    size every name is listed whole, on as many lines as it takes, and Qt's own legend (which elides) is off."""

    def two_epochs(config, should_stop):
        for epoch in (1, 2):
            yield EpochEnd(epoch, 2, 0.3, 91.0, 0.2, 95.0, 0.002, 1.0, 1000.0, extra_accuracy=80.0)
        yield Stopped(2, None)

    monkeypatch.setattr("trainer.training.train", two_epochs)
    panel = window.training
    for _ in range(2):
        with qtbot.waitSignal(panel.runStopped, timeout=10_000):
            panel.start(TrainConfig(5, epochs=2, train_limit=64))
    window.tabs.setCurrentWidget(panel)
    monitor = panel.monitor
    current = ["train", "test", "your held-out drawings"]
    assert monitor.accuracy_chart.legend.names == current + [f"{name} (before)" for name in current]
    compare = window.compare
    assert compare.chart_view.legend.names == [f"{n} (5 seeds)" for n in range(1, 8)]
    for size in SIZES:
        resized(window, qtbot, size)
        window.tabs.setCurrentWidget(panel)
        with_legends = [chart for chart in monitor.charts if chart.with_legend]
        assert len(with_legends) == 2
        for chart in monitor.charts:
            assert not chart.chart().legend().isVisible()
        qtbot.waitUntil(lambda: all(fully_shown(chart.legend) for chart in with_legends))
        assert panel.scroll.horizontalScrollBar().maximum() == 0  # no legend wider than the tab
        window.tabs.setCurrentWidget(compare)
        compare.tabs.setCurrentWidget(compare.chart_view)
        qtbot.waitUntil(lambda: fully_shown(compare.chart_view.legend))
        assert not compare.chart.legend().isVisible()


def test_the_window_can_be_as_small_as_a_screen_at_twice_the_scale(window, qtbot):
    """1920×1080 at a scale factor of 2 offers 960×540 units: the window takes that size (every panel scrolls
    rather than make it taller), and Recognise's strip is reached by scrolling."""
    size = first_size(QSize(960, 540))
    window.resize(size)
    qtbot.waitUntil(lambda: window.size() == size)
    recognise = window.recognise
    recognise.ensureWidgetVisible(recognise.strip)
    qtbot.waitUntil(lambda: inside(recognise.strip, recognise.viewport()))
