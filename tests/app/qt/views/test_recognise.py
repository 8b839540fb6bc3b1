"""The Recognise tab's strip of every model's answer, with real mouse strokes and clicks in the real window."""
import numpy as np
from PySide6.QtCore import Qt

from mnist_desktop._qt.widgets.answer_strip import IN_VIEW_STYLE, OTHER_STYLE
from trainer.iterations import MODELS

from tests.app.conftest import draw, loop_stroke, stroke, vertical_stroke


def shown(strip) -> dict[int, str]:
    return {n: cell.digit.text() for n, cell in strip.cells.items()}


def marked(strip) -> list[int]:
    return [n for n, cell in strip.cells.items() if cell.styleSheet() == IN_VIEW_STYLE]


def test_the_strip_shows_every_models_answer_and_a_click_puts_one_in_view(window, qtbot):
    strip = window.recognise.strip
    assert set(shown(strip).values()) == {"–"} and marked(strip) == [5]  # nothing drawn; iteration 5 in view
    draw(qtbot, window.canvas, loop_stroke())
    assert sorted(strip.cells) == sorted(MODELS)
    assert shown(strip) == {n: str(int(np.argmax(p))) for n, p in window.answers.probabilities.items()}
    assert shown(strip)[5] == "0" and strip.cells[5].confidence.text().endswith("%")

    qtbot.mouseClick(strip.cells[3], Qt.MouseButton.LeftButton)
    assert window.iteration == 3 and marked(strip) == [3] and strip.cells[5].styleSheet() == OTHER_STYLE
    assert window.recognise.card.text().startswith("<b>Iteration 3</b>")
    assert window.recognise.panel.digit.text() == shown(strip)[3]

    window.canvas.clear()
    draw(qtbot, window.canvas, vertical_stroke())
    assert shown(strip)[3] == "1" and marked(strip) == [3]
    window.iteration_action[8].trigger()  # Ctrl+8: the model made for drawings; the strip follows
    assert marked(strip) == [8]


def test_the_strip_says_which_models_call_the_drawing_not_a_digit(window, qtbot):
    """A circle with a cross has more closed loops than a digit: every model on its own says "?" and its guess."""
    strip = window.recognise.strip
    stroke(qtbot, window.canvas, loop_stroke())
    stroke(qtbot, window.canvas, [(0.3, 0.25), (0.7, 0.75)])
    draw(qtbot, window.canvas, [(0.7, 0.25), (0.3, 0.75)])
    assert set(shown(strip).values()) == {"?"}
    guesses = {n: f"{int(np.argmax(p))}? {np.max(p) * 100:.0f}%" for n, p in window.answers.probabilities.items()}
    assert {n: cell.confidence.text() for n, cell in strip.cells.items()} == guesses


def test_when_the_drawing_is_not_a_digit_no_cell_says_it_is_one(window, qtbot):
    """An A: the gate calls it a letter while most models on their own read a 4. The strip agrees with the
    panel above it: every cell shows "?" and its guess, none a digit the panel denies."""
    strip = window.recognise.strip
    stroke(qtbot, window.canvas, [(0.19 + 0.04 * i, 0.89 - 0.095 * i) for i in range(9)])  # up to the apex
    stroke(qtbot, window.canvas, [(0.51 + 0.04 * i, 0.13 + 0.095 * i) for i in range(9)])  # down the other side
    draw(qtbot, window.canvas, [(0.32 + 0.05 * i, 0.59) for i in range(9)])  # the bar
    assert window.recognise.panel.digit.text() == "?" and "letter" in window.recognise.panel.verdict.text()
    # some model alone reads a digit
    assert any(verdict.is_digit for verdict in window.answers.recognition.verdicts.values())
    assert set(shown(strip).values()) == {"?"}
