"""The start: the first answer first. How fast is the benchmark's to say (mnist-desktop bench --startup); here,
what waits for what."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings

from mnist_desktop._qt import models
from mnist_desktop._qt.window import MainWindow
from mnist_desktop.core.strokes import CANVAS_SIDE
from mnist_desktop.core.threads import Threads


def test_the_models_load_as_a_one_image_job(qtbot, settings_path, monkeypatch):
    """Loading checks each model on a few probe images: one thread, as recognition (core/threads.py)."""
    kinds = []
    real = models.run_job
    monkeypatch.setattr(models, "run_job", lambda func, *args: kinds.append(args[3]) or real(func, *args))
    window = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.predictorReady, timeout=30_000):
        window.start_loading_models()
    assert kinds[0] is Threads.ONE_IMAGE


def test_the_trainer_the_past_runs_and_the_latency_column_wait_for_the_first_answer(qtbot, settings_path):
    """They would compete with the first recognition for the CPU; they start once its answer is shown."""
    window = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    answered_when_started = []
    for name, owner in (("prepare", window.training), ("refresh_runs", window.training),
                        ("time_all", window.models)):
        real = getattr(owner, name)
        setattr(owner, name,
                lambda real=real: answered_when_started.append(bool(window.answers.probabilities)) or real())
    digit = np.zeros((CANVAS_SIDE, CANVAS_SIDE), np.uint8)
    digit[60:220, 130:150] = 255  # a "1", drawn before the models are there
    window.canvas.set_image(digit)
    with qtbot.waitSignals([window.predictorReady, window.training.ready, window.models.timed], timeout=60_000):
        window.start_loading_models()
    assert answered_when_started == [True, True, True]
    assert int(np.argmax(window.answers.probabilities[window.iteration])) == 1
