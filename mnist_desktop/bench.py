"""``mnist-desktop bench`` (or ``python -m mnist_desktop.bench``): the app's own figures.

Drawing under load, the GUI thread's ticks during a run, a drawing soak, inference latency, start-up, and a
full run through the Train panel against the CLI loop. Every figure is measured here, on this machine, and
printed (and written as JSON with ``--json``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.checks import path_text
from trainer.files import check_save_path, write_json
from trainer.iterations import DEFAULT_ITERATION, MNIST_SIDE

from .core.strokes import CANVAS_SIDE

MOUSE_HZ = 125  # a common USB mouse report rate: the replayed stroke's points arrive this often
BENCH_ITERATION = DEFAULT_ITERATION  # trained, timed and shown here: the iteration the app opens with


# --- in-process measurements (a real MainWindow, offscreen unless a platform is set) ----------------------
def pause(ms: int) -> None:
    """Run the event loop for ``ms`` milliseconds. Not QTest.qWait: with PySide6 it keeps the interpreter
    lock while it sleeps, and the recognition and training threads then ran at about 1% of their speed."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(condition, timeout_s: float) -> None:
    """Run the event loop until ``condition()`` holds; a TimeoutError after ``timeout_s``."""
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"waited {timeout_s:g} s")
        pause(10)


def nine_stroke(points: int = 300) -> list[tuple[float, float]]:
    """A '9' as a hand draws it, in one stroke: the loop counter-clockwise from its right side, then the tail
    down; ``points`` samples in canvas units, evenly spaced in time as a mouse reports them."""
    loop, tail = int(points * 0.7), points - int(points * 0.7)
    cx, cy, rx, ry = 0.5, 0.33, 0.17, 0.15
    path = [(cx + rx * math.cos(a), cy - ry * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, loop, endpoint=False)]
    path += [(cx + rx - 0.05 * t * t, cy + 0.52 * t) for t in np.linspace(0, 1, tail)]
    return path


@dataclass
class Replay:
    move_ms: list[float]  # GUI-thread time of each delivered move (the event and what it queued)
    delivered: int  # moves handed to the canvas (the rest were coalesced, as a window system does)
    recorded: int  # points in the stroke data afterwards
    prediction: int | None  # the top digit of the iteration in view once the stroke ended
    answer_ms: float  # from the release of the button to the answer for the whole stroke on screen


def replay_stroke(window, points: list[tuple[float, float]], hz: float = MOUSE_HZ) -> Replay:
    """Replay ``points`` as real mouse events at ``hz``, in real time: when the GUI thread falls behind, the
    moves it missed are coalesced into the latest one (as X11 and Qt compress motion), so a slow canvas
    loses points as it does under a person's hand."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    canvas = window.canvas
    area = canvas.drawing_area()

    def at(fx: float, fy: float) -> QPoint:
        return QPoint(round(area.x() + fx * area.width()), round(area.y() + fy * area.height()))

    canvas.clear()
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[0]))
    start, times, delivered, i = time.perf_counter(), [], 1, 1
    while i < len(points):
        due = min(len(points) - 1, int((time.perf_counter() - start) * hz))
        if due < i:
            pause(1)
            continue
        t0 = time.perf_counter()
        QTest.mouseMove(canvas, at(*points[due]))
        QApplication.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
        delivered, i = delivered + 1, due + 1
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[-1]))
    released = time.perf_counter()
    while not window.answers.settled:
        pause(1)  # not wait_until's 10 ms: they would count in the answer time
        if time.perf_counter() - released > 30:
            raise TimeoutError("no answer 30 s after the stroke")
    answer_ms = (time.perf_counter() - released) * 1000
    probabilities = window.answers.probabilities.get(window.iteration)
    return Replay(times, delivered, len(canvas.drawing.strokes[-1].points),
                  None if probabilities is None else int(np.argmax(probabilities)), answer_ms)


def make_window(workdir: Path):
    """A real, shown MainWindow with its models loaded; settings and per-user data in ``workdir``."""
    from PySide6.QtCore import QSettings

    from ._qt.window import MainWindow

    os.environ["XDG_DATA_HOME"] = str(workdir / "data")  # runs started here never reach the real folder
    window = MainWindow(QSettings(str(workdir / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1200, 760)
    window.show()
    ready: list[bool] = []
    window.training.ready.connect(lambda: ready.append(True))
    window.start_loading_models()
    wait_until(lambda: window.predictor is not None and ready, 300)
    return window


def start_load(window, data_dir: str | None) -> None:
    """Start a one-epoch, full-set iteration-5 run through the Train panel (its background job and its
    charts); it runs until ``stop_load``."""
    from trainer.training import TrainConfig

    panel = window.training
    batches: list[object] = []
    panel.controller.batch.connect(batches.append)
    panel.start(TrainConfig(BENCH_ITERATION, epochs=1, data_dir=data_dir, device="cpu"))
    wait_until(lambda: bool(batches), 60)  # past loading MNIST: batches are running


def stop_load(window) -> None:
    window.training.stop()
    wait_until(lambda: not window.training.running, 30)


def drawing_under_load(window, data_dir: str | None, replays: int = 5) -> dict:
    """The '9' replayed ``replays`` times without load (the reference prediction), then as often while a
    training run is active: GUI-thread time per move, points recorded, and the time to the final answer."""
    stroke = nine_stroke()
    idle = [replay_stroke(window, stroke) for _ in range(replays)]
    start_load(window, data_dir)
    try:
        loaded = [replay_stroke(window, stroke) for _ in range(replays)]
    finally:
        stop_load(window)

    def figures(runs: list[Replay]) -> dict:
        moves = np.concatenate([r.move_ms for r in runs])
        return {"move_median_ms": float(np.median(moves)), "move_p99_ms": float(np.percentile(moves, 99)),
                "points_recorded_share": min(r.recorded for r in runs) / len(stroke),
                "answer_median_ms": float(np.median([r.answer_ms for r in runs])),
                "answer_max_ms": float(max(r.answer_ms for r in runs)),
                "predictions": [r.prediction for r in runs]}

    return {"points": len(stroke), "replays": replays, "idle": figures(idle), "loaded": figures(loaded),
            "same_prediction": len({r.prediction for r in idle + loaded}) == 1}


def gui_ticks_while_training(window, data_dir: str | None, images: int = 12_800) -> dict:
    """A 10 ms timer on the GUI thread during a short run through the Train panel, to its end (saving the
    run and loading the new weights included): the gaps between its ticks."""
    from PySide6.QtCore import QTimer

    from trainer.training import TrainConfig

    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    finished: list[str] = []
    window.training.runFinished.connect(finished.append)
    window.training.runFailed.connect(finished.append)
    window.training.controller.confirm_use_worse = lambda *_: True  # use the short run: its reload is timed too
    timer.start()
    if not window.training.start(TrainConfig(BENCH_ITERATION, epochs=1, data_dir=data_dir, device="cpu",
                                             train_limit=images)):
        raise RuntimeError("the Train panel did not start the run")
    wait_until(lambda: bool(finished), 600)
    pause(1000)  # the new weights load in the background meanwhile
    timer.stop()
    gaps = np.diff(ticks) * 1000
    return {"tick_gap_median_ms": float(np.median(gaps)), "tick_gap_p99_ms": float(np.percentile(gaps, 99)),
            "tick_gap_max_ms": float(gaps.max()), "ticks": len(ticks)}


def rss_kib() -> int:
    """This process's resident memory (Linux: /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def soak(window, strokes: int, clear_every: int = 25) -> dict:
    """``strokes`` short strokes of real mouse events through the canvas (predictions included), clearing
    now and then as a person does; memory and the reference count of None at the start, middle and end."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    canvas = window.canvas
    area = canvas.drawing_area()
    rng = np.random.default_rng(0)
    samples: list[dict] = []
    recorded = 0  # strokes that reached the drawing

    def sample(done: int) -> None:
        samples.append({"strokes": done, "rss_kib": rss_kib(), "none_refcount": sys.getrefcount(None)})
        print(f"  soak: {done:>6} strokes, RSS {samples[-1]['rss_kib'] / 1024:7.1f} MiB, "
              f"refcount(None) {samples[-1]['none_refcount']}", flush=True)

    sample(0)
    for done in range(1, strokes + 1):
        x = [int(v) for v in rng.integers(area.left() + 10, area.right() - 10, 2)]
        y = [int(v) for v in rng.integers(area.top() + 10, area.bottom() - 10, 2)]
        before = len(canvas.drawing.strokes)
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x[0], y[0]))
        for t in (0.25, 0.5, 0.75, 1.0):
            QTest.mouseMove(canvas, QPoint(round(x[0] + t * (x[1] - x[0])), round(y[0] + t * (y[1] - y[0]))))
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x[1], y[1]))
        recorded += len(canvas.drawing.strokes) == before + 1
        if done % clear_every == 0:
            canvas.clear()
        QApplication.processEvents()
        if done in (strokes // 2, strokes):
            sample(done)
    wait_until(lambda: window.answers.settled, 30)
    return {"strokes": strokes, "strokes_recorded": recorded, "samples": samples}


# --- measurements in this process without Qt, and in child processes -----------------------------------
def inference_latencies() -> dict:
    """The app's drawing path: its Qt-free preprocessing and predictor, one model and all seven."""
    import torch

    from trainer.augment import normalize
    from trainer.timing import latency_ms

    from .core.predictor import Predictor
    from .core.preprocess import to_mnist

    predictor = Predictor()
    predictor.load_all()
    drawing = np.zeros((CANVAS_SIDE, CANVAS_SIDE), np.uint8)
    drawing[50:230, 120:150] = 255
    x = normalize(torch.from_numpy(to_mnist(drawing)).view(1, 1, MNIST_SIDE, MNIST_SIDE))
    model = predictor.slots[BENCH_ITERATION].model
    one = latency_ms(lambda: model(x))
    seven = latency_ms(lambda: predictor.predict(to_mnist(drawing)), repeats=300)
    one_drawing = latency_ms(lambda: predictor.predict(to_mnist(drawing), [BENCH_ITERATION]), repeats=300)
    return {"one_model_forward_ms": one, "drawing_to_seven_ms": seven, "drawing_to_one_ms": one_drawing}


def recognition_workloads(predictor, drawing) -> tuple:
    """What ``recognition_latency`` times, as two functions of no arguments: the window's recognition of
    ``drawing`` (rendered, all seven, the verdict), and the reference without the verdict (the same
    rendering and the same seven forward passes; it returns each model's logits)."""
    import torch

    from trainer.augment import normalize
    from trainer.calibration import features_and_logits

    from .core.recognition import drawing_input, recognise_one

    def with_verdict():
        return recognise_one(predictor, drawing_input(drawing), BENCH_ITERATION)

    @torch.inference_mode()  # as the predictor runs them: no autograd bookkeeping in the reference either
    def without_verdict() -> dict:
        x = normalize(torch.from_numpy(drawing_input(drawing).image).view(1, 1, MNIST_SIDE, MNIST_SIDE))
        return {i: features_and_logits(predictor.slots[i].parts, x)[1] for i in predictor.available()}

    return with_verdict, without_verdict


def recognition_latency() -> dict:
    """One drawing as the window recognises it (on one intra-op thread): strokes rendered to the 28x28, all
    seven models, the verdict (input checks, the gate). Beside it, called in turn with it: the reference, the
    same drawing rendered and through the same seven forward passes without a verdict; the same recognition
    without the gate (the rule before it: each model's statistics, the pixel model); and the ratios of the
    medians."""
    import torch

    from trainer.timing import interleaved_latency_ms

    from .core.predictor import Predictor
    from .core.strokes import Drawing, Stroke
    from .core.threads import Threads, torch_job

    predictor = Predictor()
    predictor.load_all()
    with_verdict, without_verdict = recognition_workloads(
        predictor, Drawing(strokes=(Stroke(tuple(nine_stroke()), width=0.07),)))
    gate = predictor.gate

    def with_gate():
        predictor.gate = gate
        return with_verdict()

    def without_gate():  # the same recognition with the rule before the gate
        predictor.gate = None
        return with_verdict()

    threads = torch.get_num_threads()
    with torch_job(Threads.ONE_IMAGE):
        timed = interleaved_latency_ms(
            {"with": with_gate, "reference": without_verdict, "without gate": without_gate}, repeats=300)
    torch.set_num_threads(threads)  # torch_job leaves its count on this thread; later work here gets the default
    return {"drawing_to_seven_with_verdict_ms": timed["with"],
            "drawing_to_seven_without_verdict_ms": timed["reference"],
            "verdict_over_without": timed["with"][0] / timed["reference"][0],
            "drawing_to_seven_without_gate_ms": timed["without gate"],
            "gate_over_without_gate": timed["with"][0] / timed["without gate"][0]}


def explanation_latency() -> dict:
    """All the maps of one iteration for one drawing (the Inside view's work): each conv layer's feature maps,
    the logits, and the integrated-gradients maps for the top digit and against the runner-up."""
    from trainer.timing import latency_ms

    from .core.inside import explain
    from .core.predictor import Predictor
    from .core.render import render_strokes
    from .core.strokes import Drawing, Stroke

    predictor = Predictor()
    slot = predictor.load(BENCH_ITERATION)
    image = render_strokes(Drawing(strokes=(Stroke(tuple(nine_stroke()), width=0.07),)))
    return {"all_maps_one_iteration_ms": latency_ms(lambda: explain(slot.model, BENCH_ITERATION, image), repeats=200)}


def app_environment(**extra: str) -> dict[str, str]:
    """The environment for a child ``python -m mnist_desktop``: offscreen unless a platform is already set."""
    return os.environ | {"QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")} | extra


def report_startup(launched: float) -> None:
    """In a child process: open the app as ``mnist-desktop`` does; once the models are ready, put a "1" on the
    canvas; print seconds from ``launched`` (``time.time()``) to the first paint and to the first prediction
    as JSON, then quit."""
    from PySide6.QtCore import QEvent, QObject

    from ._qt.app import main

    class FirstPaint(QObject):
        at: float | None = None

        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint and self.at is None:
                self.at = time.time()
            return False

    painted = FirstPaint()

    def hook(app, window) -> None:
        def predicted() -> None:
            if window.predictor is None or window.answers.image is None:
                return
            window.predicted.disconnect(predicted)
            print(json.dumps({"first_paint_s": painted.at - launched, "first_prediction_s": time.time() - launched}))
            app.quit()

        digit = np.zeros((CANVAS_SIDE, CANVAS_SIDE), np.uint8)
        digit[60:220, 130:150] = 255  # a "1"
        window.installEventFilter(painted)
        window.predicted.connect(predicted)
        window.predictorReady.connect(lambda: window.canvas.set_image(digit))

    main(before_show=hook)
    # The app quit without closing its window (which would save its geometry in the person's settings), so
    # nothing waited for the work started after the first answer: it must end before the interpreter does.
    from ._qt.concurrency import wait_for_jobs

    wait_for_jobs(60_000)


def startup_seconds(repeats: int = 3) -> dict:
    """Launch the app (offscreen) and time its first paint and first prediction; best of ``repeats``."""
    # As the app starts for a person: from the bytecode Python wrote for its modules at the first launch, not
    # compiling them again at each (as PYTHONDONTWRITEBYTECODE, set on some machines, would have it).
    env = {k: v for k, v in app_environment().items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs = []
    for _ in range(repeats):
        code = f"from mnist_desktop.bench import report_startup; report_startup({time.time()!r})"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: min(r[key] for r in runs) for key in runs[0]}


def report_training(iteration: int) -> None:
    """In a child process: open the app, train ``iteration`` under its recipe through the Train panel once
    it is ready, print the seconds as JSON, then quit."""
    from ._qt.app import main

    def hook(app, window) -> None:
        panel = window.training
        started: list[float] = []

        def start() -> None:
            window.tabs.setCurrentWidget(panel)  # the charts are visible and repaint, as for a person watching
            started.append(time.perf_counter())
            panel.start(TrainConfig(iteration, device="cpu"))

        def finished(path: str) -> None:
            print(json.dumps({"gui_train_s": time.perf_counter() - started[0], "checkpoint": path}))
            app.quit()

        from trainer.training import TrainConfig

        panel.controller.confirm_use_worse = lambda *_: True  # nobody is there to answer (a throw-away folder)
        panel.ready.connect(start)
        panel.runFinished.connect(finished)
        panel.runFailed.connect(lambda message: (print(message, file=sys.stderr), app.exit(1)))

    main(before_show=hook)


def gui_versus_cli(data_dir: str | None) -> dict:
    """A full iteration-5 run (its recipe) through the trainer's loop as ``mnist-train train`` runs it, then
    through the app's Train panel in a child process (offscreen); wall-clock seconds of each."""
    from trainer.training import Finished, TrainConfig, train

    start = time.perf_counter()
    config = TrainConfig(BENCH_ITERATION, data_dir=data_dir, device="cpu")
    accuracy = next(e for e in train(config) if isinstance(e, Finished)).checkpoint["test_accuracy"]
    cli = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as user_data:  # the GUI's run goes to a throw-away per-user folder
        env = app_environment(XDG_DATA_HOME=user_data, XDG_CONFIG_HOME=user_data,
                              **({"MNIST_DATA_DIR": data_dir} if data_dir else {}))
        code = f"from mnist_desktop.bench import report_training; report_training({BENCH_ITERATION})"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=3600,
                             check=True)
    gui = json.loads(out.stdout.strip().splitlines()[-1])["gui_train_s"]
    return {"cli_train_s": cli, "cli_test_accuracy": accuracy, "gui_train_s": gui, "gui_over_cli": gui / cli}


# --- the command -----------------------------------------------------------------------------------------
def run_benchmarks(args: argparse.Namespace) -> dict:
    from PySide6.QtWidgets import QApplication

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    json_path = check_save_path(args.json) if args.json else None  # before minutes of benchmarking, not after
    results: dict = {"machine": f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"}
    print(f"machine: {results['machine']}", flush=True)
    if not args.skip_latency:
        results.update(inference_latencies())
        results.update(explanation_latency())
        results.update(recognition_latency())
        for key in ("one_model_forward_ms", "drawing_to_one_ms", "drawing_to_seven_ms",
                    "drawing_to_seven_with_verdict_ms", "drawing_to_seven_without_verdict_ms",
                    "drawing_to_seven_without_gate_ms", "all_maps_one_iteration_ms"):
            median, p95 = results[key]
            print(f"{key:<36}: median {median:.3f} ms, p95 {p95:.3f} ms", flush=True)
        print(f"with the verdict / without, medians in this run: {results['verdict_over_without']:.2f}x "
              "(the issue's 3 ms against its 1.6 ms reference allows 1.88x)", flush=True)
        print(f"with the gate / without it (the rule before it), medians in this run: "
              f"{results['gate_over_without_gate']:.2f}x", flush=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as workdir:
        window = make_window(Path(workdir))
        results["drawing"] = d = drawing_under_load(window, args.data_dir)
        for load, when in (("idle", "idle"), ("loaded", "during a training run")):
            f = d[load]
            print(f"drawing a {d['points']}-point '9' {d['replays']} times, {when}: GUI thread per move median "
                  f"{f['move_median_ms']:.2f} ms, p99 {f['move_p99_ms']:.2f} ms; at least "
                  f"{f['points_recorded_share']:.0%} of the points recorded; answer {f['answer_median_ms']:.1f} ms "
                  f"after the release (median; max {f['answer_max_ms']:.1f} ms); predictions {f['predictions']}",
                  flush=True)
        print(f"same prediction with and without load: {'yes' if d['same_prediction'] else 'NO'}", flush=True)
        if not args.skip_ticks:
            results["gui_ticks"] = t = gui_ticks_while_training(window, args.data_dir)
            print(f"10 ms GUI timer during a 12,800-image run: gaps median {t['tick_gap_median_ms']:.1f} ms, "
                  f"p99 {t['tick_gap_p99_ms']:.1f} ms, max {t['tick_gap_max_ms']:.1f} ms", flush=True)
        if args.soak:
            results["soak"] = soak(window, args.soak)
        window.close()
        app.processEvents()
    if args.startup:
        results["startup"] = s = startup_seconds()
        print(f"app start: first paint {s['first_paint_s']:.2f} s, first prediction {s['first_prediction_s']:.2f} s")
    if args.gui_vs_cli:
        results["full_run"] = r = gui_versus_cli(args.data_dir)
        print(f"full iteration-5 run, CLI loop: {r['cli_train_s']:.1f} s; Train panel: {r['gui_train_s']:.1f} s "
              f"({(r['gui_over_cli'] - 1) * 100:+.1f}%)")
    if json_path:
        print(f"wrote {write_json(json_path, results)}")
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=path_text, help="folder with the four MNIST files (default: "
                                                           "$MNIST_DATA_DIR, then the per-user data folder)")
    parser.add_argument("--json", type=path_text, help="also write the figures to this file")
    parser.add_argument("--soak", type=int, default=0, metavar="STROKES",
                        help="also draw STROKES strokes in one process (20000: a few minutes) and print memory")
    parser.add_argument("--startup", action="store_true", help="also time the app's start (3 launches)")
    parser.add_argument("--gui-vs-cli", action="store_true",
                        help="also time a full iteration-5 run through the CLI loop and through the app (~7 min)")
    parser.add_argument("--skip-latency", action="store_true", help="skip the inference latencies")
    parser.add_argument("--skip-ticks", action="store_true", help="skip the GUI timer during a short run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-desktop bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    run_benchmarks(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
