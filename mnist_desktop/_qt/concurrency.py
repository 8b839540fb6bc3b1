"""Every piece of work the window does off the GUI thread goes through here.

A ``Job`` runs a function on a thread of this module's pool and hands its outcome back on the GUI thread
(the shape of superqt's workers): ``returned(value)`` or ``errored(exception)``, then ``finished``. The
function gets the job's own ``JobState``; a function that returns a generator has its yields delivered as
``yielded(value)`` (progress, a training run's events). ``quit()`` asks the job to stop: the state reads
cancelled, and a generator is closed at its next yield unless it stops itself (the training loop does, and
yields ``Stopped``). A running job is kept alive by this module, not by its receivers, and is let go on the
GUI thread once its thread holds no reference to it.

``Latest`` is one owner's stream of jobs, where only the latest request matters (Orange's per-widget
mixin): one job runs at a time; a request made meanwhile waits, replacing any that waits; the running job
is cancelled, and what a cancelled job returns never arrives.

A torch job names its kind (``core.threads.Threads``): its thread count is set on its own thread as it starts,
and it never runs beside the import of torch._dynamo.
"""
from __future__ import annotations

import inspect
import logging
import threading
from functools import lru_cache
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from trainer.errors import MnistDesktopError

from ..core.threads import Threads, torch_job

log = logging.getLogger(__name__)

# Jobs must never wait for each other's thread: recognition beside a training run beside an evaluation.
# How much CPU each takes is set by its torch thread count, not by the pool.
POOL_THREADS = 16


class JobState:
    """What a running job reads (whether it was asked to stop) and reports (progress, which arrives as the
    job's ``yielded``). One per job, made with the job, so a stop can never be erased by another job's start."""

    def __init__(self, report: Callable[[Any], None]) -> None:
        self._cancelled = threading.Event()
        self.report = report

    def cancel(self) -> None:
        self._cancelled.set()

    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class Job(QObject):
    """``func(state)`` off the GUI thread. Connect the signals, then ``start()``; every signal is emitted on
    the GUI thread, so any callable may receive them."""

    started = Signal()  # a thread has picked the job up
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)  # the exception
    finished = Signal()  # last, after returned or errored, or after a quit took effect

    # From the pool thread to this object's slots on the GUI thread.
    _start_on_gui = Signal()
    _yield_on_gui = Signal(object)
    _return_on_gui = Signal(object)
    _error_on_gui = Signal(object)
    _finish_on_gui = Signal()

    def __init__(self, func: Callable[[JobState], Any], threads: Threads | None = None,
                 stops_itself: bool = False, owner: QObject | None = None):
        """``threads``: the kind of torch job, or None for no torch; ``stops_itself``: a generator that reads
        its state and ends on its own (so quit does not close it); ``owner``: once it is deleted (its window
        closed), nothing more arrives."""
        super().__init__()  # no parent: the module keeps it while it runs, whatever its receivers do
        self.state = JobState(self._yield_on_gui.emit)
        self._func = func
        self._threads = threads
        self._stops_itself = stops_itself
        self._discarded = False
        self._yield_on_gui.connect(self._deliver_yield)
        self._return_on_gui.connect(self._deliver_return)
        self._error_on_gui.connect(self._deliver_error)
        self._start_on_gui.connect(self.started)
        self._finish_on_gui.connect(self.finished)
        if owner is not None:
            owner.destroyed.connect(self.discard)

    def start(self) -> Job:
        _keeper().hold(self)
        _pool().start(_Runnable(self))
        return self

    def quit(self) -> None:
        """Ask the job to stop; what it still yields or returns arrives (a training run's Stopped)."""
        self.state.cancel()

    def discard(self) -> None:
        """Stop listening: ask the job to stop, and drop whatever it still yields, returns or raises."""
        self._discarded = True
        self.state.cancel()

    # --- on the pool thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        self._start_on_gui.emit()
        try:
            if self._threads is None:
                self._call()
            else:
                with torch_job(self._threads):
                    self._call()
        except Exception as e:
            if not isinstance(e, MnistDesktopError):  # a bug: keep the window alive and log where it was
                log.error("background job failed", exc_info=True)
            self._error_on_gui.emit(e)
        self._finish_on_gui.emit()

    def _call(self) -> None:
        result = self._func(self.state)
        if not inspect.isgenerator(result):
            self._return_on_gui.emit(result)
            return
        try:
            while True:
                if self.state.cancelled() and not self._stops_itself:
                    result.close()
                    return
                self._yield_on_gui.emit(next(result))
        except StopIteration as end:
            self._return_on_gui.emit(end.value)

    # --- on the GUI thread -------------------------------------------------------------------------------
    @Slot(object)
    def _deliver_yield(self, value: Any) -> None:
        if not self._discarded:
            self.yielded.emit(value)

    @Slot(object)
    def _deliver_return(self, value: Any) -> None:
        if not self._discarded:
            self.returned.emit(value)

    @Slot(object)
    def _deliver_error(self, error: BaseException) -> None:
        if not self._discarded:
            self.errored.emit(error)


class _Runnable(QRunnable):
    """Runs a job, then drops it before telling the keeper, so the job is freed on the GUI thread."""

    def __init__(self, job: Job):
        super().__init__()
        self._job: Job | None = job

    def run(self) -> None:
        job, self._job = self._job, None
        job._run()
        key = id(job)
        del job
        _keeper().release_on_gui.emit(key)


class _Keeper(QObject):
    """Holds every started job until its thread has let go of it; lives on the GUI thread."""

    release_on_gui = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.running: dict[int, Job] = {}
        self.release_on_gui.connect(self._release)

    def hold(self, job: Job) -> None:
        self.running[id(job)] = job

    @Slot(object)
    def _release(self, key: int) -> None:
        self.running.pop(key, None)


@lru_cache(maxsize=1)
def _keeper() -> _Keeper:
    """Made on first use, from the GUI thread: by then the application exists."""
    return _Keeper()


@lru_cache(maxsize=1)
def _pool() -> QThreadPool:
    pool = QThreadPool()
    pool.setMaxThreadCount(POOL_THREADS)
    return pool


def running_jobs() -> int:
    return len(_keeper().running)


def wait_for_jobs(timeout_ms: int) -> bool:
    """Wait up to ``timeout_ms`` for every job to end (the window is closing); False if some still run,
    which the caller must report: Python must then exit without waiting for their threads."""
    return _pool().waitForDone(timeout_ms)


def run_job(func: Callable[[], Any], on_done: Callable[[Any], None], on_failed: Callable[[str], None],
            owner: QObject | None, threads: Threads | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> Job:
    """Start ``func()`` and get its value, or one sentence saying why it failed (``on_error`` also gets the
    exception, for a receiver that tells errors apart); nothing arrives once ``owner`` is deleted."""
    job = Job(lambda _: func(), threads, owner=owner)
    job.returned.connect(on_done)
    job.errored.connect(lambda error: on_failed(describe_error(error)))
    if on_error is not None:
        job.errored.connect(on_error)
    return job.start()


def describe_error(error: BaseException) -> str:
    """The sentence for a failed job: the project's own errors say what to do; anything else is a bug."""
    if isinstance(error, MnistDesktopError):
        return str(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


class Latest(QObject):
    """One owner's jobs where only the latest request matters. One runs at a time; a request made meanwhile
    waits, replacing any that waits. ``cancel_running``: the running job is cancelled by a newer request and
    its outcome dropped; without it (recognition) the answer in hand still arrives, so a stream of requests
    shows answers as it goes instead of none until it pauses."""

    def __init__(self, on_failed: Callable[[str], None], cancel_running: bool = True, parent: QObject | None = None):
        super().__init__(parent)
        self._on_error = lambda error: on_failed(describe_error(error))
        self._cancel_running = cancel_running
        self._running: Job | None = None
        self._waiting: tuple | None = None  # (func, on_done, on_error, threads)

    @property
    def idle(self) -> bool:
        """Nothing runs and nothing waits."""
        return self._running is None and self._waiting is None

    def request(self, func: Callable[[], Any], on_done: Callable[[Any], None],
                on_error: Callable[[BaseException], None] | None = None, threads: Threads | None = None) -> None:
        """Run ``func()`` (a torch job of the kind ``threads``) once the running job has ended; ``on_done(value)``
        unless a newer request came. A failure goes to ``on_error(exception)`` if given, else to the owner's
        ``on_failed(sentence)``."""
        self._waiting = (func, on_done, on_error or self._on_error, threads)
        if self._running is None:
            self._start_waiting()
        elif self._cancel_running:
            self._running.discard()

    def cancel(self) -> None:
        """Drop what waits and what runs: nothing more arrives."""
        self._waiting = None
        if self._running is not None:
            self._running.discard()

    def _start_waiting(self) -> None:
        func, on_done, on_error, threads = self._waiting
        self._waiting = None
        job = self._running = Job(lambda _: func(), threads, owner=self)
        job.returned.connect(on_done)
        job.errored.connect(on_error)
        job.finished.connect(self._on_finished)
        job.start()

    def _on_finished(self) -> None:
        self._running = None
        if self._waiting is not None:
            self._start_waiting()


class WorksWhileVisible:
    """Mixin for a QWidget that keeps only the latest request and handles it (``_compute(*request)``) once it
    is visible: a hidden view does no work."""

    _request: tuple | None = None

    def request(self, *request) -> None:
        self._request = request
        if self.isVisible():
            self._take_request()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._take_request()

    def _take_request(self) -> None:
        if self._request is not None:
            request, self._request = self._request, None
            self._compute(*request)
