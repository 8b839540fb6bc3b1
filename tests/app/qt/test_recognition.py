"""The window's recognition cycle on its own, with a stand-in for the core's recognition: the answer in hand
follows the latest drawing, a failure leaves no answer, the canvas's changes are throttled and a stroke's end
is recognised at once."""
from types import SimpleNamespace

import numpy as np

from mnist_desktop._qt import recogniser
from mnist_desktop._qt.recognition import RecognitionCycle
from mnist_desktop.core.strokes import Drawing


def answer_for(predictor, item, headline):
    """The headline stands for the drawing: a broken one (0) fails."""
    if headline == 0:
        raise ValueError("broken")
    return SimpleNamespace(image=np.full((28, 28), headline, np.float32), probabilities={headline: np.ones(10)})


def test_the_answer_follows_the_latest_drawing_and_a_failure_leaves_none(qtbot, monkeypatch):
    monkeypatch.setattr(recogniser, "recognise_one", answer_for)
    headline = [3]
    cycle = RecognitionCycle(Drawing, lambda: headline[0], lambda: None)
    failed = []
    cycle.failed.connect(failed.append)
    with qtbot.waitSignal(cycle.answered, timeout=5000):
        cycle.ask()
    qtbot.waitUntil(lambda: cycle.settled, timeout=5000)
    assert list(cycle.probabilities) == [3] and cycle.image[0, 0] == 3 and cycle.recognition.image is cycle.image

    headline[0] = 0
    with qtbot.waitSignal(cycle.failed, timeout=5000):
        cycle.ask()
    assert cycle.recognition is None and cycle.image is None and cycle.probabilities == {}
    assert failed == ["Recognition failed with an unexpected error: ValueError: broken"]


def test_changes_are_throttled_and_the_end_of_a_stroke_is_not(qtbot, monkeypatch):
    asked = []
    monkeypatch.setattr(recogniser, "recognise_one", lambda predictor, item, headline: asked.append(headline)
                        or answer_for(predictor, item, headline))
    headline = [1]
    cycle = RecognitionCycle(Drawing, lambda: headline[0], lambda: None)
    cycle.changed()  # idle: recognised at once
    for later in (2, 3):
        headline[0] = later
        cycle.changed()  # within the interval: folded into one run at its end
    assert not cycle.settled
    headline[0] = 4
    cycle.flush()  # the stroke ended: now, with the drawing as it is
    qtbot.waitUntil(lambda: cycle.settled, timeout=5000)
    assert asked[0] == 1 and asked[-1] == 4 and 2 not in asked and 3 not in asked
    assert list(cycle.probabilities) == [4]


def test_after_cancel_nothing_waits_and_nothing_arrives(qtbot, monkeypatch):
    monkeypatch.setattr(recogniser, "recognise_one", answer_for)
    cycle = RecognitionCycle(Drawing, lambda: 5, lambda: None)
    cycle.changed()
    cycle.changed()  # waits for the interval's end
    with qtbot.assertNotEmitted(cycle.answered, wait=200):
        cycle.cancel()
    assert cycle.probabilities == {}
