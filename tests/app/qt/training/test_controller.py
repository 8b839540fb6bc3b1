"""The widget-free training controller: Stop at any moment, the save policy, bad settings (the study's queue
of runs: test_study_queue.py).

Real training runs on a small subset of the real MNIST, a real background job and a real RunStore in a
temporary folder. A Stop is pressed from a slot on the controller's own signals, so it lands at an exact
point of the run whatever the machine's load.
"""
from __future__ import annotations

import threading

import pytest

from trainer.runs import RunStore
from trainer.training import TrainConfig

from mnist_desktop._qt.training.controller import describe_run

RUN_TIMEOUT_MS = 600_000  # generous: a 2-core machine shared by many; the tests wait on signals, never on time


def tiny(mnist_dir, epochs: int = 1, images: int = 512) -> TrainConfig:
    return TrainConfig(5, epochs=epochs, train_limit=images, data_dir=str(mnist_dir))


def stop_when(signal, controller, condition=lambda *args: True) -> None:
    """Press Stop from inside the slot of ``signal``, the first time ``condition`` holds."""
    def maybe_stop(*args):
        if condition(*args):
            signal.disconnect(maybe_stop)
            controller.stop()

    signal.connect(maybe_stop)


def nothing_saved(store: RunStore) -> bool:
    return store.list_runs() == [] and all(store.active_path(n) is None for n in range(1, 8))


def test_stop_right_after_train_saves_nothing(controller, store, qtbot, mnist_dir):
    with qtbot.waitSignal(controller.runStopped, timeout=RUN_TIMEOUT_MS):
        assert controller.start(tiny(mnist_dir))
        controller.stop()  # before a thread has even picked the run up
    assert nothing_saved(store) and not controller.busy


@pytest.mark.parametrize("moment", ["before the first batch", "mid-epoch", "during the last evaluation"])
def test_stop_at_any_moment_saves_nothing(controller, store, qtbot, mnist_dir, moment):
    if moment == "mid-epoch":
        stop_when(controller.batch, controller)
    else:  # the last progress event comes right before the last epoch is evaluated
        stop_when(controller.batch, controller, lambda e: e.epoch == e.epochs and e.batch == e.batches)
    batches = []
    controller.batch.connect(batches.append)
    with qtbot.waitSignal(controller.runStopped, timeout=RUN_TIMEOUT_MS):
        controller.start(tiny(mnist_dir, images=256 if moment == "during the last evaluation" else 1280))
        if moment == "before the first batch":
            stop_when(controller.job.started, controller)  # the job's signals come through the event loop
    assert nothing_saved(store)
    if moment == "before the first batch":
        assert batches == []


def test_stop_during_the_last_evaluation_keeps_the_epoch_when_asked_but_a_worse_one_is_not_used_unasked(
        controller, store, qtbot, mnist_dir):
    controller.keep_partial = True
    asked = []
    controller.confirm_use_worse = lambda iteration, new, current: asked.append((iteration, new, current)) or False
    stop_when(controller.batch, controller, lambda e: e.epoch == e.epochs and e.batch == e.batches)
    changed = []
    controller.weightsChanged.connect(changed.append)
    with qtbot.waitSignal(controller.runStopped, timeout=RUN_TIMEOUT_MS):
        controller.start(tiny(mnist_dir, images=256))
    runs = store.list_runs()
    assert len(runs) == 1 and runs[0].epochs == 1  # kept, as a past run
    (iteration, new, current), = asked
    assert iteration == 5 and new == runs[0].test_accuracy < current  # 256 images against the shipped weights
    assert store.active_path(5) is None and changed == []  # the person kept the model in use


def test_a_stop_during_the_calibration_wins_over_the_finished_that_follows(
        controller, store, qtbot, mnist_dir, monkeypatch):
    """The run looks at Stop for the last time before it calibrates; a Stop pressed while it calibrates comes
    too late for the run, which yields Finished, and the controller must still save nothing."""
    import trainer.calibration as calibration

    calibrating, proceed = threading.Event(), threading.Event()
    calibrate = calibration.calibrate

    def calibrate_once_stop_is_pressed(*args, **kwargs):
        calibrating.set()
        proceed.wait(RUN_TIMEOUT_MS / 1000)
        return calibrate(*args, **kwargs)

    monkeypatch.setattr(calibration, "calibrate", calibrate_once_stop_is_pressed)
    ended, outcome = [], []
    controller.runStopped.connect(lambda: outcome.append("stopped"))
    controller.runFinished.connect(lambda path: outcome.append("saved"))
    controller.start(tiny(mnist_dir, images=256))
    controller.job.yielded.connect(lambda event: ended.append(type(event).__name__))
    qtbot.waitUntil(calibrating.is_set, timeout=RUN_TIMEOUT_MS)
    controller.stop()
    proceed.set()
    qtbot.waitUntil(lambda: bool(outcome), timeout=RUN_TIMEOUT_MS)
    assert ended[-1] == "Finished" and outcome == ["stopped"] and nothing_saved(store)


def test_bad_settings_are_refused_with_one_sentence(controller, store, qtbot, mnist_dir):
    with qtbot.waitSignal(controller.refused, timeout=1_000) as refused:
        assert not controller.start(dict(iteration=5, epochs=0, data_dir=str(mnist_dir)))
    assert "epochs" in refused.args[0] and "\n" not in refused.args[0]
    assert not controller.busy and store.list_runs() == []


def test_the_log_reads_the_recipe_in_words():
    text = describe_run(TrainConfig(5, train_limit=512))
    assert "Recipe(" not in text
    assert text.startswith("iteration 5: 20 epochs, Adam lr 0.002") and "first 512 training images" in text


def test_a_choice_of_weights_that_cannot_be_written_is_one_sentence_in_the_status(controller, store, qtbot):
    """Revert (or a past run) where the per-user folder cannot take the choice: here the selection's own name
    is a folder, so os.replace really fails. The status says so; nothing raises into Qt's event loop."""
    (store.active_dir / "iteration5").mkdir(parents=True)
    statuses = []
    controller.status.connect(statuses.append)
    with qtbot.assertNotEmitted(controller.weightsChanged):
        assert controller.use_run(5, None) is False
    [status] = statuses
    assert status.startswith(f"{store.active_dir / 'iteration5'} could not be written (it is a folder)")
    assert status.endswith("Iteration 5 keeps the weights it used.")


def test_a_run_whose_statistics_cannot_be_computed_is_kept_and_the_log_says_why(controller, store, qtbot,
                                                                                   mnist_dir):
    lines = []
    controller.logged.connect(lines.append)
    with qtbot.waitSignal(controller.runFinished, timeout=RUN_TIMEOUT_MS):
        assert controller.start(TrainConfig(1, epochs=1, train_limit=5, data_dir=str(mnist_dir)))
    assert any(line.startswith('warning: The "not a digit" statistics of this run cannot be computed from 5 ')
               for line in lines)
    [run] = store.list_runs()
    assert "calibration" not in run.extra
