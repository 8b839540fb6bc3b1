"""Recognition on its own: latest drawing wins, answers in order, a failure is reported and recognition goes on."""
import threading

from mnist_desktop._qt import recogniser
from mnist_desktop._qt.recogniser import Recogniser
from mnist_desktop.core.strokes import Drawing


def test_the_latest_drawing_wins_and_a_failure_is_an_answer_too(qtbot, monkeypatch):
    gate, started = threading.Event(), threading.Event()

    def recognise_slowly(predictor, item, headline):
        started.set()
        gate.wait(10)  # the first drawing is in hand while three more are asked for
        if headline == 0:
            raise ValueError("broken")
        return headline

    monkeypatch.setattr(recogniser, "recognise_one", recognise_slowly)
    worker = Recogniser()
    answered, failed = [], []
    worker.recognised.connect(answered.append)
    worker.failed.connect(failed.append)
    worker.ask(Drawing(), 11, None)
    qtbot.waitUntil(started.is_set, timeout=5000)
    for headline in (12, 13, 14):
        worker.ask(Drawing(), headline, None)
    assert not worker.settled
    gate.set()
    qtbot.waitUntil(lambda: worker.settled, timeout=5000)
    assert answered == [11, 14]  # 12 and 13 were replaced before they started; the one in hand still answered

    worker.ask(Drawing(), 0, None)
    qtbot.waitUntil(lambda: worker.settled, timeout=5000)
    assert failed == ["Recognition failed with an unexpected error: ValueError: broken"]
    worker.ask(Drawing(), 15, None)
    qtbot.waitUntil(lambda: worker.settled, timeout=5000)
    assert answered[-1] == 15  # a failure does not end recognition
