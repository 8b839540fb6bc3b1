"""The one timer of the project's benchmarks: warm up, call many times, report median and 95th percentile."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch


def latency_ms(fn: Callable[[], object], repeats: int = 1000, warmup: int = 20,
               clock: Callable[[], float] = time.perf_counter) -> tuple[float, float]:
    """``interleaved_latency_ms`` of one function."""
    return interleaved_latency_ms({"": fn}, repeats, warmup, clock)[""]


@torch.inference_mode()  # what the app does when it predicts: no autograd bookkeeping in the figure
def interleaved_latency_ms(fns: dict[str, Callable[[], object]], repeats: int = 1000, warmup: int = 20,
                           clock: Callable[[], float] = time.perf_counter) -> dict[str, tuple[float, float]]:
    """Median and 95th percentile of one call of each of ``fns``, in milliseconds, after ``warmup`` untimed
    calls of each. They are called in turn (one call of each per round) so that the machine's drift in speed
    over the run, as much as 2x here, weighs on each alike: their ratios are comparable."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = clock()
            fn()
            times[name].append((clock() - start) * 1000)
    return {name: (float(np.median(t)), float(np.percentile(t, 95))) for name, t in times.items()}
