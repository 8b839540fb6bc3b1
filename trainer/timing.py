"""The one timer of the project's benchmarks: warm up, call many times, report median and 95th percentile."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch


@torch.inference_mode()  # what the app does when it predicts: no autograd bookkeeping in the figure
def latency_ms(fn: Callable[[], object], repeats: int = 1000, warmup: int = 20,
               clock: Callable[[], float] = time.perf_counter) -> tuple[float, float]:
    """Median and 95th percentile of one call of ``fn``, in milliseconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append((clock() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95))
