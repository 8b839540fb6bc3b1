"""The Train panel's logic, without a widget: a run, Stop, and what is saved. Where MNIST is (and its
download) is the ``DataLocator``'s job (data_locator.py); a run that misses MNIST asks it, and goes on once it
is there. A study is a queue of such runs, one after the other: the ``StudyQueue`` (study_queue.py) holds
it and trains each run through this controller, which stays busy from the queue's start to its end.

Every run is a job of the concurrency module (the trainer's event generator, its events as the job's
yields) with its own state, made when the run starts: a Stop is never erased by the start of that run or the
next. Events of a run that is no longer the current one (dropped when the window closes) never arrive. The
views only show what this emits and call its methods.

Save policy: a finished run is saved as a past run in the one ``RunStore``; it is put in use unless it is
worse than the model in use, when ``confirm_use_worse`` (a dialog the panel supplies) decides. A stopped run
saves nothing unless ``keep_partial`` is set, in which case its last completed epoch is handled like a
finished run. A Stop that arrives after the run's last look at it (while the finished run calibrates) still
wins over the Finished that follows. Saving, listing and planning read and write files off the GUI thread;
which run an iteration uses (one small file) is written on it, so the choice holds before anything reloads.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from PySide6.QtCore import QObject, QSettings, Signal

from trainer.errors import MnistDesktopError

from ...core.training_maths import epoch_position, time_left
from ...core.threads import Threads
from ..concurrency import Job, JobState, run_job
from .data_locator import DataLocator

if TYPE_CHECKING:
    from trainer.runs import RunInfo, RunStore
    from trainer.training import TrainConfig

log = logging.getLogger(__name__)

RUNS_LISTED = 10

def describe_run(config: TrainConfig) -> str:
    """The run's recipe in words, for the log."""
    r = config.recipe()
    images = f"the first {config.train_limit:,} training images" if config.train_limit else "all training images"
    return (f"iteration {config.iteration}: {r.epochs} epoch{'s' * (r.epochs != 1)}, Adam lr {r.lr:g} "
            f"(×{r.lr_gamma:g} every {r.lr_step_epochs} epochs), batch {r.batch_size}, "
            f"augmentation {'on' if r.augment else 'off'}, seed {config.seed}, {images}, device {config.device}")


def list_saved_runs(store: RunStore, limit: int = RUNS_LISTED) -> list[tuple[RunInfo, datetime]]:
    """The newest saved runs with the time each was saved. Reads files: call it off the GUI thread."""
    runs = []
    for run in store.list_runs(limit):
        try:
            runs.append((run, datetime.fromtimestamp(run.path.stat().st_mtime)))
        except OSError:  # deleted since it was listed
            continue
    return runs


def training_run(config: TrainConfig, state: JobState, go: threading.Event):
    """The trainer's events for ``config``, until it ends or ``state`` is cancelled (checked every batch);
    while ``go`` is cleared the run waits at its next check."""
    from trainer.training import train

    def should_stop() -> bool:
        go.wait()
        return state.cancelled()

    return train(config, should_stop)


@dataclass
class Progress:
    """Where the run in progress and its queue stand, after a batch."""

    epoch: int
    epochs: int
    run_fraction: float
    overall_fraction: float  # over the whole queue (a study), or the run
    seconds_left: float | None  # for the whole queue
    images_per_s: float
    position: int  # 1-based place of the run in the queue
    queued: int  # runs in the queue


class RunQueue(Protocol):
    """Runs that follow one another while the controller stays busy (the study: study_queue.py). The queue
    gives the controller each run (``train``); the controller asks it what only the queue knows."""

    def place(self, run_fraction: float) -> tuple[float, float | None, int, int]:
        """With the run in progress at ``run_fraction``: the queue's fraction done, its seconds left, the
        run's 1-based position and the number of runs queued."""

    def keep(self, checkpoint: dict) -> None:
        """The run in progress finished: save it, then train the next run or end the queue."""

    def stopped(self) -> tuple[str, str]:
        """The status and the log line of the queue when a Stop ends it."""

    def describe(self, where: str) -> tuple[str, str]:
        """``describe_work``'s two sentences for the queue; ``where`` says where its run in progress is."""

    def resume(self, data_dir: str) -> None:
        """MNIST was missing and is in ``data_dir`` now: start the queue again."""


class TrainingController(QObject):
    busyChanged = Signal(bool)  # a run or study started (True) or ended (False)
    runStarted = Signal(object, str)  # TrainConfig, its label in a study ("" for a single run)
    batch = Signal(object)  # trainer BatchProgress of the run in progress
    epoch = Signal(object)  # trainer EpochEnd
    progressed = Signal(object)  # Progress
    status = Signal(str)  # one line saying what is happening
    logged = Signal(str)  # a line for the log
    refused = Signal(str)  # the settings are not valid: the sentence says why; nothing started
    runFinished = Signal(str)  # the saved run's path
    runStopped = Signal()
    runFailed = Signal(str, bool)  # the message, whether MNIST was missing (then data.dataMissing follows)
    weightsChanged = Signal(int)  # an iteration now uses other weights
    announce = Signal(str)  # a sentence for outside the Train tab (the status bar)
    runsListed = Signal(list)  # [(RunInfo, saved datetime)], newest first

    def __init__(self, settings: QSettings, store: RunStore | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._store = store
        self.data = DataLocator(settings, self)
        self.data.logged.connect(self.logged)
        self.keep_partial = False  # on Stop, keep the last completed epoch
        # Asked when a finished run is worse than the model in use: (iteration, new, in use) -> use the new one?
        self.confirm_use_worse: Callable[[int, float, float], bool] = lambda iteration, new, current: False
        # Asked after every fine-tune on the person's drawings (its checkpoint has both figures) -> use it?
        self.confirm_fine_tune: Callable[[dict], bool] = lambda checkpoint: False
        # The settings a run takes besides those it is given (a fine-tune): the Train form's, which the panel
        # supplies; TrainConfig's fields.
        self.run_settings: Callable[[], dict[str, Any]] = dict
        self._busy = False
        self.job: Job | None = None  # the run whose events are listened to
        self._config: TrainConfig | None = None  # of the run in progress (or of the queue's latest)
        self._run_started = 0.0
        self._queue: RunQueue | None = None  # set while a queue of runs (a study) keeps this busy
        self._stop_requested = False
        self._go = threading.Event()  # cleared: the run waits at its next batch (see pause)
        self._go.set()
        self._progress: Progress | None = None  # of the run in progress, after its latest batch
        self.runs: list[tuple[RunInfo, datetime]] = []  # as last listed
        self._speed: float | None = None  # training images/s of this session's latest epoch

    @property
    def store(self) -> RunStore:
        """The window's RunStore; one of our own only where none was passed (it imports torch)."""
        if self._store is None:
            from trainer.runs import RunStore

            self._store = RunStore()
        return self._store

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def stopping(self) -> bool:
        """Stop was pressed since the run (or the queue) started: a queue starts no other run."""
        return self._stop_requested

    # --- starting and stopping -------------------------------------------------------------------
    def start(self, config: TrainConfig | dict[str, Any]) -> bool:
        """Start one run, from a config or the form's values; False (and ``refused``) when it cannot start."""
        from trainer.training import TrainConfig

        if self._busy:
            return False
        try:
            config = config if isinstance(config, TrainConfig) else TrainConfig(**config)
        except MnistDesktopError as e:
            self.refused.emit(str(e))
            return False
        self._stop_requested = False
        self._set_busy(True)
        self.train(config)
        return True

    def fine_tune(self, iteration: int, drawings: str, weights: str, epochs: int, mnist_images: int | None) -> bool:
        """Fine-tune ``iteration`` from ``weights`` on ``mnist_images`` of MNIST (None: all) plus the drawings
        ZIP for ``epochs``, with a fine-tune's learning rate and the run settings' other values; as ``start``."""
        from trainer.extra_data import fine_tune_defaults
        from trainer.iterations import ITERATIONS

        return self.start(self.run_settings() | fine_tune_defaults(ITERATIONS[iteration].recipe)
                          | {"iteration": iteration, "epochs": epochs, "train_limit": mnist_images,
                             "extra_data": drawings, "init_from": weights})

    def measured_speed(self) -> float | None:
        """Training images/s on this machine: this session's latest epoch, else the newest past run's."""
        if self._speed is not None:
            return self._speed
        return next((run.history[-1]["images_per_s"] for run, _ in self.runs if run.history), None)

    def start_queue(self, queue: RunQueue) -> bool:
        """Stay busy for ``queue`` (a study) until it ends: its runs come through ``train``, its end through
        ``finish``, ``fail``, ``refuse`` or ``end_stopped``. False when busy."""
        if self._busy:
            return False
        self._stop_requested = False
        self._queue = queue
        self._set_busy(True)
        return True

    def train(self, config: TrainConfig, label: str = "") -> None:
        """Train one run while busy: a single run's, or the next of the queue's (``label`` names it there)."""
        self._config, self._progress = config, None
        self._run_started = time.perf_counter()
        job = self.job = Job(lambda state: training_run(config, state, self._go), Threads.TRAINING,
                             stops_itself=True, owner=self)
        job.yielded.connect(lambda event: self._on_event(job, event))
        job.errored.connect(lambda error: self._on_failed(job, error))
        self.status.emit("Loading MNIST…")
        self.logged.emit(f"— {describe_run(config)}")
        self.runStarted.emit(config, label)
        job.start()

    def stop(self) -> None:
        """Stop the run (and the rest of the queue). Safe at any moment: the run's own flag is set at once."""
        if not self._busy:
            return
        self._stop_requested = True
        if self.job is not None:
            self.job.quit()
        self._go.set()  # a paused run must reach its stop check
        self.status.emit("Stopping…")

    def pause(self, paused: bool) -> None:
        """Hold the run at its next batch (a study also before its next run) while the person is asked
        something; False lets it go on."""
        (self._go.clear if paused and not self._stop_requested else self._go.set)()

    def describe_work(self) -> tuple[str, str]:
        """What trains now, and what ending it now (closing the window) loses: two sentences, for a question
        asked meanwhile. Only while busy."""
        progress = self._progress
        where = f": epoch {progress.epoch} of {progress.epochs}, {progress.run_fraction:.0%} done" if progress else ""
        if self._queue is not None:
            return self._queue.describe(where)
        config = self._config
        doing = "being fine-tuned on your drawings" if config.extra_data else "training"
        return f"Iteration {config.iteration} is {doing}{where}.", "Nothing of this run is saved."

    def shutdown(self) -> None:
        """Stop the run and the download; nothing they still send arrives (the window is closing and waits
        for the concurrency module's jobs)."""
        self.stop()
        if self.job is not None:
            self.job.discard()
            self.job = None
        self.data.shutdown()

    def _set_busy(self, busy: bool) -> None:
        if not busy:  # the run, or the queue, has ended
            self._queue = self._config = None
        self._busy = busy
        self.busyChanged.emit(busy)

    # --- events of the run in progress -----------------------------------------------------------
    def _on_event(self, job: Job, event) -> None:
        from trainer.training import BatchProgress, EpochEnd, Finished

        if job is not self.job:
            return  # a run that was cancelled: its late events never arrive
        if isinstance(event, BatchProgress):
            self._on_batch(event)
        elif isinstance(event, EpochEnd):
            self._speed = event.images_per_s
            self.epoch.emit(event)
            self.logged.emit(
                f"epoch {event.epoch}/{event.epochs}: train loss {event.train_loss:.4f} acc {event.train_accuracy:.2f}%"
                f" · test loss {event.test_loss:.4f} acc {event.test_accuracy:.2f}% · lr {event.lr:g} · "
                f"{event.seconds:.1f} s, {event.images_per_s:,.0f} images/s"
                + (f" · your held-out drawings {event.extra_accuracy:.1f}%"
                   if event.extra_accuracy is not None else ""))
        else:  # Finished or Stopped: the run has ended
            self.job = None
            if isinstance(event, Finished) and not job.state.cancelled():  # a Stop during the calibration wins
                if event.problem:  # kept without the "not a digit" statistics: say so
                    self.logged.emit(f"warning: {event.problem}")
                self._save(event.checkpoint, stopped=False)
            elif event.checkpoint is not None and self.keep_partial and self._queue is None:
                self._save(event.checkpoint, stopped=True)
            else:
                self.end_stopped()

    def _on_batch(self, event) -> None:
        run_fraction = epoch_position(event.epoch, event.batch, event.batches) / event.epochs
        if self._queue is not None:
            overall, seconds_left, position, queued = self._queue.place(run_fraction)
        else:
            overall, position, queued = run_fraction, 1, 1
            seconds_left = time_left(time.perf_counter() - self._run_started, run_fraction)
        self.batch.emit(event)
        self._progress = progress = Progress(event.epoch, event.epochs, run_fraction, overall, seconds_left,
                                             event.images_per_s, position, queued)
        self.progressed.emit(progress)

    def _on_failed(self, job: Job, error: BaseException) -> None:
        from trainer.errors import DataNotFoundError

        if job is not self.job:
            return
        self.job = None
        config, queue = self._config, self._queue
        data_missing = isinstance(error, DataNotFoundError)
        text = (str(error) if isinstance(error, MnistDesktopError) else
                f"Training failed with an unexpected error: {type(error).__name__}: {error}")
        self.logged.emit(f"failed: {text}")
        self._set_busy(False)
        self.status.emit("Training failed." if not data_missing else "MNIST is needed to train.")
        self.runFailed.emit(text, data_missing)
        if data_missing:
            def resume(folder: str) -> None:  # MNIST is there now: the run, or the study, starts again with it
                if queue is not None:
                    queue.resume(folder)
                else:
                    self.start(replace(config, data_dir=folder))

            self.data.need_data(text, resume)

    # --- what is kept ----------------------------------------------------------------------------
    def _save(self, checkpoint: dict, stopped: bool) -> None:
        """Save off the GUI thread: a run of the queue as the queue keeps it, a single run as a past run."""
        self.status.emit("Saving…")
        if self._queue is not None:
            self._queue.keep(checkpoint)
            return
        store = self.store

        def save() -> tuple[Path, dict, float | None, bool]:
            from trainer.errors import WriteError
            from trainer.runs import accuracy_in_use, keep_run

            current = accuracy_in_use(store, checkpoint["iteration"])
            try:
                return store.save(checkpoint, activate=False), checkpoint, current, stopped
            except WriteError as e:  # kept elsewhere if anywhere; the sentence says where
                raise keep_run(checkpoint, e, store) from e

        run_job(save, self._on_run_saved, self.fail, self, Threads.MANY_IMAGES)

    def _on_run_saved(self, saved: tuple[Path, dict, float | None, bool]) -> None:
        path, checkpoint, current, stopped = saved
        iteration, accuracy = checkpoint["iteration"], checkpoint["test_accuracy"]
        if "fine_tune" in checkpoint:  # MNIST's figure alone cannot judge it: the person decides
            use = self.confirm_fine_tune(checkpoint)
        else:
            use = current is None or accuracy >= current or self.confirm_use_worse(iteration, accuracy, current)
        if use:
            use = self.use_run(iteration, path, say=False)
        if use:
            in_use = "now in use"
        elif current is None or "fine_tune" in checkpoint:
            in_use = "kept as a past run; the model in use stays"
        else:
            in_use = f"kept as a past run; the better model ({current:.2f}%) stays in use"
        self.refresh_runs()
        if stopped:
            epochs = checkpoint["epochs"]
            self.end_stopped(f"Stopped; kept the {epochs} completed epoch{'s' * (epochs != 1)}: "
                              f"{accuracy:.2f}% test accuracy, {in_use}.", f"stopped; kept epoch {epochs} as {path}")
            return
        self.logged.emit(f"saved {path}")
        self.status.emit(f"Done in {checkpoint['seconds']:.1f} s: {accuracy:.2f}% test accuracy, {in_use}.")
        fine_tune = checkpoint.get("fine_tune")
        how = f"fine-tuned on your {fine_tune['drawings']} drawings" if fine_tune else "retrained"
        self.announce.emit(f"Iteration {iteration} {how}: {accuracy:.2f}% test accuracy, {in_use}.")
        self._set_busy(False)
        self.runFinished.emit(str(path))

    # --- endings -------------------------------------------------------------------------------
    def end_stopped(self, status: str = "Stopped; nothing saved.", log_line: str = "stopped; nothing saved") -> None:
        """A Stop ended the run (a queue says how far it got) or came between two runs of the queue."""
        if self._queue is not None:
            status, log_line = self._queue.stopped()
        self.status.emit(status)
        self.logged.emit(log_line)
        self._set_busy(False)
        self.runStopped.emit()

    def fail(self, message: str) -> None:
        """Saving failed (a run, a study's pair or its results): ``message`` says what was kept, if anything."""
        self._set_busy(False)
        self.status.emit(message)
        self.logged.emit(f"failed to save: {message}")
        self.runFailed.emit(message, False)

    def refuse(self, message: str) -> None:
        """Nothing starts, and ``message`` says why; a queue refused before its first run ends."""
        if self._queue is not None:
            self._set_busy(False)
        self.refused.emit(message)

    def finish(self, status: str, log_line: str, announcement: str) -> None:
        """The queue is done: said in the status, the log and outside the Train tab."""
        self.status.emit(status)
        self.logged.emit(log_line)
        self.announce.emit(announcement)
        self._set_busy(False)

    # --- past runs -------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """List the saved runs off the GUI thread; ``runsListed`` brings them."""
        store = self.store
        run_job(lambda: list_saved_runs(store), self._on_runs_listed, self._on_runs_unreadable, self,
                Threads.MANY_IMAGES)

    def _on_runs_listed(self, runs: list) -> None:
        self.runs = runs
        self.runsListed.emit(runs)

    def _on_runs_unreadable(self, message: str) -> None:
        self.logged.emit(f"the past runs could not be read: {message}")

    def use_run(self, iteration: int, path: Path | None, say: bool = True) -> bool:
        """Use a past run for ``iteration``; None goes back to the shipped weights. Said in the status and the
        status bar (unless ``say`` is False: a finished run says it its own way). False, with the sentence in
        the status, when the choice cannot be written (a read-only or full per-user folder)."""
        try:
            self.store.activate(iteration, path)
        except MnistDesktopError as e:
            self.status.emit(f"{e} Iteration {iteration} keeps the weights it used.")
            self.logged.emit(f"could not change the weights of iteration {iteration}: {e}")
            return False
        self.logged.emit(f"iteration {iteration} uses {path}" if path else
                         f"iteration {iteration} uses the shipped weights again")
        if say:
            said = self._in_use_sentence(iteration, path)
            self.status.emit(said)
            self.announce.emit(said)
        self.weightsChanged.emit(iteration)
        return True

    def _in_use_sentence(self, iteration: int, path: Path | None) -> str:
        """What iteration now uses, with its test accuracy (from the runs listed, or the shipped metrics)."""
        if path is None:
            from trainer.report import read_metrics

            accuracy = read_metrics().get(iteration, {}).get("test_accuracy")
            figure = f" ({accuracy:.2f}% test accuracy)" if accuracy is not None else ""
            return f"Iteration {iteration} uses its shipped weights again{figure}."
        listed = {run.path: (run, saved) for run, saved in self.runs}
        if path not in listed:
            return f"Iteration {iteration} now uses the run saved as {Path(path).name}."
        run, saved = listed[path]
        return (f"Iteration {iteration} now uses the run saved {saved:%Y-%m-%d %H:%M} "
                f"({run.test_accuracy:.2f}% test accuracy).")
