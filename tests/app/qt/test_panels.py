"""The verdict in the window, with real mouse events: the Recognise panel and the Compare cards."""
import numpy as np

from trainer.iterations import ITERATIONS

from mnist_desktop._qt.widgets.panels import best_guess_note, not_a_digit_html, reason_capitalised
from mnist_desktop.core.verdict import NO_STROKES, SPECK, TOO_MUCH_INK, Verdict

from tests.app.conftest import draw, settle


def seven() -> list[tuple[float, float]]:
    return [(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]


def test_a_drawn_seven_is_a_seven_small_or_large(window, qtbot):
    draw(qtbot, window.canvas, seven())
    assert window.answers.recognition.verdict.digit == 7 and window.recognise.panel.digit.text() == "7"
    assert "confident" in window.recognise.panel.verdict.text() and window.recognise.panel.bars.is_answer
    large = window.answers.image.copy()
    window.canvas.clear()
    # The same 7 in a corner, a quarter of the size, with the same (now wide) brush.
    draw(qtbot, window.canvas, [(0.05 + x / 4, 0.05 + y / 4) for x, y in seven()])
    assert window.recognise.panel.digit.text() == "7"
    assert np.abs(window.answers.image - large).mean() < 0.02  # the preview: the same image reached the models


def test_a_dot_is_a_speck(window, qtbot):
    draw(qtbot, window.canvas, [(0.5, 0.5), (0.505, 0.5)])
    assert window.answers.recognition.verdict.reason == SPECK
    assert window.recognise.panel.digit.text() == "?"
    assert "Not a digit?" in window.recognise.panel.verdict.text() and "speck or a dot" in window.recognise.panel.verdict.text()
    assert "Best guess" in window.recognise.panel.verdict.text()
    assert not window.recognise.panel.bars.is_answer  # the best guess's bar is not drawn as an answer


def test_a_filled_blob_is_a_blob(window, qtbot):
    zigzag = [(0.3 + 0.4 * (k % 2), 0.3 + 0.4 * k / 29) for k in range(30)]  # scribbling an area full
    draw(qtbot, window.canvas, zigzag)
    assert window.answers.recognition.verdict.reason in (TOO_MUCH_INK, NO_STROKES)
    assert "filled blob" in window.recognise.panel.verdict.text()


def test_the_best_guess_is_the_iteration_in_views(window, qtbot):
    """A plus is not a digit for the seven together; switching the iteration in view (no new recognition)
    shows that iteration's best guess and confidence."""
    for points in ([(0.5, 0.2), (0.5, 0.8)], [(0.2, 0.5), (0.8, 0.5)]):
        draw(qtbot, window.canvas, points)
    shown = {}
    for n in ITERATIONS:
        window.iteration_action[n].trigger()
        p = window.answers.probabilities[n]
        guess = f"Best guess: {int(np.argmax(p))} ({p.max() * 100:.0f}%)"
        assert guess in window.recognise.panel.verdict.text()
        shown[n] = guess
    assert len(set(shown.values())) > 1  # the iterations differ, so the text tells which one is in view


def test_a_digit_the_iteration_in_view_doubts_on_its_own_says_so(window, qtbot):
    """A 1 with a long flag from low on the left: a digit for the seven and the gate together, not for iteration
    5 (in view) on its own. Its cell in the strip shows "?", so the panel showing a digit says why."""
    draw(qtbot, window.canvas, [(0.2, 0.5), (0.55, 0.15), (0.55, 0.85)])
    recognition = window.answers.recognition
    assert window.recognise.picker.number() == 5
    assert recognition.verdict.is_digit and not recognition.verdicts[5].is_digit
    assert window.recognise.strip.cells[5].digit.text() == "?"
    assert window.recognise.panel.digit.text() != "?"
    assert "On its own this model doubts it is a digit" in window.recognise.panel.verdict.text()
    window.iteration_action[1].trigger()  # iteration 1 on its own takes it for a digit
    assert recognition.verdicts[1].is_digit and "On its own" not in window.recognise.panel.verdict.text()


def test_each_compare_card_shows_its_own_verdict(window, qtbot):
    window.tabs.setCurrentWidget(window.compare)
    draw(qtbot, window.canvas, seven())
    assert [window.compare.results[n].digit.text() for n in ITERATIONS] == ["7"] * 7
    window.canvas.clear()
    draw(qtbot, window.canvas, [(0.3 + 0.4 * (k % 2), 0.3 + 0.4 * k / 29) for k in range(30)])
    cards = list(window.compare.results.values())
    assert all(card.digit.text() == "?" and "not a digit" in card.confidence.text() for card in cards)
    assert not any(card.bars.is_answer for card in cards)
    assert "filled blob" in cards[0].confidence.toolTip()


def test_a_reason_starts_its_sentence_with_a_capital():
    # Fixed text: the tests in a window build what they expect with reason_capitalised.
    verdict = Verdict(None, "it looks like a letter", 8, 0.71)
    assert reason_capitalised(verdict) == "It looks like a letter"
    assert not_a_digit_html(verdict).endswith("</span> It looks like a letter.<br>Best guess: 8 (71%)")
    assert best_guess_note(verdict, "iteration 5").startswith("<b>Not a digit?</b> It looks like a letter, so")


def test_the_compare_cards_are_headed_by_the_sevens_verdict(window, qtbot):
    """A plus: most of the seven guess 4, but the gate says it is not a digit, and the header says so and why."""
    window.tabs.setCurrentWidget(window.compare)
    stroke_of = [(0.5, 0.2), (0.5, 0.8)], [(0.2, 0.5), (0.8, 0.5)]
    for points in stroke_of:
        draw(qtbot, window.canvas, points)
    verdict = window.answers.recognition.verdict
    assert verdict.reason is not None
    header = window.compare.agreement.text()
    assert "Not a digit?" in header and f"{reason_capitalised(verdict)}." in header
    assert "Best guesses: 4 from" in header and "agree" not in header


def test_a_mistake_loads_as_the_model_saw_it(window, qtbot, mnist_dir):
    window.tabs.setCurrentWidget(window.compare)
    with qtbot.waitSignal(window.compare.evaluated, timeout=60_000):
        window.compare.tabs.setCurrentIndex(2)
    item = window.compare.gallery.item(0)
    index = item.data(256)  # Qt.ItemDataRole.UserRole
    truth, predicted = (int(part) for part in item.text().split(" → "))
    window.compare.gallery.itemClicked.emit(item)
    settle(qtbot, window)
    test_image = window.compare._test_images[index].numpy()
    assert np.array_equal(window.answers.image, test_image.astype(np.float32) / 255)  # no second preprocessing
    assert truth == int(window.compare._test_labels[index]) and truth != predicted
    assert int(np.argmax(window.answers.probabilities[window.compare.mistakes_picker.currentIndex() + 1])) == predicted
