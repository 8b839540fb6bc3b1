"""The attack runner (``python -m tests.attacks``) classifies what it sees as its docstring says; one cheap attack
runs end to end, so a renamed option or module shows here rather than in the next count."""
import sys

import numpy as np
import pytest

from tests.attacks import HERE, MEMORY_CAP, Outcome, Scratch, classify, main

TRACEBACK = "Traceback (most recent call last):\n  ...\nOSError: [Errno 30] Read-only file system\n"


@pytest.mark.parametrize("outcome, verdict, expected", [
    (Outcome(None, "", ""), None, "hang"),
    (Outcome(0, "", "", left_running=[1234]), None, "hang"),
    (Outcome(-9, "", ""), None, "crash"),
    (Outcome(2, "", "", peak_bytes=MEMORY_CAP + 1), None, "crash"),
    (Outcome(1, "", TRACEBACK), None, "traceback"),
    (Outcome(1, "", TRACEBACK), "data loss", "data loss"),  # a traceback that also lost the run
    (Outcome(1, "", TRACEBACK + "\n[judge] data loss: the README was cut"), None, "data loss"),
    (Outcome(0, "saved", ""), "silent wrong result", "silent wrong result"),
    (Outcome(2, "", "error: The README x does not exist.\n"), None, "one sentence"),
])
def test_each_outcome_is_classified_as_the_runner_says(outcome, verdict, expected):
    assert classify(outcome, verdict) == expected


@pytest.mark.skipif(sys.platform != "linux", reason="the runner is Linux's (mounts, rlimits, /proc)")
def test_a_cheap_attack_runs_end_to_end(mnist_dir, capsys):
    assert main(["--only", "evaluate --checkpoint /dev/zero"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("one sentence ") and "one sentence: 1, traceback: 0" in out and "(1 attacks)" in out


@pytest.mark.skipif(sys.platform != "linux", reason="the runner is Linux's (mounts, rlimits, /proc)")
def test_a_command_s_peak_memory_is_its_own_not_the_runner_s(mnist_dir, tmp_path):
    scratch = Scratch(HERE, tmp_path)
    runner_ballast = np.ones(512 << 17)  # 512 MB held by this process while the commands run
    quiet = scratch.run(["-c", "pass"], timeout=60)
    hungry = scratch.run(["-c", "import signal, os; ink = b'x' * (600 << 20); os.kill(os.getpid(), signal.SIGSEGV)"],
                         timeout=60)
    del runner_ballast
    assert quiet.returncode == 0 and quiet.peak_bytes < 200 << 20
    assert hungry.returncode == -11 and 600 << 20 < hungry.peak_bytes < 1000 << 20
