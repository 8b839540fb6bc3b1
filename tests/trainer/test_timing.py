import itertools

import numpy as np

from trainer.timing import interleaved_latency_ms, latency_ms


def test_median_and_p95_of_the_timed_calls_only():
    """A clock that advances 1 ms per reading, and 1-100 extra ms inside the n-th timed call: exact figures."""
    now = itertools.count()
    calls = []
    extra = iter(range(1, 101))

    def clock() -> float:
        return next(now) / 1000

    def fn() -> None:
        calls.append(1)
        if len(calls) > 5:  # the 5 warm-up calls are not timed
            for _ in range(next(extra)):
                clock()

    median, p95 = latency_ms(fn, repeats=100, warmup=5, clock=clock)
    assert len(calls) == 105
    assert abs(median - 51.5) < 1e-9  # 1 ms per call between its two readings, plus 1..100 ms inside
    assert abs(p95 - 96.05) < 1e-9


def test_interleaved_calls_take_turns_and_each_gets_its_own_figures():
    """Two functions taking 1 and 3 extra clock readings: called one after the other in every round (warm-up
    included), and each one's median is its own."""
    now = itertools.count()
    calls = []

    def clock() -> float:
        return next(now) / 1000

    def workload(name: str, readings: int):
        def fn() -> None:
            calls.append(name)
            for _ in range(readings):
                clock()
        return fn

    figures = interleaved_latency_ms({"a": workload("a", 1), "b": workload("b", 3)}, repeats=10, warmup=2,
                                     clock=clock)
    assert calls == ["a", "b"] * 12
    assert figures.keys() == {"a", "b"}
    assert np.allclose(figures["a"], (2.0, 2.0)) and np.allclose(figures["b"], (4.0, 4.0))  # 1 ms + those inside
