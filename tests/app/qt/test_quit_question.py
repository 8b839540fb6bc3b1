"""Ctrl+Q during a run: the question says what trains and what quitting loses, the run waits at its next batch
while asked, and if the run ends meanwhile (it was past its last batch) the question says how and asks only
whether to quit. The training loop is a stand-in generator, so every moment is exact whatever the load."""
import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from trainer.checkpoint import read_checkpoint
from trainer.paths import shipped_weights_path
from trainer.runs import RunStore
from trainer.training import BatchProgress, Finished, Stopped, TrainConfig


class StandIn:
    """The training loop's shape: each batch waits for ``step()`` (the test paces the run), then checks Stop,
    then is done. With ``finish`` the first batch is the last: the run then evaluates (until ``release``) and
    ends with that checkpoint, without another stop check."""

    def __init__(self, finish: dict | None = None):
        self.finish = finish
        self.release = threading.Event()
        self.steps = threading.Semaphore(1)
        self.checks = self.answered = 0  # stop checks entered, and returned from

    def step(self) -> None:
        self.steps.release()

    def __call__(self, config, should_stop):
        batch = 0
        while self.steps.acquire(timeout=60):
            self.checks += 1
            stop = should_stop()
            self.answered += 1
            if stop:
                yield Stopped(0, None)
                return
            batch += 1
            yield BatchProgress(1, 1, batch, 10_000, 0.5, 1000.0)
            if self.finish is not None:
                self.release.wait(60)  # the last evaluation
                yield Finished(self.finish)
                return

    @property
    def waiting(self) -> bool:
        return self.checks > self.answered


@pytest.fixture
def active(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def start(window, qtbot, monkeypatch, stand_in: StandIn) -> None:
    monkeypatch.setattr("trainer.training.train", stand_in)
    with qtbot.waitSignal(window.training.controller.progressed, timeout=10_000):
        window.training.start(TrainConfig(5, epochs=1, train_limit=64))


def press_ctrl_q(window, qtbot, answer) -> None:
    """Ctrl+Q; ``answer(question)`` runs once the question is open and clicks one of its buttons."""
    answered = []

    def when_open():
        question = window.quit_question
        if question is not None and question.isVisible():
            try:
                answered.append(answer(question))
            finally:
                if question.isVisible():
                    question.reject()  # a failed check must not leave the question open for ever
        else:
            QTimer.singleShot(10, when_open)

    QTimer.singleShot(0, when_open)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert answered == [None]  # the question was asked, and answered


def test_the_run_waits_while_asked_and_goes_on_when_kept(active, qtbot, monkeypatch):
    window, stand_in = active, StandIn()
    batches = []
    window.training.controller.batch.connect(batches.append)
    start(window, qtbot, monkeypatch, stand_in)

    def answer(question):
        assert question.text().startswith("Iteration 5 is training: epoch 1 of 1")
        assert "waits at its next batch" in question.text()
        assert question.informativeText() == "Stop the run and quit: nothing of this run is saved."
        stand_in.step()
        qtbot.waitUntil(lambda: stand_in.waiting, timeout=10_000)  # held inside its stop check
        assert window.training.running and len(batches) == 1
        qtbot.mouseClick(question.keep_button, Qt.MouseButton.LeftButton)

    press_ctrl_q(window, qtbot, answer)
    assert window.isVisible() and window.training.running
    qtbot.waitUntil(lambda: len(batches) == 2, timeout=10_000)  # the run goes on
    with qtbot.waitSignal(window.training.runStopped, timeout=10_000):
        window.training.stop()
        stand_in.step()


def test_stop_and_quit_ends_the_paused_run_and_saves_nothing(active, qtbot, monkeypatch):
    window, stand_in = active, StandIn()
    start(window, qtbot, monkeypatch, stand_in)

    def answer(question):
        stand_in.step()
        qtbot.waitUntil(lambda: stand_in.waiting, timeout=10_000)
        qtbot.mouseClick(question.quit_button, Qt.MouseButton.LeftButton)

    press_ctrl_q(window, qtbot, answer)
    assert not window.isVisible() and not window.abandoned_threads
    assert RunStore().list_runs() == []


def test_a_run_that_ends_while_asked_turns_the_question_into_quit_or_not(active, qtbot, monkeypatch):
    window = active
    worse = read_checkpoint(shipped_weights_path(5)).as_dict() | {"test_accuracy": 50.0, "seconds": 1.0}
    stand_in = StandIn(finish=worse)
    asked_worse = []
    window.training.controller.confirm_use_worse = lambda *args: asked_worse.append(args) or False
    start(window, qtbot, monkeypatch, stand_in)

    def answer(question):
        assert question.quit_button.text() == "Stop the run and quit"
        stand_in.release.set()  # the run was in its last evaluation: it finishes, is saved, asks about the model
        qtbot.waitUntil(lambda: question.ended, timeout=10_000)
        assert asked_worse and question.windowTitle() == "Quit?"
        assert question.text().startswith("The run has ended. Done in 1.0 s: 50.00% test accuracy, kept as a "
                                          "past run; the better model")
        assert (question.quit_button.text(), question.keep_button.text()) == ("Quit", "Don't quit")
        qtbot.mouseClick(question.keep_button, Qt.MouseButton.LeftButton)

    press_ctrl_q(window, qtbot, answer)
    assert window.isVisible() and not window.training.running and len(RunStore().list_runs()) == 1
    window.close()  # nothing runs: no question
    assert not window.isVisible()
