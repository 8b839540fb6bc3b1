"""How many intra-op threads torch uses, chosen for each of the app's threads that run models. Qt-free.

One image through a small model gains nothing from a second intra-op thread, which mostly waits for the
first, and while a training run holds the other core each parallel op waits for a thread that is not
running; so the recognition thread uses one. A training run in the window leaves one core to drawing and
recognising (in two runs of ``mnist-desktop bench`` the answer after a stroke came in 9.6 and 11.4 ms during
a training run, against 15.2 and 19.9 ms with torch's default threads). These networks gain little from a
second thread anyway (``mnist-train bench``: two one-thread processes trained 2.3x one two-thread process).
``torch.set_num_threads`` also sets the default of every thread that has not used torch yet, so these two
threads set their own; the thread pool's tasks (the Inside maps, Compare's evaluation) keep the count last
set when they first used torch: one, or all but one.
"""
from __future__ import annotations

import torch

DEFAULT_THREADS = torch.get_num_threads()  # torch's choice for this machine, read before anything changes it
RECOGNITION_THREADS = 1
TRAINING_THREADS = max(1, DEFAULT_THREADS - 1)
