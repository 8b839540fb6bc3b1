"""The recognition thread on its own: latest drawing wins, answers in order, a failure is reported, shutdown."""
import threading

from mnist_desktop._qt import recogniser
from mnist_desktop.core.drawing import Drawing
from mnist_desktop._qt.recogniser import Recogniser, Request


def test_the_latest_drawing_wins_and_a_failure_is_an_answer_too(qtbot, monkeypatch):
    gate = threading.Event()

    def recognise_slowly(predictor, item, headline):
        gate.wait(10)  # the first drawing is in hand while three more are asked for
        if headline == 0:
            raise ValueError("broken")
        return headline

    monkeypatch.setattr(recogniser, "recognise_one", recognise_slowly)
    worker = Recogniser()
    answered, failed = [], []
    worker.recognised.connect(lambda request, result: answered.append((request.number, result)))
    worker.failed.connect(lambda request, message: failed.append((request.number, message)))
    worker.ask(Request(1, Drawing(), 11, None))
    qtbot.waitUntil(lambda: worker._waiting is None, timeout=5000)  # taken by the thread
    for number in (2, 3, 4):
        worker.ask(Request(number, Drawing(), 10 + number, None))
    gate.set()
    qtbot.waitUntil(lambda: len(answered) == 2, timeout=5000)
    assert answered == [(1, 11), (4, 14)]  # 2 and 3 were replaced before they started

    worker.ask(Request(5, Drawing(), 0, None))
    qtbot.waitUntil(lambda: bool(failed), timeout=5000)
    assert failed == [(5, "Recognition failed with an unexpected error: ValueError: broken")]
    assert worker.shutdown(5)
