"""What the Train panel computes from training events: the smoothed loss, progress and time left. Qt-free.

A study is a queue of runs of different lengths (iteration 1 trains 1 epoch, the others 20), so progress
across a queue weighs each run by its size instead of counting runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

LOSS_SMOOTHING = 0.1  # weight of the newest batch loss in the running average drawn


@dataclass
class RunningAverage:
    """An exponential moving average; the first value is taken as it is."""

    weight: float = LOSS_SMOOTHING
    value: float | None = None

    def add(self, x: float) -> float:
        self.value = x if self.value is None else (1 - self.weight) * self.value + self.weight * x
        return self.value


def epoch_position(epoch: int, batch: int, batches: int) -> float:
    """Where a batch lies on an epoch axis: epoch 2, batch 50 of 100 is 1.5."""
    return epoch - 1 + batch / batches


def queue_fraction(sizes: Sequence[float], runs_done: int, current_fraction: float) -> float:
    """The share of a queue of runs done: the finished runs plus the done part of the current one, each
    weighed by its size (for example its epochs)."""
    total = sum(sizes)
    if total <= 0 or runs_done >= len(sizes):
        return 1.0
    return (sum(sizes[:runs_done]) + sizes[runs_done] * current_fraction) / total


def time_left(elapsed_s: float, fraction_done: float) -> float | None:
    """Seconds left if the rest goes at the pace so far; None before there is any pace to go by."""
    if fraction_done <= 0:
        return None
    return elapsed_s * (1 - min(fraction_done, 1.0)) / fraction_done


def format_duration(seconds: float) -> str:
    """1:05, or 1:02:03 from an hour up."""
    whole = max(round(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
