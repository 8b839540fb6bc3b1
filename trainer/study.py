"""``mnist-train study``: every iteration over several seeds, each under its own recipe, with error bars.

A study is a queue of ordinary training runs, one per (iteration, seed) pair. Each finished pair is kept
as a checkpoint in ``<output>/study-runs/`` with its history and the study's own figure beside the honest
one: eval-mode accuracy on the 60k *augmented training* images, which is what the study published as
"test" accuracy. Finished pairs are never redone, so a killed study goes on where it stopped.
``<output>/study.json`` holds the statistics: mean ± sample std and a 95% t-interval per iteration, the mean
learning curve with its spread, and which differences between iterations exceed the seed-to-seed noise
(Welch's t-test, Holm-corrected).

The CLI runs pairs in parallel processes of one thread each (``--jobs``): on 2 CPU cores two one-thread
processes trained 2.3x as many images per second as one two-thread process (``mnist-train bench``).
"""
from __future__ import annotations

import ctypes
import itertools
import logging
import math
import os
import queue
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterator

import torch

from .augment import augment
from .checkpoint import Checkpoint, CheckpointInfo, model_from_checkpoint, read_checkpoint, save_checkpoint
from .checks import number
from .data import load_mnist
from .errors import CheckpointError, ConfigError, MnistDesktopError, WriteError
from .files import make_folder, reason, remove_stale_temps, write_json
from .iterations import DEFAULT_DEVICE, ITERATIONS, MNIST_TRAIN_IMAGES, get_iteration
from .paths import STUDY_RESULTS_FILE
from .stats import holm, summarize, welch_p_value
from .training import BatchProgress, Finished, TrainConfig, train

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

log = logging.getLogger(__name__)

PAIRS_DIR = "study-runs"
SIGNIFICANCE = 0.05
DEFAULT_SEEDS = 5
MAX_SEEDS = 1000  # 7,000 pairs: weeks of training on a CPU; a plan beyond that is a typo
DEFAULT_JOBS = MAX_JOBS = os.cpu_count() or 1  # one single-threaded process per core: measured faster, see above


@dataclass(frozen=True)
class StudyPlan:
    iterations: tuple[int, ...]
    seeds: tuple[int, ...]
    output: Path
    device: str = DEFAULT_DEVICE
    data_dir: str | None = None
    train_limit: int | None = None  # only the first N training images (tests and quick looks)

    def __post_init__(self) -> None:
        for iteration, seed in self.pairs():  # TrainConfig checks each setting, with one sentence for a bad one
            pair_config(self, iteration, seed)

    def pairs(self) -> list[tuple[int, int]]:
        """Seed by seed, so a study cut short still has every iteration."""
        return [(iteration, seed) for seed in self.seeds for iteration in self.iterations]

    def pair_path(self, iteration: int, seed: int) -> Path:
        return self.output / PAIRS_DIR / f"iteration{iteration}-seed{seed}.pt"

    @property
    def train_images(self) -> int:
        return min(self.train_limit or MNIST_TRAIN_IMAGES, MNIST_TRAIN_IMAGES)

    def pair_images(self, iteration: int) -> int:
        """Training images one pair of ``iteration`` goes through (for progress and time left)."""
        return get_iteration(iteration).recipe.epochs * self.train_images


def prepare_output(plan: StudyPlan) -> None:
    """Create the study's folders before anything trains, so an unusable --output costs no training."""
    try:
        (plan.output / PAIRS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"The study cannot write into {plan.output} ({reason(e)}). "
                          "Choose another folder with --output.") from e
    for folder in (plan.output, plan.output / PAIRS_DIR):  # what killed saves left behind
        remove_stale_temps(folder)


def pair_config(plan: StudyPlan, iteration: int, seed: int) -> TrainConfig:
    return TrainConfig(iteration, seed=seed, device=plan.device, data_dir=plan.data_dir,
                       train_limit=plan.train_limit)


def _finished_pair(plan: StudyPlan, iteration: int, seed: int) -> CheckpointInfo | None:
    """The pair's metadata if it was finished under this plan (same iteration, seed and training set)."""
    path = plan.pair_path(iteration, seed)
    if not path.is_file():
        return None
    try:
        info = read_checkpoint(path).info
    except CheckpointError as e:
        log.warning("%s is unusable and will be trained again: %s", path, e)
        return None
    study = info.extra.get("study")
    if (info.iteration != iteration or info.seed != seed or not isinstance(study, dict)
            or study.get("train_limit") != plan.train_limit or not number(0, 100)(study.get("train_set_accuracy"))):
        return None
    return info


def pending_pairs(plan: StudyPlan) -> list[tuple[int, int]]:
    """The pairs still to train, in order."""
    return [pair for pair in plan.pairs() if _finished_pair(plan, *pair) is None]


@torch.no_grad()
def augmented_train_accuracy(model: torch.nn.Module, plan: StudyPlan, seed: int, batch_size: int = 2000) -> float:
    """The study's published figure: eval-mode accuracy on the training images (the 60k, or the plan's first
    ``train_limit``), augmented as in training."""
    images, labels = (t[:plan.train_limit] for t in load_mnist("train", plan.data_dir))
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        x = augment(images[start:start + batch_size], generator)
        correct += int((model(x).argmax(1) == labels[start:start + batch_size]).sum())
    return correct / len(images) * 100


def save_pair(plan: StudyPlan, checkpoint: dict) -> Path:
    """Add the study's figure to a finished pair's checkpoint and keep it (atomically)."""
    checkpoint = Checkpoint.of(checkpoint)
    iteration, seed = checkpoint.info.iteration, checkpoint.info.seed
    study = {"train_set_accuracy": augmented_train_accuracy(model_from_checkpoint(checkpoint), plan, seed),
             "train_limit": plan.train_limit}
    return save_checkpoint(checkpoint.with_extra(study=study).as_dict(), plan.pair_path(iteration, seed))


def run_pair(plan: StudyPlan, iteration: int, seed: int, report: Callable[[int], None],
             should_stop: Callable[[], bool] = lambda: False) -> Path | None:
    """Train one pair, reporting the images done so far in this pair; its path, or None when stopped."""
    batch_size = get_iteration(iteration).recipe.batch_size
    for event in train(pair_config(plan, iteration, seed), should_stop):
        if isinstance(event, BatchProgress):
            report((event.epoch - 1) * plan.train_images + min(event.batch * batch_size, plan.train_images))
        elif isinstance(event, Finished):
            return save_pair(plan, event.checkpoint)
    return None


def write_results(plan: StudyPlan, command: str = "mnist-train study") -> dict:
    """Statistics over every finished pair of the plan, written to ``<output>/study.json``."""
    iterations: dict[str, dict] = {}
    accuracies: dict[int, list[float]] = {}
    devices, versions = set(), set()
    for number in plan.iterations:
        pairs = [c for seed in plan.seeds if (c := _finished_pair(plan, number, seed)) is not None]
        if not pairs:
            continue
        test_accuracy = [c.test_accuracy for c in pairs]
        accuracies[number] = test_accuracy
        summary = summarize(test_accuracy)
        curves = [[epoch["test_accuracy"] for epoch in c.history] for c in pairs]
        curve = [summarize(list(values)) for values in zip(*curves)]
        devices.update(c.device for c in pairs)
        versions.update(c.torch_version for c in pairs)
        train_set_accuracy = [c.extra["study"]["train_set_accuracy"] for c in pairs]
        iterations[str(number)] = {
            "seeds": [c.seed for c in pairs],
            "test_accuracy": test_accuracy,
            "test_loss": [c.test_loss for c in pairs],
            "mean": summary.mean, "std": summary.std, "ci95": list(summary.ci95) if summary.ci95 else None,
            "train_set_accuracy": train_set_accuracy,
            "train_set_mean": summarize(train_set_accuracy).mean,
            "curve_mean": [s.mean for s in curve], "curve_std": [s.std for s in curve],
            "seconds": [round(c.seconds, 1) for c in pairs],
        }
    comparable = [(a, b) for a, b in itertools.combinations(sorted(accuracies), 2)
                  if len(accuracies[a]) > 1 and len(accuracies[b]) > 1]
    p_values = [welch_p_value(accuracies[a], accuracies[b]) for a, b in comparable]
    pairwise = [{"iterations": [a, b], "difference": iterations[str(b)]["mean"] - iterations[str(a)]["mean"],
                 "p_value": p, "p_holm": p_holm, "exceeds_noise": p_holm < SIGNIFICANCE}
                for (a, b), p, p_holm in zip(comparable, p_values, holm(p_values))]
    results = {
        "command": command,
        "evaluated_on": "MNIST 10k test set; train_set_accuracy: eval mode on the 60k augmented training images",
        "test": f"Welch's t-test (two-sided) on the seeds' test accuracies, Holm-corrected over all pairs, "
                f"alpha {SIGNIFICANCE}",
        "iterations": iterations,
        "pairwise": pairwise,
        "recipe": {str(n): ITERATIONS[n].recipe.as_dict() for n in plan.iterations},
        "train_images": plan.train_images,
        "device": ", ".join(sorted(devices)),
        "torch": ", ".join(sorted(versions)),
    }
    write_json(make_folder(plan.output) / STUDY_RESULTS_FILE, results)
    return results


# --- the CLI's parallel runner -------------------------------------------------------------------------
_progress_queue = None  # set in each worker process
_stop = None  # the parent's stop event, set in each worker process

LOCK_FILE = ".study.lock"
PR_SET_PDEATHSIG = 1  # prctl option, <linux/prctl.h>


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel kill this worker when the process that started it dies (even by SIGKILL), so no
    worker trains on, a gigabyte each, for a study nobody waits for. Elsewhere the pool's own shutdown does."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """SIGINT blocked, not lost, while the workers start: a worker inherits the blocked signal, so a Ctrl-C
    while it still imports torch cannot raise KeyboardInterrupt there (its initializer then ignores SIGINT);
    this process gets a Ctrl-C that came meanwhile as soon as this ends."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process group gets Ctrl-C this way
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _init_worker(threads: int, progress_queue, stop, parent: int) -> None:
    global _progress_queue, _stop
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    torch.set_num_threads(threads)
    _progress_queue, _stop = progress_queue, stop


def _run_pair_in_worker(plan: StudyPlan, iteration: int, seed: int) -> tuple[int, int, Path | None]:
    path = run_pair(plan, iteration, seed, lambda done: _progress_queue.put((iteration, seed, done)), _stop.is_set)
    return iteration, seed, path


@contextmanager
def study_lock(output: Path) -> Iterator[None]:
    """Hold ``<output>/.study.lock`` while a study trains: a second study on the same output says so and stops,
    instead of training every pair again beside the first. The kernel releases the lock when the process ends,
    however it ends, so a killed study never leaves a stale one (no lock on Windows, which lacks flock)."""
    if fcntl is None:
        yield
        return
    path = output / LOCK_FILE
    try:
        lock = open(path, "a")
    except OSError as e:
        raise ConfigError(f"The study cannot write into {output} ({reason(e)}). "
                          "Choose another folder with --output.") from e
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"Another study is already training into {output}; wait for it to finish, or choose "
                              "another folder with --output.") from None
        yield


def run_study(plan: StudyPlan, jobs: int, print_line: Callable[[str], None]) -> dict:
    """Train every pending pair, ``jobs`` processes at a time, printing one progress line; then write results.

    A pair that cannot be saved, or a worker that dies, stops the study with one sentence; the pairs finished
    so far are kept and the next run goes on from there."""
    prepare_output(plan)
    with study_lock(plan.output):
        todo = pending_pairs(plan)
        progress = StudyProgress(plan, todo, print_line)
        kept = f"the pairs finished so far are kept in {plan.output / PAIRS_DIR} and the study goes on from there"
        try:
            _train_pairs(plan, todo, jobs, progress)
        except WriteError as e:
            raise WriteError(e.path, e.reason, kept) from e
        except BrokenProcessPool as e:
            raise MnistDesktopError(f"A worker process of the study died (killed, or out of memory); {kept} when "
                                    "run again.") from e
        return write_results(plan)


class StudyProgress:
    """The study's one progress line: pairs done, images per second, time left."""

    def __init__(self, plan: StudyPlan, todo: list[tuple[int, int]], print_line: Callable[[str], None]):
        self.plan, self.print_line = plan, print_line
        self.todo_left = set(todo)
        self.total_images = sum(plan.pair_images(i) for i, _ in plan.pairs())
        self.finished_images = self.total_images - sum(plan.pair_images(i) for i, _ in todo)
        self.done_pairs = len(plan.pairs()) - len(todo)
        self.in_progress: dict[tuple[int, int], int] = {}
        self.start, self.start_images = time.perf_counter(), self.finished_images

    def show(self) -> None:
        images = self.finished_images + sum(self.in_progress.values())
        rate = (images - self.start_images) / max(time.perf_counter() - self.start, 1e-9)
        left = (self.total_images - images) / rate if rate > 0 else math.inf
        left_text = f"{int(left // 60)}:{int(left % 60):02d}" if math.isfinite(left) else "?"
        self.print_line(f"pairs {self.done_pairs}/{len(self.plan.pairs())} · {rate:,.0f} images/s · "
                        f"about {left_text} left")

    def progressed(self, iteration: int, seed: int, images: int) -> None:
        if (iteration, seed) in self.todo_left:  # a worker's last message can arrive after its pair is done
            self.in_progress[(iteration, seed)] = images
            self.show()

    def pair_done(self, iteration: int, seed: int) -> None:
        self.todo_left.discard((iteration, seed))
        self.in_progress.pop((iteration, seed), None)
        self.finished_images += self.plan.pair_images(iteration)
        self.done_pairs += 1
        self.show()


def _train_pairs(plan: StudyPlan, todo: list[tuple[int, int]], jobs: int, progress: StudyProgress) -> None:
    if jobs == 1:  # in this process: no start-up cost, and what the tests drive
        for iteration, seed in todo:
            run_pair(plan, iteration, seed, lambda images: progress.progressed(iteration, seed, images))
            progress.pair_done(iteration, seed)
        return
    if not todo:
        return
    context = get_context("spawn")  # fresh interpreters: torch's thread pools do not survive fork
    messages, stop = context.Queue(), context.Event()
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                             initargs=(threads, messages, stop, os.getpid())) as pool:
        try:
            with _ctrl_c_held():  # the first submit starts every worker
                futures = {pool.submit(_run_pair_in_worker, plan, i, s) for i, s in todo}
            while futures:
                finished, futures = wait(futures, timeout=1.0, return_when=FIRST_COMPLETED)
                try:
                    while True:
                        progress.progressed(*messages.get_nowait())
                except queue.Empty:
                    pass
                for future in finished:
                    progress.pair_done(*future.result()[:2])
        except BaseException:  # Ctrl-C, a failed pair: the workers stop within a batch, not after their pairs
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
