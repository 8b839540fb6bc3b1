"""The study's queue of runs, driving a real controller: pairs in order, Stop mid-queue keeps the finished
pairs, a finished study writes its results, a plan that cannot start is refused with one sentence.

Real training runs on a small subset of the real MNIST (iteration 1: one epoch); a Stop is pressed from a slot
on the controller's own signals, so it lands at an exact point of the queue whatever the machine's load.
"""
from __future__ import annotations

import pytest

from trainer.study import StudyPlan

from mnist_desktop._qt.training.study_queue import StudyQueue

from tests.app.qt.training.test_controller import RUN_TIMEOUT_MS, stop_when

IMAGES = 640


@pytest.fixture
def queue(controller, tmp_path):
    q = StudyQueue(controller)
    q.output = tmp_path / "study"
    return q


def test_the_pairs_run_in_order_and_stop_keeps_the_finished_ones_then_the_study_finishes(
        controller, queue, qtbot, tmp_path, mnist_dir):
    plan = StudyPlan((1,), (0, 1), queue.output, "cpu", str(mnist_dir), IMAGES)
    labels, progress, described = [], [], []
    controller.runStarted.connect(lambda config, label: labels.append(label))
    controller.progressed.connect(progress.append)
    controller.runStarted.connect(lambda *_: described.append(controller.describe_work()[0]))
    stop_when(controller.runStarted, controller, lambda config, label: label == "iteration 1, seed 1")
    with qtbot.waitSignal(controller.runStopped, timeout=RUN_TIMEOUT_MS):
        assert queue.start([1], 2, "cpu", IMAGES, str(mnist_dir))
    assert labels == ["iteration 1, seed 0", "iteration 1, seed 1"]
    assert described[1] == "A study is running, run 2 of 2 (iteration 1, seed 1)."
    first_run = [p for p in progress if p.position == 1]
    assert first_run and all(p.queued == 2 and p.overall_fraction <= 0.5 for p in first_run)  # half the work
    assert plan.pair_path(1, 0).is_file() and not plan.pair_path(1, 1).exists()
    assert not (plan.output / "study.json").exists() and not controller.busy

    # With one seed, nothing is left to train: the finished pair is kept, the results written and announced.
    labels.clear()
    announced = []
    controller.announce.connect(announced.append)
    with qtbot.waitSignal(queue.finished, timeout=RUN_TIMEOUT_MS) as finished:
        assert queue.start([1], 1, "cpu", IMAGES, str(mnist_dir))
    assert labels == [] and finished.args[0]["iterations"]["1"]["seeds"] == [0]
    assert (plan.output / "study.json").is_file() and not controller.busy
    assert announced == [f"The study finished: its results are in Compare and in {plan.output}."]


def test_a_stop_while_the_queue_is_planned_trains_nothing(controller, queue, qtbot, mnist_dir):
    statuses = []
    controller.status.connect(statuses.append)
    with qtbot.assertNotEmitted(controller.runStarted), qtbot.waitSignal(controller.runStopped, timeout=60_000):
        assert queue.start([1, 2], 1, "cpu", IMAGES, str(mnist_dir))
        controller.stop()  # before the finished pairs have been looked for
    assert statuses[-1].startswith("Study stopped: 0 of 2 pair(s) finished in this session")
    assert not controller.busy


@pytest.mark.parametrize("iterations, seeds, sentence", [
    ([], 3, "Tick at least one iteration for the study."),
    ([1], 0, "The study needs at least one seed."),
])
def test_a_choice_that_cannot_make_a_study_is_refused_before_anything_starts(controller, queue, qtbot,
                                                                              iterations, seeds, sentence):
    with qtbot.assertNotEmitted(controller.busyChanged), qtbot.waitSignal(controller.refused, timeout=1_000) as refused:
        assert not queue.start(iterations, seeds, "cpu", IMAGES)
    assert refused.args == [sentence]


def test_a_folder_that_cannot_hold_the_study_is_refused_with_one_sentence(controller, queue, qtbot, tmp_path,
                                                                          mnist_dir):
    queue.output = tmp_path / "a file"
    queue.output.write_text("not a folder")
    busy = []
    controller.busyChanged.connect(busy.append)
    with qtbot.assertNotEmitted(controller.runStarted), qtbot.waitSignal(controller.refused, timeout=60_000) as refused:
        assert queue.start([1], 1, "cpu", IMAGES, str(mnist_dir))
    assert refused.args[0].startswith(f"The study cannot write into {queue.output}") and "\n" not in refused.args[0]
    assert busy == [True, False] and not controller.busy


def test_nothing_starts_while_the_controller_is_busy(controller, queue, qtbot, mnist_dir):
    with qtbot.waitSignal(controller.runStopped, timeout=RUN_TIMEOUT_MS):
        assert queue.start([1], 1, "cpu", IMAGES, str(mnist_dir))
        assert not queue.start([2], 1, "cpu", IMAGES, str(mnist_dir))
        assert not controller.start(dict(iteration=5, data_dir=str(mnist_dir)))
        controller.stop()
