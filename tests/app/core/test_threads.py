"""torch's first import (core/threads.py): the cycle collector is paused while it runs and left as it was, and a
half-made torch another thread is importing is waited for, not handed out."""
from __future__ import annotations

import subprocess
import sys

import pytest

IMPORT_AND_REPORT = """
import gc, sys
from mnist_desktop.core.threads import imported_torch

collections = []
gc.callbacks.append(lambda phase, info: collections.append(phase))
{before}
torch = imported_torch()
print(len(collections), gc.isenabled(), torch is sys.modules["torch"])
"""


@pytest.mark.parametrize("collecting", [True, False])
def test_torch_is_imported_without_collections_and_the_collector_is_left_as_it_was(collecting):
    code = IMPORT_AND_REPORT.format(before="" if collecting else "gc.disable()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["0", str(collecting), "True"]


def test_torch_half_imported_by_another_thread_is_waited_for():
    """While another thread runs ``import torch``, torch is already in ``sys.modules``, half made."""
    code = """
import sys, threading
from mnist_desktop.core.threads import imported_torch

threading.Thread(target=lambda: __import__("torch")).start()
while "torch" not in sys.modules:
    pass
print(imported_torch().get_num_threads() > 0)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["True"], out.stderr
