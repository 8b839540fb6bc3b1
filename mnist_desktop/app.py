"""``mnist-desktop``: open the window first, then load the models in the background."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from trainer.paths import APP_NAME

LAUNCH_TIME_ENV = "MNIST_DESKTOP_LAUNCH_TIME"  # set by the benchmark: time.time() when it started us


class FirstPaint(QObject):
    """Records when the window is first painted."""

    def __init__(self):
        super().__init__()
        self.at: float | None = None

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and self.at is None:
            self.at = time.time()
        return False


def measure_startup(app: QApplication, window) -> None:
    """For the benchmark: print seconds from launch to first paint and to the first prediction, then quit."""
    launched = float(os.environ[LAUNCH_TIME_ENV])
    painted = FirstPaint()
    window.installEventFilter(painted)

    def predicted() -> None:
        if window.predictor is None or window.image is None:
            return
        window.predicted.disconnect(predicted)
        print(json.dumps({"first_paint_s": painted.at - launched, "first_prediction_s": time.time() - launched}))
        app.quit()

    def draw_when_ready() -> None:
        import numpy as np

        digit = np.zeros((280, 280), np.uint8)
        digit[60:220, 130:150] = 255  # a "1"
        window.canvas.set_image(digit)

    window.predicted.connect(predicted)
    window.predictorReady.connect(draw_when_ready)


def time_training(app: QApplication, window, iteration: int) -> None:
    """For the benchmark: train ``iteration`` under its recipe through the Train panel; print the seconds."""
    panel = window.training
    started: list[float] = []

    def start() -> None:
        panel.iteration.set_number(iteration)
        window.tabs.setCurrentWidget(panel)  # the charts are visible and repaint, as for a person watching
        started.append(time.perf_counter())
        panel.start()

    def finished(path: str) -> None:
        print(json.dumps({"gui_train_s": time.perf_counter() - started[0], "checkpoint": path}))
        app.quit()

    panel.controller.confirm_use_worse = lambda *_: True  # nobody is there to answer (a throw-away folder)
    panel.ready.connect(start)
    panel.runFinished.connect(finished)
    panel.runFailed.connect(lambda message: (print(message, file=sys.stderr), app.exit(1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-desktop", description="Draw a digit; see what seven CNNs think.")
    parser.add_argument("--measure-startup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--time-training", type=int, metavar="ITERATION", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", help="without one: open the window")
    bench_parser = commands.add_parser("bench", help="measure the app: drawing under load, latency, start-up, soak")
    from . import bench

    bench.add_arguments(bench_parser)
    from . import predict_cli  # listed here for --help; the mnist-desktop command runs it before Qt loads

    predict_cli.add_arguments(commands.add_parser("predict", help="recognise image files without a window "
                                                                  "(see mnist-desktop predict --help)"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "predict":
        return predict_cli.main(argv[1:] if argv is not None else sys.argv[2:])
    if args.command == "bench":
        bench.run_benchmarks(args)
        return 0
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication(sys.argv[:1])
    from .window import MainWindow

    window = MainWindow()
    if args.measure_startup:
        measure_startup(app, window)
    if args.time_training:
        time_training(app, window, args.time_training)
    window.show()
    QTimer.singleShot(0, window.start_loading_models)  # after the first paint is queued
    status = app.exec()
    if window.abandoned_threads:
        # Closing gave up on a busy thread (see MainWindow.closeEvent); Python's normal exit would wait for
        # it or abort destroying it. The settings are written; leave now.
        logging.shutdown()
        os._exit(status)
    return status
