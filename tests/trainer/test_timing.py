import itertools

from trainer.timing import latency_ms


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
