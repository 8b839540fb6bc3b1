"""The main window: the canvas on the left, the tabs' views on the right. It composes the views, wires their
signals and holds the actions; the views, the recognition cycle (recognition.py), the models (models.py), the
canvas's files (drawing_files.py) and the training controller do the work.

The window is built and painted before torch is imported; the models load in the background and
prediction starts as soon as they arrive.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSizePolicy, QSpinBox, QSplitter, QTabWidget

from trainer.errors import MnistDesktopError
from trainer.iterations import DEFAULT_ITERATION, DRAWINGS, ITERATIONS, MODELS, model_title
from trainer.report import read_metrics, read_study

from ..core.settings import Settings, SettingsReader
from ..core.strokes import CANVAS_SIDE
from .concurrency import wait_for_jobs
from .drawing_files import DrawingFiles
from .models import Models
from .recognition import RecognitionCycle
from .training.panel import TrainingPanel
from .views.compare import CompareView
from .views.drawings import DrawingsView, digit_of_key
from .views.inside import InsideView
from .views.recognise import RecogniseView
from .widgets.canvas import BRUSH_WIDTHS, DEFAULT_BRUSH, DrawingCanvas
from .widgets.quit_question import QuitQuestion
from .widgets.status_line import StatusLine
from .widgets.wheel_guard import WheelGuard, guard_wheel

if TYPE_CHECKING:
    from ..core.predictor import Predictor

log = logging.getLogger(__name__)

DEFAULT_SIZE = QSize(1200, 760)
CLOSE_WAIT_MS = 3000  # closing waits this long for the background jobs (a training run's batch, a recognition)


def first_size(available: QSize) -> QSize:
    """The window's size on first launch: 1200×760, or all the screen offers where that is less (a small
    screen, or a large scale factor: 1920×1080 at 2× offers 960×540 units)."""
    return DEFAULT_SIZE.boundedTo(available)


class MainWindow(QMainWindow):
    predictorReady = Signal()
    predicted = Signal()  # a prediction (or "no digit") was shown
    iterationReloaded = Signal(int)  # an iteration's new weights are loaded (after training or a revert)

    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("MNIST Desktop — seven small CNNs")
        self.settings = settings or QSettings()
        self.last_error: str | None = None
        self.abandoned_threads = False  # closing gave up waiting on a job; the process must exit hard
        self.quit_question: QuitQuestion | None = None  # the latest "Quit while training?"
        self.shipped_metrics = read_metrics()
        saved = SettingsReader(self.settings.value, self.settings.contains)

        self.models = Models(self)
        self.answers = RecognitionCycle(lambda: self.canvas.drawing, lambda: self.iteration,
                                        lambda: self.predictor, self)

        self.canvas = DrawingCanvas()
        self.canvas.brush_width = saved.integer(Settings.BRUSH, DEFAULT_BRUSH, BRUSH_WIDTHS)
        self.recognise = RecogniseView()
        self.inside = InsideView()
        self.compare = CompareView(self.shipped_metrics)
        self.compare.set_study(read_study())  # weights/study.json: the shipped multi-seed study
        self.training = TrainingPanel(self.settings)
        self.drawings = DrawingsView()
        self.compare.add_tab(self.drawings.scores, "Your drawings")
        self.tabs = QTabWidget()
        for view, title in ((self.recognise, "Recognise"), (self.inside, "Inside"), (self.compare, "Compare"),
                            (self.training, "Train"), (self.drawings, "Your drawings")):
            self.tabs.addTab(view, title)
        # Both sides expanding: the canvas (expanding) would otherwise take every pixel a resize adds.
        self.tabs.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        splitter = QSplitter()
        splitter.addWidget(self.canvas)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)
        self.status_line = StatusLine(self.statusBar(), self.canvas.changed)
        self.files = DrawingFiles(self.canvas, self.status_line, self.show_error, self)
        self._build_actions()
        self._wire()

        self.set_iteration(saved.integer(Settings.ITERATION, DEFAULT_ITERATION, MODELS))
        geometry = saved.blob(Settings.GEOMETRY)
        if geometry is None or not self.restoreGeometry(geometry):
            if geometry is not None:
                log.warning("settings: the saved window geometry cannot be used; using the default size")
            self.resize(first_size(self.screen().availableGeometry().size()))
        self.status_line.show_state("Loading the models…")

    def _wire(self) -> None:
        controller = self.training.controller
        self.canvas.changed.connect(self.answers.changed)
        self.canvas.strokeFinished.connect(self.answers.flush)
        self.canvas.strokeFinished.connect(self._update_history_actions)
        self.canvas.fileDropped.connect(self.files.open_image)
        self.answers.answered.connect(self.show_prediction)
        self.answers.failed.connect(self.status_line.say_about_drawing)  # no answer for this drawing: none shown
        self.models.loaded.connect(self._on_predictor)
        self.models.reloaded.connect(self._on_reloaded)
        self.models.timed.connect(self.compare.fill_table)
        self.models.failed.connect(self.show_error)
        self.recognise.picker.iterationChanged.connect(self.set_iteration)
        self.recognise.panel.bars.digitClicked.connect(self.label_drawing)
        self.compare.digitChosen.connect(lambda image: self.canvas.set_image(image, model_input=True))
        self.compare.data_dir = controller.data.data_dir or None
        self.compare.dataMissing.connect(controller.data.need_data)  # the Train panel asks for MNIST
        self.training.dataDirChanged.connect(self.compare.set_data_dir)
        self.training.studyFinished.connect(self.compare.set_study)  # a study run from the Train tab
        self.training.weightsChanged.connect(self.models.reload)
        self.training.announce.connect(self.status_line.say_until_replaced)  # a run's end, seen from any tab
        self.drawings.start_fine_tune = controller.fine_tune
        self.drawings.training_speed = controller.measured_speed
        controller.confirm_fine_tune = lambda checkpoint: self.drawings.ask_use_fine_tune(checkpoint)
        controller.busyChanged.connect(self.drawings.set_training_busy)
        self.drawings.said.connect(self.status_line.say)  # replaces "Kept as a 6…" once relabelled
        self.drawings.trainingStarted.connect(lambda: self.tabs.setCurrentWidget(self.training))
        self.iterationReloaded.connect(lambda _: self.drawings.refresh())
        self.tabs.currentChanged.connect(self._show_compare_if_visible)

    # --- actions ---------------------------------------------------------------------------------
    def _action(self, text: str, shortcut, slot, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip or text} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("&Open image…", QKeySequence.StandardKey.Open, self.files.ask_open_image)
        self.save_action = self._action("&Save drawing…", QKeySequence.StandardKey.Save,
                                        self.files.ask_save_drawing)
        self.quit_action = self._action("&Quit", "Ctrl+Q", self.close)  # StandardKey.Quit is none on Windows
        self.undo_action = self._action("&Undo", QKeySequence.StandardKey.Undo, self.canvas.undo,
                                        "Undo the last stroke")
        self.redo_action = self._action("&Redo", QKeySequence.StandardKey.Redo, self.canvas.redo)
        self.clear_action = self._action("&Clear", "Ctrl+L", self.canvas.clear, "Clear the canvas")
        self.eraser_action = self._action("&Eraser", "Ctrl+E", self._toggle_eraser)
        self.eraser_action.setCheckable(True)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([self.open_action, self.save_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action, self.clear_action, self.eraser_action])

        self.iteration_actions = QActionGroup(self)
        self.iteration_action: dict[int, QAction] = {}
        iteration_menu = self.menuBar().addMenu("&Iteration")
        for number in MODELS:
            title = "Made for &drawings" if number == DRAWINGS.number else f"Iteration &{number}"
            action = self._action(title, f"Ctrl+{number}",
                                  lambda _=False, n=number: self.set_iteration(n))
            action.setCheckable(True)
            self.iteration_actions.addAction(action)
            self.iteration_action[number] = action
            iteration_menu.addAction(action)

        toolbar = self.addToolBar("Drawing")
        toolbar.setObjectName("drawing-toolbar")
        toolbar.addActions([self.clear_action, self.undo_action, self.redo_action, self.eraser_action])
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Brush "))
        self.brush = QSpinBox()
        self.brush.setRange(BRUSH_WIDTHS.start, BRUSH_WIDTHS.stop - 1)
        self.brush.setSuffix(" px")
        self.brush.setValue(self.canvas.brush_width)
        self.brush.setToolTip(f"Brush width, in pixels of a {CANVAS_SIDE}-pixel canvas")
        self.brush.valueChanged.connect(self._set_brush)
        # Typing a width ends with the keyboard back on the canvas, so Ctrl+Z undoes strokes again
        # (a focused spin box takes Ctrl+Z for its own text). The wheel changes it only once focused.
        self.brush.editingFinished.connect(self.canvas.setFocus)
        guard_wheel([self.brush], WheelGuard(self))
        toolbar.addWidget(self.brush)
        toolbar.addSeparator()
        toolbar.addActions([self.open_action, self.save_action])
        self._update_history_actions()

    def _toggle_eraser(self) -> None:
        self.canvas.eraser = self.eraser_action.isChecked()

    def _set_brush(self, width: int) -> None:
        self.canvas.brush_width = width
        self.settings.setValue(Settings.BRUSH, width)

    def _update_history_actions(self) -> None:
        self.undo_action.setEnabled(self.canvas.can_undo())
        self.redo_action.setEnabled(self.canvas.can_redo())

    # --- iteration and prediction ----------------------------------------------------------------
    @property
    def predictor(self) -> Predictor | None:
        return self.models.predictor

    @property
    def iteration(self) -> int:
        return self.recognise.picker.number()

    def set_iteration(self, number: int) -> None:
        number = number if number in MODELS else DEFAULT_ITERATION
        if self.recognise.picker.number() != number:
            self.recognise.picker.set_number(number)  # re-enters through iterationChanged
            return
        self.iteration_action[number].setChecked(True)
        self.settings.setValue(Settings.ITERATION, number)
        if number in ITERATIONS:  # Train and Your drawings' scores are the seven's
            if not self.training.running:
                self.training.iteration.set_number(number)  # Train starts from the iteration in view
            self.drawings.set_iteration(number)
        self.update_card()
        self.show_prediction()

    def update_card(self) -> None:
        slot = self.predictor.slots.get(self.iteration) if self.predictor else None
        measured = self.shipped_metrics.get(self.iteration, {}).get("test_accuracy")
        if measured is None and self.iteration == DRAWINGS.number and slot and slot.available:
            measured = slot.info.test_accuracy  # measured on the 10k test set when it was trained
        retrained = slot.info if slot and slot.retrained and slot.available else None
        self.recognise.show_card(self.iteration, measured, retrained, slot.error if slot else None)

    def show_prediction(self) -> None:
        """Show the answer in hand (``answers``) in the views; ``predicted`` follows."""
        answers, slot = self.answers, self.predictor.slots.get(self.iteration) if self.predictor else None
        unavailable = f"{model_title(self.iteration)} is unavailable: {slot.error}" if slot and slot.error else None
        self.recognise.show_result(answers.image, answers.probabilities, unavailable, answers.recognition)
        self.inside.show_drawing(answers.image, self.iteration, slot.model if slot else None,  # works only if shown
                                 answers.recognition.verdict if answers.recognition else None)
        self._show_compare_if_visible()
        self.predicted.emit()

    def _show_compare_if_visible(self) -> None:
        """The seven result cards are restyled only while their tab is in view, and on coming into view."""
        if self.tabs.currentWidget() is self.compare:
            image, probabilities, recognition = self.answers.image, self.answers.probabilities, self.answers.recognition
            self.compare.show_results(image, probabilities, recognition.verdicts if recognition else {},
                                      recognition.verdict if recognition else None)

    def label_drawing(self, digit: int) -> None:
        """Keep the drawing with its label (a key 0-9, or a click on its probability bar) in Your drawings,
        with the answers for the drawing as it is now: a key pressed right after the last stroke waits the
        few milliseconds its recognition takes."""
        self._label_when_recognised(self.canvas.drawing, digit)

    def _label_when_recognised(self, drawing, digit: int) -> None:
        if self.canvas.drawing is not drawing:
            self.status_line.say(f"Not labelled {digit}: the drawing changed before it was recognised. "
                                 "Press the key again.")
            return
        if not self.answers.settled:
            self.predicted.connect(lambda: self._label_when_recognised(drawing, digit),
                                   Qt.ConnectionType.SingleShotConnection)
            return
        try:
            self.status_line.say_about_drawing(self.drawings.keep(drawing, self.answers.image,
                                                                  self.answers.probabilities, digit))
        except MnistDesktopError as e:
            self.show_error(str(e))

    def keyPressEvent(self, event) -> None:
        digit = digit_of_key(event)  # a digit no focused widget took (the canvas passes keys on): a label
        if digit is None:
            super().keyPressEvent(event)
        else:
            self.label_drawing(digit)

    # --- models ----------------------------------------------------------------------------------
    def start_loading_models(self) -> None:
        self.models.load()

    def _on_predictor(self, predictor: Predictor) -> None:
        import torch  # already loaded by the predictor

        self.training.set_cuda_available(torch.cuda.is_available())
        self.compare.set_predictor(predictor)
        self.drawings.set_predictor(predictor)
        self.update_card()
        self.answers.ask()
        self.predicted.connect(self._after_first_answer)
        problems = predictor.problems()
        self.status_line.show_state("Unavailable — " + "; ".join(problems) if problems else
                                    f"{len(predictor.available())} models ready.")
        self.predictorReady.emit()

    def _after_first_answer(self) -> None:
        """Work the first answer does not need starts once it is shown, so as not to compete with it for the
        CPU: the trainer's import, the past runs, the latency column."""
        if not self.answers.settled:
            return
        self.predicted.disconnect(self._after_first_answer)
        self.training.refresh_runs()
        self.training.prepare()
        self.models.time_all()  # the Compare table's latency column

    def _on_reloaded(self, iteration: int) -> None:
        self.compare.set_predictor(self.predictor)
        self.update_card()
        self.answers.ask()
        self.iterationReloaded.emit(iteration)

    # --- errors and closing ----------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """Tell the person in the status bar and a non-blocking dialog; the window keeps working."""
        self.last_error = message
        self.status_line.say(message)
        box = QMessageBox(QMessageBox.Icon.Warning, "MNIST Desktop", message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def confirm_stop_training(self) -> bool:
        """Quit during a run? The run waits at its next batch while asked; the question follows it."""
        controller = self.training.controller
        question = QuitQuestion(*controller.describe_work(), self)
        self.quit_question = question  # for tests
        controller.status.connect(question.show_status)
        controller.busyChanged.connect(question.run_ended)
        controller.pause(True)
        try:
            question.exec()
        finally:
            controller.status.disconnect(question.show_status)
            controller.busyChanged.disconnect(question.run_ended)
            if question.quits():
                controller.stop()  # before it is let go: not one batch more
            controller.pause(False)
        return question.quits()

    def closeEvent(self, event) -> None:
        """Close within a few seconds whatever runs: ask the run to stop, wait a bounded time, and if a job
        is still busy (a batch or an evaluation that takes long), say so and let the process exit without it."""
        if self.training.running and not self.confirm_stop_training():
            event.ignore()
            return
        self.settings.setValue(Settings.GEOMETRY, self.saveGeometry())
        self.settings.sync()
        self.answers.cancel()
        self.training.controller.shutdown()
        if not wait_for_jobs(CLOSE_WAIT_MS):
            log.warning("background jobs still running after %d ms; exiting without waiting for them", CLOSE_WAIT_MS)
            self.abandoned_threads = True
        super().closeEvent(event)
