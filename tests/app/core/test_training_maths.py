"""The Train panel's smoothing, progress and time-left arithmetic."""
import pytest

from mnist_desktop.core.training_maths import (RunningAverage, epoch_position, format_duration, queue_fraction,
                                               time_left)


def test_the_running_average_starts_at_the_first_value_then_moves_by_its_weight():
    average = RunningAverage(weight=0.25)
    assert average.add(2.0) == 2.0
    assert average.add(6.0) == pytest.approx(0.75 * 2.0 + 0.25 * 6.0)
    assert average.value == pytest.approx(3.0)


def test_epoch_position():
    assert epoch_position(1, 10, 10) == 1.0
    assert epoch_position(2, 50, 100) == 1.5


def test_queue_fraction_weighs_each_run_by_its_size():
    sizes = [1, 20, 20]  # iteration 1 (1 epoch), then two 20-epoch runs
    assert queue_fraction(sizes, 0, 0.0) == 0.0
    assert queue_fraction(sizes, 1, 0.0) == pytest.approx(1 / 41)
    assert queue_fraction(sizes, 1, 0.5) == pytest.approx(11 / 41)
    assert queue_fraction(sizes, 3, 0.0) == 1.0
    assert queue_fraction([], 0, 0.0) == 1.0


def test_time_left_follows_the_pace_so_far():
    assert time_left(30.0, 0.25) == pytest.approx(90.0)
    assert time_left(30.0, 1.0) == 0.0
    assert time_left(5.0, 0.0) is None


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (59.6, "1:00"), (65, "1:05"), (3723, "1:02:03"),
                                           (-3, "0:00")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
