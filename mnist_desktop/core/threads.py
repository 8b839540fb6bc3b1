"""How many intra-op threads torch uses, chosen for each of the app's threads that run models. Qt-free.

One image through a small model gains nothing from a second intra-op thread, which mostly waits for the
first, and while a training run holds the other core each parallel op waits for a thread that is not
running; so the recognition thread uses one. A training run in the window leaves one core to drawing and
recognising: with every core training, the GUI thread waited for the CPU, moves were late and points of
the stroke were lost (``mnist-desktop bench`` prints both cases). These networks gain little from a
second thread anyway (``mnist-train bench``: two one-thread processes trained 2.3x one two-thread process).
``torch.set_num_threads`` also sets the default of every thread that has not used torch yet, so each of
these threads sets its own.
"""
from __future__ import annotations

import torch

DEFAULT_THREADS = torch.get_num_threads()  # torch's choice for this machine, read before anything changes it
RECOGNITION_THREADS = 1
TRAINING_THREADS = max(1, DEFAULT_THREADS - 1)
