"""The app: open the window first, then load the models in the background."""
from __future__ import annotations

import logging
import os
import sys
from typing import Callable

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from trainer.paths import APP_NAME

from .platform_check import uses_xcb, xcb_problem


def main(before_show: Callable[[QApplication, object], None] | None = None) -> int:
    """Run the window until it closes. ``before_show(app, window)`` may connect to the window's signals
    before anything starts (the benchmark times the start this way)."""
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    if QApplication.instance() is None and uses_xcb():
        problem = xcb_problem()  # Qt would abort inside QApplication() with a less helpful message
        if problem is not None:
            print(problem, file=sys.stderr)
            return 1
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from .window import MainWindow

    window = MainWindow()
    if before_show is not None:
        before_show(app, window)
    window.show()
    QTimer.singleShot(0, window.start_loading_models)  # after the first paint is queued
    status = app.exec()
    if window.abandoned_threads:
        # Closing gave up on a busy thread (see MainWindow.closeEvent); Python's normal exit would wait for
        # it or abort destroying it. The settings are written; leave now.
        logging.shutdown()
        os._exit(status)
    return status
