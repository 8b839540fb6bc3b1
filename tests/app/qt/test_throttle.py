"""The prediction throttle with a real QTimer: at once when idle, then at most once per interval, latest state."""
import pytest

from mnist_desktop._qt.throttle import Throttle


@pytest.fixture
def runs(qtbot):
    """A throttle over a function that records the state it saw, and that state."""
    seen: list[int] = []
    state = {"value": 0}
    throttle = Throttle(lambda: seen.append(state["value"]), interval_ms=50)
    return throttle, seen, state


def test_the_first_call_runs_at_once(runs):
    throttle, seen, _ = runs
    assert throttle.idle
    throttle()
    assert seen == [0] and not throttle.idle


def test_a_burst_runs_once_more_at_the_end_with_the_latest_state(runs, qtbot):
    throttle, seen, state = runs
    throttle()
    for value in (1, 2, 3):
        state["value"] = value
        throttle()
    assert seen == [0]  # folded, not run yet
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=2000)
    assert seen == [0, 3]
    qtbot.waitUntil(lambda: throttle.idle, timeout=2000)
    assert seen == [0, 3]  # nothing ran after the trailing call
    throttle()
    assert seen == [0, 3, 3]  # idle again: at once


def test_flush_runs_now_and_drops_the_pending_call(runs, qtbot):
    throttle, seen, state = runs
    throttle()
    state["value"] = 1
    throttle()
    throttle.flush()
    assert seen == [0, 1]
    qtbot.waitUntil(lambda: throttle.idle, timeout=2000)
    assert seen == [0, 1]


def test_cancel_drops_the_pending_call(runs):
    throttle, seen, state = runs
    throttle()
    state["value"] = 1
    throttle()
    throttle.cancel()
    assert throttle.idle and seen == [0]
    throttle()
    assert seen == [0, 1]
