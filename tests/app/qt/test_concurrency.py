"""The concurrency module with fake jobs: outcomes on the GUI thread, yields, quit, errors, latest wins, cancel,
closing while a job runs; and torch's thread count inside real torch jobs."""
from __future__ import annotations

import gc
import threading

import pytest
from PySide6.QtCore import QObject, QThread

from mnist_desktop._qt.concurrency import Job, Latest, run_job, running_jobs, wait_for_jobs
from mnist_desktop.core.threads import Threads, default_threads
from trainer.errors import MnistDesktopError

WAIT_MS = 10_000


_GUI: list = []  # the GUI thread


@pytest.fixture(autouse=True)
def gui_thread(qapp):
    _GUI[:] = [QThread.currentThread()]
    yield
    assert wait_for_jobs(WAIT_MS)  # no test leaves a job behind


def test_a_function_returns_on_the_gui_thread_off_it(qtbot):
    ran_on, got = [], []
    job = run_job(lambda: ran_on.append(QThread.currentThread()) or 42,
                  lambda value: got.append((value, QThread.currentThread())), got.append, None)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        pass
    assert ran_on[0] is not _GUI[0] and got == [(42, _GUI[0])]


def test_a_generator_yields_progress_then_returns(qtbot):
    def count(state):
        for k in range(3):
            yield k
        return "done"

    job = Job(count)
    yielded, returned = [], []
    job.yielded.connect(yielded.append)
    job.returned.connect(returned.append)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start()
    assert yielded == [0, 1, 2] and returned == ["done"]


def test_quit_closes_a_generator_at_its_next_yield(qtbot):
    step, closed = threading.Event(), []

    def forever(state):
        try:
            while True:
                yield "tick"
                step.wait(WAIT_MS / 1000)
        finally:
            closed.append(True)

    job = Job(forever)
    ticks, returned = [], []
    job.yielded.connect(ticks.append)
    job.returned.connect(returned.append)
    with qtbot.waitSignal(job.yielded, timeout=WAIT_MS):
        job.start()
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.quit()
        step.set()
    assert closed == [True] and returned == [] and len(ticks) <= 2


def test_a_job_that_stops_itself_reads_its_state_and_says_how_it_ended(qtbot):
    go = threading.Event()

    def run(state):
        go.wait(WAIT_MS / 1000)
        yield "stopped" if state.cancelled() else "finished"

    job = Job(run, stops_itself=True)
    yielded = []
    job.yielded.connect(yielded.append)
    job.start()
    job.quit()  # before it looks: the quit cannot be lost
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        go.set()
    assert yielded == ["stopped"]


def test_errors_arrive_as_exceptions_and_as_one_sentence(qtbot):
    def broken():
        raise ValueError("a bug")

    def refused():
        raise MnistDesktopError("Choose another folder.")

    errors, sentences = [], []
    jobs = [run_job(f, lambda _: None, sentences.append, None, on_error=errors.append) for f in (broken, refused)]
    qtbot.waitUntil(lambda: len(sentences) == 2, timeout=WAIT_MS)
    assert sorted(sentences) == ["Choose another folder.", "Unexpected error: ValueError: a bug"]
    assert {type(e) for e in errors} == {ValueError, MnistDesktopError}
    assert all(job.state is not None for job in jobs)


def test_latest_wins_and_a_cancelled_result_never_arrives(qtbot):
    gate = threading.Event()
    latest = Latest(lambda message: None)
    shown, runs = [], []

    def work(n):
        def run():
            runs.append(n)
            if n == 1:
                gate.wait(WAIT_MS / 1000)
            return n
        return run

    latest.request(work(1), shown.append)
    qtbot.waitUntil(lambda: runs == [1], timeout=WAIT_MS)
    for n in (2, 3, 4):
        latest.request(work(n), shown.append)
    gate.set()
    qtbot.waitUntil(lambda: latest.idle, timeout=WAIT_MS)
    assert runs == [1, 4] and shown == [4]  # 2 and 3 never ran; 1 ran but was cancelled by 2


def test_without_cancelling_the_running_job_its_answer_still_arrives(qtbot):
    gate = threading.Event()
    latest = Latest(lambda message: None, cancel_running=False)
    shown = []
    latest.request(lambda: gate.wait(WAIT_MS / 1000) and 1, shown.append)
    latest.request(lambda: 2, shown.append)
    latest.request(lambda: 3, shown.append)
    gate.set()
    qtbot.waitUntil(lambda: latest.idle, timeout=WAIT_MS)
    assert shown == [1, 3]


def test_cancel_drops_what_runs_and_what_waits(qtbot):
    gate = threading.Event()
    latest = Latest(lambda message: None)
    shown = []
    latest.request(lambda: gate.wait(WAIT_MS / 1000) and 1, shown.append)
    latest.request(lambda: 2, shown.append)
    latest.cancel()
    gate.set()
    qtbot.waitUntil(lambda: latest.idle, timeout=WAIT_MS)
    assert shown == []


def test_nothing_arrives_once_the_owner_is_deleted(qtbot):
    gate, got = threading.Event(), []
    owner = QObject()
    job = run_job(lambda: gate.wait(WAIT_MS / 1000) and 1, got.append, got.append, owner)
    with qtbot.waitSignal(owner.destroyed, timeout=WAIT_MS):
        owner.deleteLater()
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        gate.set()
    assert got == []


def test_closing_while_a_job_runs_waits_a_bounded_time_and_says_so(qtbot):
    release = threading.Event()
    job = run_job(lambda: release.wait(WAIT_MS / 1000), lambda _: None, lambda _: None, None)
    del job  # nobody holds it but the module
    gc.collect()
    assert running_jobs() == 1
    assert not wait_for_jobs(50)  # still running: the caller must report it
    release.set()
    assert wait_for_jobs(WAIT_MS)
    qtbot.waitUntil(lambda: running_jobs() == 0, timeout=WAIT_MS)  # let go on the GUI thread


def test_a_finished_job_is_freed_on_the_gui_thread(qtbot):
    freed_on = []

    class Probe:
        def __del__(self):
            freed_on.append(QThread.currentThread())

    probe = Probe()
    job = Job(lambda state, p=probe: None)
    del probe
    job.start()
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        pass
    del job
    qtbot.waitUntil(lambda: running_jobs() == 0, timeout=WAIT_MS)
    gc.collect()
    assert freed_on == [_GUI[0]]


# --- torch's thread count, inside real torch jobs ------------------------------------------------------------
def threads_inside(qtbot, kind: Threads, work=lambda: None) -> int:
    import torch

    seen = []
    job = run_job(lambda: work() or seen.append(torch.get_num_threads()), lambda _: None, seen.append, None, kind)
    with qtbot.waitSignal(job.finished, timeout=120_000):
        pass
    return seen[0]


def test_every_kind_of_torch_job_sets_its_own_count_whatever_ran_before(qtbot):
    import torch

    counts = {kind: threads_inside(qtbot, kind) for kind in (Threads.MANY_IMAGES, Threads.ONE_IMAGE)}
    torch.set_num_threads(3)  # what a thread that last ran something else would leave
    assert threads_inside(qtbot, Threads.ONE_IMAGE) == counts[Threads.ONE_IMAGE] == 1
    assert threads_inside(qtbot, Threads.MANY_IMAGES) == counts[Threads.MANY_IMAGES] == default_threads()
    torch.set_num_threads(default_threads())


def test_the_window_recognises_with_one_thread_and_trains_with_all_but_one(window, qtbot, mnist_dir, monkeypatch):
    """With the real predictor and a real training run: what torch says inside each job."""
    import torch

    from mnist_desktop._qt import recogniser
    import trainer.training as training
    from mnist_desktop.core.recognition import recognise_one
    from trainer.training import TrainConfig

    seen = {}

    def recognise_and_count(*args):
        seen["recognition"] = torch.get_num_threads()
        return recognise_one(*args)

    monkeypatch.setattr(recogniser, "recognise_one", recognise_and_count)
    real_augment = training.augment

    def augment_and_count(*args):
        seen.setdefault("training", torch.get_num_threads())
        return real_augment(*args)

    monkeypatch.setattr(training, "augment", augment_and_count)
    with qtbot.waitSignal(window.training.controller.batch, timeout=120_000):
        window.training.start(TrainConfig(5, epochs=100, data_dir=str(mnist_dir), device="cpu"))
    window.answers.ask()
    qtbot.waitUntil(lambda: window.answers.settled and "recognition" in seen, timeout=30_000)
    with qtbot.waitSignal(window.training.runStopped, timeout=60_000):
        window.training.stop()
    assert seen == {"recognition": 1, "training": max(1, default_threads() - 1)}
