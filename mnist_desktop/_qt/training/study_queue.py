"""A study from the Train tab: every pending (iteration, seed) pair of a ``StudyPlan`` trained one after the
other through the ``TrainingController``, each saved into the study's folder as it finishes, the results
written once the last is saved. Pairs finished earlier (by an earlier study, stopped or not) are kept and not
trained again. Planning, saving a pair and writing the results read and write files off the GUI thread.

The controller stays busy from the queue's start to its end, so Stop, pause and the quit question work as
for a single run; a Stop ends the queue after the run in progress, which is not saved.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ...core.threads import Threads
from ...core.training_maths import queue_fraction, time_left
from ..concurrency import run_job

if TYPE_CHECKING:
    from trainer.study import StudyPlan
    from trainer.training import TrainConfig

    from .controller import TrainingController


@dataclass
class QueuedRun:
    config: TrainConfig
    label: str  # "iteration 3, seed 1"
    size: float  # its share of the queue's work (training images it goes through)


class StudyQueue(QObject):
    finished = Signal(object)  # study.json's contents

    def __init__(self, controller: TrainingController, parent: QObject | None = None):
        super().__init__(parent)
        self.controller = controller
        self.output: Path | None = None  # None: <per-user data folder>/study
        self._plan: StudyPlan | None = None
        self._runs: list[QueuedRun] = []
        self._done = 0  # runs of the queue finished and saved
        self._started = 0.0

    def start(self, iterations: list[int], seeds: int, device: str, train_limit: int | None,
              data_dir: str | None = None) -> bool:
        """Queue every pending (iteration, seed) pair; False when the controller is busy or the choice is
        refused (``refused`` on the controller says why)."""
        from trainer.paths import user_study_dir
        from trainer.study import StudyPlan

        if self.controller.busy:
            return False
        if not iterations:
            self.controller.refuse("Tick at least one iteration for the study.")
            return False
        if seeds < 1:
            self.controller.refuse("The study needs at least one seed.")
            return False
        return self._plan_study(StudyPlan(tuple(iterations), tuple(range(seeds)),
                                          Path(self.output or user_study_dir()), device, data_dir, train_limit))

    def _plan_study(self, plan: StudyPlan) -> bool:
        from trainer.study import pair_config, pending_pairs, prepare_output

        if not self.controller.start_queue(self):
            return False
        self._plan, self._runs, self._done = plan, [], 0
        self.controller.status.emit("Looking for pairs finished earlier…")

        def plan_queue() -> list[QueuedRun]:  # reads the finished pairs' files: off the GUI thread
            prepare_output(plan)
            return [QueuedRun(pair_config(plan, i, s), f"iteration {i}, seed {s}", plan.pair_images(i))
                    for i, s in pending_pairs(plan)]

        run_job(plan_queue, self._on_planned, self.controller.refuse, self, Threads.MANY_IMAGES)
        return True

    def _on_planned(self, runs: list[QueuedRun]) -> None:
        plan = self._plan
        finished = len(plan.pairs()) - len(runs)
        self.controller.logged.emit(
            f"— study of iterations {', '.join(map(str, plan.iterations))} × {len(plan.seeds)} seed(s) "
            f"into {plan.output}: {len(runs)} pair(s) to train"
            + (f", {finished} finished earlier and kept" if finished else ""))
        self._runs, self._started = runs, time.perf_counter()
        self._next()

    def _next(self) -> None:
        """Train the next pair, or end: stopped between two runs, or every pair saved."""
        if self.controller.stopping:
            self.controller.end_stopped()
        elif self._done == len(self._runs):
            self._write_results()
        else:
            run = self._runs[self._done]
            self.controller.train(run.config, run.label)

    # --- what the controller asks (its RunQueue) -------------------------------------------------
    def place(self, run_fraction: float) -> tuple[float, float | None, int, int]:
        overall = queue_fraction([run.size for run in self._runs], self._done, run_fraction)
        return overall, time_left(time.perf_counter() - self._started, overall), self._done + 1, len(self._runs)

    def keep(self, checkpoint: dict) -> None:
        from trainer.study import save_pair

        plan = self._plan
        # save_pair also measures the study's own figure on the 60k training images: seconds of work.
        run_job(lambda: save_pair(plan, checkpoint), self._on_pair_saved, self.controller.fail, self,
                Threads.MANY_IMAGES)

    def stopped(self) -> tuple[str, str]:
        return (f"Study stopped: {self._done} of {len(self._runs)} pair(s) finished in this session "
                f"and kept in {self._plan.output}; Run the study again to go on.",
                f"study stopped; {self._done} pair(s) finished in this session were kept")

    def describe(self, where: str) -> tuple[str, str]:
        label = f" ({self._runs[self._done].label})" if self._done < len(self._runs) else ""
        return (f"A study is running, run {self._done + 1} of {len(self._runs)}{label}{where}.",
                f"The {self._done} run{'s' * (self._done != 1)} finished so far stay in {self._plan.output}; "
                "the one in progress is not saved.")

    def resume(self, data_dir: str) -> None:
        self._plan_study(replace(self._plan, data_dir=data_dir))

    # --- one pair after the other ----------------------------------------------------------------
    def _on_pair_saved(self, path: Path) -> None:
        self.controller.logged.emit(f"saved {path}")
        self._done += 1
        self._next()

    def _write_results(self) -> None:
        from trainer.study import write_results

        plan = self._plan
        self.controller.status.emit("Writing the study's results…")
        run_job(lambda: write_results(plan, "Run the study (mnist-desktop)"), self._on_written,
                self.controller.fail, self, Threads.MANY_IMAGES)

    def _on_written(self, results: dict) -> None:
        output = self._plan.output
        self.controller.finish(f"Study finished: results in {output}.", f"study finished; results in {output}",
                               f"The study finished: its results are in Compare and in {output}.")
        self.finished.emit(results)
