"""The model made for drawings in the window: offered in the picker and in Compare, and each style MNIST barely
has, drawn with real mouse events, answered right by it."""
import numpy as np
import pytest

from trainer.iterations import DRAWINGS
from trainer.paths import shipped_weights_path

from tests.app.conftest import settle, stroke
from tests.app.core.test_drawn_digits import STYLES, style_drawing

pytestmark = pytest.mark.skipif(not shipped_weights_path(DRAWINGS.number).is_file(),
                                reason="no model made for drawings")


def test_it_is_offered_beside_the_seven(window):
    picker = window.recognise.picker
    assert [picker.itemText(row) for row in range(picker.count())][-1] == "Made for drawings"
    window.set_iteration(DRAWINGS.number)
    assert window.iteration == DRAWINGS.number and window.training.iteration.number() != DRAWINGS.number
    assert "Made for drawings" in window.recognise.card.text()
    assert window.compare.results[DRAWINGS.number].title.text() == "Made for drawings"
    window.tabs.setCurrentWidget(window.compare)
    last_row = len(window.compare.results) - 1
    assert window.compare.table.item(last_row, 0).text() == "Made for\ndrawings"  # two lines: the table fits


def test_each_style_drawn_with_the_mouse_is_read_right(window, qtbot):
    window.set_iteration(DRAWINGS.number)
    for name in STYLES:
        digit, drawing = style_drawing(name, seed=0)
        window.canvas.clear()
        for s in drawing.strokes:
            stroke(qtbot, window.canvas, list(s.points[::3]) + [s.points[-1]])
        settle(qtbot, window)
        answer = int(np.argmax(window.answers.recognition.probabilities[DRAWINGS.number]))
        assert answer == digit, name
