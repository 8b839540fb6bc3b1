"""The Inside view and the attribution maps in the real window, driven with real mouse events."""
import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from mnist_desktop._qt.widgets.panels import reason_capitalised
from mnist_desktop.core.inside import conv_layers

from tests.app.conftest import draw, loop_stroke, stroke, vertical_stroke


def test_the_inside_view_shows_the_maps_of_a_drawn_stroke_only_while_visible(window, qtbot):
    inside = window.inside
    draw(qtbot, window.canvas, vertical_stroke())
    assert window.recognise.panel.digit.text() == "1"
    assert inside.explanation is None  # hidden: no work done

    window.tabs.setCurrentWidget(inside)
    qtbot.waitUntil(lambda: inside.explanation is not None, timeout=10_000)
    explanation = inside.explanation
    assert inside.status.text() == "Iteration 5: 5 conv layers."  # a digit: no note
    assert explanation.inside.iteration == 5
    assert np.array_equal(explanation.inside.image, window.answers.image)
    assert explanation.why.target.digit == 1 and explanation.why_not.target.digit == 1
    specs = conv_layers(5)
    rows = [row for row in inside.layer_rows if not row.isHidden()]
    assert [row.title.text() for row in rows] == [f"<b>{s.label}</b>" for s in specs]
    assert [len(row.grid.pixmaps) for row in rows] == [s.channels for s in specs]
    assert rows[0].legend.high == explanation.inside.layers[0].peak > 0  # one shared scale per layer
    assert inside.why.legend.low == -inside.why.legend.high < 0
    assert "Red raised the score of “1”" in inside.why.caption.text()

    grid = rows[0].grid  # 8 maps of 28×28 in a row
    inside.ensureWidgetVisible(grid)
    centre = QPoint(3 * (grid.cell + 3) + grid.cell // 2, grid.cell // 2)  # the fourth map
    # A hover as the window system delivers it (QTest's mouseMove is not always delivered offscreen without a
    # button held; the real window was checked under Xvfb with xdotool).
    hover = QMouseEvent(QEvent.Type.MouseMove, QPointF(centre), grid.mapToGlobal(QPointF(centre)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid, hover)
    assert grid.toolTip().startswith("channel 4 of 8: values 0 to")
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=centre)
    assert inside.enlarged_caption.text().startswith("conv 1, channel 4 of 8")
    assert inside.enlarged.pixmap().width() == 168

    # Clicking 7 in the Inside view's own bars explains 7, and "7 and not 1" (a click in the Recognise
    # panel's bars labels the drawing instead: see views/test_drawings.py).
    bars = inside.bars
    qtbot.mouseClick(bars, Qt.MouseButton.LeftButton, pos=QPoint(round(bars.width() * 7.5 / 10), 10))
    qtbot.waitUntil(lambda: inside.explanation.why.target.digit == 7, timeout=10_000)
    assert str(inside.explanation.why_not.target) == "7 and not 1"

    window.canvas.clear()
    qtbot.waitUntil(lambda: inside.explanation is None)
    assert all(row.isHidden() for row in inside.layer_rows)


def test_compare_shows_where_the_seven_look(window, qtbot):
    window.tabs.setCurrentWidget(window.compare)
    window.compare.tabs.setCurrentWidget(window.compare.where)
    with qtbot.waitSignal(window.compare.where.shown, timeout=20_000):
        draw(qtbot, window.canvas, vertical_stroke())
    maps = window.compare.where.maps
    qtbot.waitUntil(lambda: all(m.attribution is not None and m.attribution.target.digit == 1 for m in maps.values()),
                    timeout=20_000)
    assert len({float(m.attribution.map.sum()) for m in maps.values()}) == 7  # seven models, seven maps


def test_where_they_look_says_so_when_the_drawing_is_not_a_digit(window, qtbot):
    """A plus, which the seven together call not a digit: the maps are of best guesses, and say so."""
    window.tabs.setCurrentWidget(window.compare)
    where = window.compare.where
    window.compare.tabs.setCurrentWidget(where)
    for points in [(0.5, 0.2), (0.5, 0.8)], [(0.2, 0.5), (0.8, 0.5)]:
        draw(qtbot, window.canvas, points)
    qtbot.waitUntil(lambda: where.status.text().startswith("<b>Not a digit?</b> ") and
                    ", so these maps show only" in where.status.text(), timeout=20_000)
    reason = reason_capitalised(window.answers.recognition.verdict)
    assert where.status.text().startswith(f"<b>Not a digit?</b> {reason}, so these maps")
    assert all(view.title.text().startswith(f"Iteration {n}: best guess") for n, view in where.maps.items())
    window.canvas.clear()
    with qtbot.waitSignal(where.shown, timeout=20_000):
        draw(qtbot, window.canvas, vertical_stroke())
    assert where.status.text().startswith("Each iteration's") and "why 1" in where.maps[5].title.text()


def test_a_wrong_test_digit_shows_its_maps_for_the_truth_and_the_answer(window, qtbot):
    compare = window.compare
    window.tabs.setCurrentWidget(compare)
    with qtbot.waitSignal(compare.evaluated, timeout=30_000):
        compare.tabs.setCurrentIndex(2)
    item = compare.gallery.item(0)
    index = item.data(Qt.ItemDataRole.UserRole)
    truth = int(compare._test_labels[index])
    with qtbot.waitSignal(compare.mistake_maps.shown, timeout=10_000):
        compare.gallery.setCurrentItem(item)
    true_map, answer_map = compare.mistake_maps.true_map.attribution, compare.mistake_maps.predicted_map.attribution
    assert true_map.target.digit == truth != answer_map.target.digit
    assert f"a {truth}, predicted {answer_map.target.digit}" in item.toolTip()


def test_the_maps_of_a_drawing_that_is_not_a_digit_say_they_explain_a_best_guess(window, qtbot):
    """A circle with a cross: the seven say it is not a digit, so "Why 8" is only what pushed towards a guess."""
    inside = window.inside
    window.tabs.setCurrentWidget(inside)
    stroke(qtbot, window.canvas, loop_stroke())
    stroke(qtbot, window.canvas, [(0.3, 0.25), (0.7, 0.75)])
    draw(qtbot, window.canvas, [(0.7, 0.25), (0.3, 0.75)])
    qtbot.waitUntil(lambda: inside.explanation is not None and inside.explanation.inside.image is window.answers.image,
                    timeout=10_000)
    # The gate's reason: it judges the loops itself (each model alone: too many).
    reason = reason_capitalised(window.answers.recognition.verdict)
    assert inside.status.text().startswith(f"<b>Not a digit?</b> {reason}, so these maps "
                                           "show only what pushed iteration 5 towards its best guess")
