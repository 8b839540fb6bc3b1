"""Your drawings: the drawings you labelled, one row per digit, each marked right or wrong by the iteration in
view; delete, relabel, export, import, and fine-tune the iteration on them.

The view only shows and forwards: core.drawing_store keeps the drawings and measures the iterations on them, the
training controller runs the fine-tune (the window hands the view its ``start_fine_tune``). Reading the store,
measuring, importing, exporting, relabelling and deleting run off the GUI thread; keeping a newly labelled
drawing (one small PNG and its JSON) and writing the fine-tune's ZIP as the run starts happen on it, so the
label and the run use the drawings as they are at that moment.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QGridLayout, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QScrollArea, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from trainer.errors import MnistDesktopError
from trainer.iterations import ITERATIONS

from ...core.drawing_store import DrawingStore, LabelledDrawing, evaluate_on
from ...core.threads import Threads
from ..concurrency import Latest, run_job
from ..widgets.confusion import ConfusionTable
from ..widgets.dialogs import ask_to_use
from ..widgets.panels import mnist_pixmap
from ..widgets.fine_tune_dialog import FineTuneDialog, FineTuneSettings
from ..widgets.undo_bar import UndoBar, a_digit

if TYPE_CHECKING:
    from trainer.evaluation import Evaluation

    from ...core.predictor import Predictor
    from ...core.strokes import Drawing

THUMBNAIL = 56
RIGHT_COLOR, WRONG_COLOR = QColor("#27ae60"), QColor("#c0392b")
DIGIT_KEYS = {getattr(Qt.Key, f"Key_{d}"): d for d in range(10)}
ZIP_FILTER = "Drawings ZIP (*.zip)"
NO_DRAWINGS = "No drawings yet: draw a digit, then press its key (0-9) or click its bar under Recognise."
UNDO_STEPS = 20  # changes to the drawings that Undo can take back, latest first


@dataclass(frozen=True)
class Undo:
    """How to take back one change to the drawings: ``work`` runs off the GUI thread, then ``said`` is shown."""

    work: Callable[[], object]
    said: str  # "The drawing labelled 7 is back."
    tip: str  # what the Undo button does: "Bring back the drawing labelled 7"


def digit_of_key(event) -> int | None:
    """The digit of a plain (or keypad) key press 0-9, else None: Ctrl+1 and the like are shortcuts."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return DIGIT_KEYS.get(event.key()) if modifiers == Qt.KeyboardModifier.NoModifier else None


def thumbnail(image: np.ndarray, answer: int | None, label: int) -> QIcon:
    """The 28x28 image framed green when ``answer`` is the label, red when not, plain when unknown."""
    pixmap = mnist_pixmap(image / 255.0, THUMBNAIL)
    if answer is not None:
        painter = QPainter(pixmap)
        painter.setPen(QPen(RIGHT_COLOR if answer == label else WRONG_COLOR, 4))
        painter.drawRect(pixmap.rect().adjusted(2, 2, -2, -2))
        painter.end()
    return QIcon(pixmap)


class DigitKeys(QObject):
    """On a row of drawings: 0-9 relabels the selected drawing, Delete removes it (before the list's own
    type-to-search takes the digits)."""

    def __init__(self, view: DrawingsView):
        super().__init__(view)
        self.view = view

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return False
        digit = digit_of_key(event)
        if digit is not None:
            self.view.relabel_selected(digit)
            return True
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.view.delete_selected()
            return True
        return False


class DrawingsScores(QWidget):
    """For Compare: each iteration's accuracy on your drawings beside its MNIST test accuracy, and the
    confusion on your drawings of the iteration in view."""

    COLUMNS = ["Iteration", "MNIST test accuracy", "Your drawings", "Right"]

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.status = QLabel(NO_DRAWINGS)
        self.status.setWordWrap(True)
        self.table = QTableWidget(len(ITERATIONS), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # all seven in view, no scrolling
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height()
                                  + len(ITERATIONS) * rows.defaultSectionSize() + 2 * self.table.frameWidth())
        self.confusion_title = QLabel("")
        self.confusion = ConfusionTable()
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addWidget(self.confusion_title)
        layout.addWidget(self.confusion, 1)

    def show_scores(self, predictor: Predictor | None, count: int, evaluations: dict[int, Evaluation],
                    iteration: int) -> None:
        self.status.setText(f"{count} drawing{'s' * (count != 1)} of yours, measured with the weights each "
                            "iteration uses now." if count else NO_DRAWINGS)
        for row, n in enumerate(ITERATIONS):
            slot = predictor.slots.get(n) if predictor else None
            mnist = slot.info.test_accuracy if slot and slot.info else None
            result = evaluations.get(n)
            right = sum(result.confusion[d][d] for d in range(10)) if result else None
            values = [str(n), f"{mnist:.2f}%" if mnist is not None else "–",
                      f"{result.accuracy:.1f}%" if result else "–", f"{right} of {count}" if result else "–"]
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        result = evaluations.get(iteration)
        self.confusion_title.setText(f"Iteration {iteration} on your drawings (rows: your label, columns: its answer)")
        self.confusion.show_confusion(result.confusion if result else None)


class DrawingsView(QWidget):
    refreshed = Signal()  # the rows show the store as it is now, measured with the weights in use
    said = Signal(str)  # what an action here did (relabel, delete, import, export, undo), in one sentence
    trainingStarted = Signal()  # a fine-tune began

    def __init__(self, store: DrawingStore | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store or DrawingStore()
        # (iteration, drawings ZIP, weights to start from, epochs, MNIST images or None for all) -> started?
        # The training controller's fine_tune.
        self.start_fine_tune: Callable[[int, str, str, int, int | None], bool] = lambda *settings: False
        self.training_speed: Callable[[], float | None] = lambda: None  # images/s measured on this machine
        self.training_busy = False  # a training run is in progress
        self.predictor: Predictor | None = None
        self.iteration = next(iter(ITERATIONS))
        self.drawings: list[LabelledDrawing] = []
        self.evaluations: dict[int, Evaluation] = {}
        self.load_problems: list[str] = []  # drawings files that cannot be read
        self.task_problems: list[str] = []  # what the last import, export or fine-tune could not do
        self._refreshes = Latest(self._on_load_failed, parent=self)  # the latest is shown
        self.undo_steps: list[Undo] = []  # the latest change last
        self.scores = DrawingsScores()  # shown in Compare
        # What only a person can answer; tests replace these.
        self.ask_export_path: Callable[[], str] = lambda: QFileDialog.getSaveFileName(
            self, "Export your drawings", "my-drawings.zip", ZIP_FILTER)[0]
        self.ask_import_path: Callable[[], str] = lambda: QFileDialog.getOpenFileName(
            self, "Import drawings", "", f"{ZIP_FILTER};;All files (*)")[0]
        self.ask_label: Callable[[int], int | None] = self._ask_label
        self.ask_use_fine_tune: Callable[[dict], bool] = self._ask_use_fine_tune
        self.ask_fine_tune: Callable[[FineTuneSettings], FineTuneSettings | None] = self._ask_fine_tune

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.notice = UndoBar()  # what the last action did, and Undo while it can be taken back
        self.notice.undoClicked.connect(self.undo)
        self.messages = QLabel("")  # what went wrong with files: one sentence each
        self.messages.setWordWrap(True)
        self.messages.setStyleSheet("color: #c0392b")
        self.messages.hide()
        self.relabel_button = QPushButton("Relabel…")
        self.delete_button = QPushButton("Delete")
        self.export_button = QPushButton("Export ZIP…")
        self.import_button = QPushButton("Import ZIP…")
        self.fine_tune_button = QPushButton("Fine-tune on my drawings")
        self.fine_tune_button.setToolTip("Train the iteration in view a little more on MNIST plus your drawings "
                                         "(a fifth held out to measure); you choose whether to use the result")
        self.relabel_button.clicked.connect(self._relabel_clicked)
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button.clicked.connect(self._export_clicked)
        self.import_button.clicked.connect(self._import_clicked)
        self.fine_tune_button.clicked.connect(self.fine_tune)
        buttons = QHBoxLayout()
        for button in (self.relabel_button, self.delete_button, self.export_button, self.import_button,
                       self.fine_tune_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        keys = DigitKeys(self)
        self.rows: dict[int, QListWidget] = {}
        self.row_titles: dict[int, QLabel] = {}
        grid = QGridLayout()
        for digit in range(10):
            row = QListWidget()
            row.setViewMode(QListWidget.ViewMode.IconMode)
            row.setFlow(QListWidget.Flow.LeftToRight)
            row.setWrapping(False)
            row.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
            row.setFixedHeight(THUMBNAIL + 40)
            row.setMovement(QListWidget.Movement.Static)
            row.installEventFilter(keys)
            row.itemSelectionChanged.connect(lambda d=digit: self._selected_in(d))
            title = QLabel(f"<b style='font-size:18pt'>{digit}</b>")
            self.rows[digit], self.row_titles[digit] = row, title
            grid.addWidget(title, digit, 0)
            grid.addWidget(row, digit, 1)
        rows = QWidget()
        rows.setLayout(grid)
        grid.setRowStretch(10, 1)  # the rows in use stay at the top
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(rows)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)  # above the summary, whose length varies: the buttons never move
        layout.addWidget(self.summary)
        layout.addWidget(self.notice)
        layout.addWidget(self.messages)
        layout.addWidget(scroll, 1)
        self._update_buttons()

    # --- what the window tells --------------------------------------------------------------------
    def set_predictor(self, predictor: Predictor) -> None:
        self.predictor = predictor
        self.refresh()

    def set_training_busy(self, busy: bool) -> None:
        self.training_busy = busy

    def set_iteration(self, number: int) -> None:
        self.iteration = number
        self._show()

    def keep(self, drawing: Drawing, image: np.ndarray | None, probabilities: dict[int, np.ndarray],
             label: int) -> str:
        """Keep the drawing in view with its label and each iteration's answer; the sentence to show.
        DrawingsError when there is nothing to label."""
        from trainer.extra_data import DrawingsError

        if image is None:
            raise DrawingsError("There is no digit to label: draw one first, then press its key (0-9).")
        answers = {n: int(np.argmax(p)) for n, p in probabilities.items()}
        kept = self.store.add(image, drawing.strokes, label, answers)
        self.refresh()
        said = answers.get(self.iteration)
        verdict = "" if said is None else (f"; iteration {self.iteration} got it right" if said == kept.label else
                                           f"; iteration {self.iteration} said {said}")
        return f"Kept as {a_digit(kept.label)} in Your drawings{verdict}."

    # --- reading and showing ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the store and measure the iterations on it, off the GUI thread."""
        store, predictor = self.store, self.predictor

        def work():
            drawings, problems = store.load()
            return drawings, problems, evaluate_on(predictor, drawings) if predictor else {}

        self._refreshes.request(work, self._on_loaded, threads=Threads.MANY_IMAGES if predictor else None)

    def _on_load_failed(self, message: str) -> None:
        self._say_problem(message)
        self.refreshed.emit()

    def _on_loaded(self, result) -> None:
        drawings, problems, evaluations = result
        self.drawings, self.load_problems, self.evaluations = drawings, problems, evaluations
        self._show_problems()
        self._show()
        self.refreshed.emit()

    def answer(self, index: int) -> int | None:
        """The digit the iteration in view gives drawing ``index`` now (else when it was labelled)."""
        result = self.evaluations.get(self.iteration)
        return result.predictions[index] if result else self.drawings[index].answers.get(self.iteration)

    def _show(self) -> None:
        for row in self.rows.values():
            row.clear()
        for index, drawing in enumerate(self.drawings):
            answer = self.answer(index)
            mark = "" if answer is None else ("✓" if answer == drawing.label else f"✗ {answer}")
            item = QListWidgetItem(thumbnail(drawing.image, answer, drawing.label), mark)
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setToolTip(f"labelled {drawing.label} on {drawing.created[:16].replace('T', ' ')}; iteration "
                            f"{self.iteration} says {answer if answer is not None else 'nothing yet'}")
            self.rows[drawing.label].addItem(item)
        for digit, title in self.row_titles.items():  # only the digits you have drawn take room
            title.setVisible(self.rows[digit].count() > 0)
            self.rows[digit].setVisible(self.rows[digit].count() > 0)
        result = self.evaluations.get(self.iteration)
        count = len(self.drawings)
        score = f"{result.accuracy:.1f}% right" if result else "… (the models are loading)"
        self.summary.setText(NO_DRAWINGS if not count else
                             f"{count} drawing{'s' * (count != 1)}; iteration {self.iteration} gets {score}. "
                             "Select one and press a digit to relabel it, Delete to remove it, Ctrl+Z to undo.")
        self.scores.show_scores(self.predictor, count, self.evaluations, self.iteration)
        self._update_buttons()

    def _say_problem(self, message: str) -> None:
        """What the last action could not do ("" when it could); shown with the files that cannot be read."""
        self.task_problems = [message] if message else []
        self._show_problems()

    def _show_problems(self) -> None:
        problems = self.load_problems + self.task_problems
        self.messages.setText("\n".join(problems))
        self.messages.setVisible(bool(problems))

    # --- selection, relabel, delete ---------------------------------------------------------------
    def _selected_in(self, digit: int) -> None:
        """One selection across the ten rows."""
        if self.rows[digit].selectedItems():
            for other, row in self.rows.items():
                if other != digit:
                    row.blockSignals(True)
                    row.clearSelection()
                    row.blockSignals(False)
        self._update_buttons()

    def selected(self) -> LabelledDrawing | None:
        for row in self.rows.values():
            items = row.selectedItems()
            if items:
                return self.drawings[items[0].data(Qt.ItemDataRole.UserRole)]
        return None

    def select(self, drawing_id: str) -> None:
        for row in self.rows.values():
            for i in range(row.count()):
                if self.drawings[row.item(i).data(Qt.ItemDataRole.UserRole)].id == drawing_id:
                    row.setCurrentRow(i)
                    row.setFocus()
                    return

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        self.relabel_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)
        self.export_button.setEnabled(bool(self.drawings))
        self.fine_tune_button.setEnabled(len(self.drawings) >= 2)

    def relabel_selected(self, label: int) -> None:
        drawing = self.selected()
        if drawing is not None and label != drawing.label:
            old = drawing.label
            self._run_file_task(lambda: self.store.relabel(drawing, label),
                                f"Relabelled {a_digit(old)} as {a_digit(label)}.",
                                lambda _: Undo(lambda: self.store.restore(drawing),
                                               f"Undone: the drawing is labelled {old} again.", f"Label it {old} again"))

    def delete_selected(self) -> None:
        drawing = self.selected()
        if drawing is not None:
            label = drawing.label
            self._run_file_task(lambda: self.store.delete(drawing), f"Deleted a drawing labelled {label}.",
                                lambda _: Undo(lambda: self.store.restore(drawing),
                                               f"Undone: the drawing labelled {label} is back.",
                                               f"Bring back the drawing labelled {label}"))

    def undo(self) -> bool:
        """Take back the latest change to the drawings made here; False when there is none."""
        if not self.undo_steps:
            return False
        step = self.undo_steps.pop()
        self._run_file_task(step.work, step.said)
        return True

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(QKeySequence.StandardKey.Undo):
            event.accept()  # Ctrl+Z in this view takes back a change to the drawings, not the canvas's last stroke
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        else:
            super().keyPressEvent(event)

    def _relabel_clicked(self) -> None:
        drawing = self.selected()
        if drawing is not None:
            label = self.ask_label(drawing.label)
            if label is not None:
                self.relabel_selected(label)

    def _ask_label(self, current: int) -> int | None:
        label, ok = QInputDialog.getInt(self, "Relabel", "This drawing is the digit:", current, 0, 9)
        return label if ok else None

    # --- export and import ------------------------------------------------------------------------
    def _run_file_task(self, work: Callable[[], object], done: str | Callable[[object], str],
                       undo: Callable[[object], Undo | None] | None = None) -> None:
        """``work`` off the GUI thread; then ``done`` (a sentence, or one made from the result) and a refresh.
        ``undo`` makes from the result how to take the change back (None: it changed nothing)."""
        run_job(lambda: (done, undo, work()), self._on_file_task_done, self._say_problem, self)

    def _on_file_task_done(self, outcome: tuple) -> None:
        done, undo, result = outcome
        step = undo(result) if undo else None
        if step is not None:
            self.undo_steps = [*self.undo_steps, step][-UNDO_STEPS:]
        said = done(result) if callable(done) else done
        self.notice.say(said, step.tip if step else "")
        self._show_problems()
        self.said.emit(said)
        self.refresh()

    def export_to(self, path: str) -> None:
        self._run_file_task(lambda: self.store.export_zip(path),
                            lambda n: f"Exported {n} drawing{'s' * (n != 1)} to {path}.")

    def import_from(self, path: str) -> None:
        name = Path(path).name

        def done(result) -> str:
            self.task_problems = result.problems  # each row left out, one sentence each
            return result.summary(name)

        def undo(result) -> Undo | None:
            ids, count = set(result.ids), len(result.ids)
            drawings = f"{count} drawing{'s' * (count != 1)}"
            return Undo(lambda: self._delete_ids(ids), f"Undone: removed the {drawings} imported from {name}.",
                        f"Remove the {drawings} just imported") if ids else None

        self._say_problem("")
        self._run_file_task(lambda: self.store.import_zip(path), done, undo)

    def _delete_ids(self, ids: set[str]) -> None:
        """Off the GUI thread: delete the kept drawings with these ids."""
        for drawing in self.store.load()[0]:
            if drawing.id in ids:
                self.store.delete(drawing)

    def _export_clicked(self) -> None:
        path = self.ask_export_path()
        if path:
            self.export_to(path)

    def _import_clicked(self) -> None:
        path = self.ask_import_path()
        if path:
            self.import_from(path)

    # --- fine-tune --------------------------------------------------------------------------------
    def fine_tune(self) -> bool:
        """Fine-tune an iteration (the one in view unless the person picks another) on MNIST plus these
        drawings, from the weights it uses now, with the settings the person chose; the run shows in the Train
        panel. False (and a sentence) if it does not start."""
        from trainer.extra_data import FINE_TUNE_EPOCHS
        from trainer.paths import fine_tune_drawings_path

        if self.training_busy:
            self._say_problem("A training run is in progress; fine-tune once it has ended.")
            return False
        chosen = self.ask_fine_tune(FineTuneSettings(self.iteration, FINE_TUNE_EPOCHS, None))
        if chosen is None:
            return False
        slot = self.predictor.slots.get(chosen.iteration) if self.predictor else None
        if slot is None or not slot.available:
            self._say_problem(f"Iteration {chosen.iteration} has no usable weights to fine-tune.")
            return False
        path = fine_tune_drawings_path()  # the drawings as they are now, for this run
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.store.export_zip(path)
        except (MnistDesktopError, OSError) as e:
            self._say_problem(str(e))
            return False
        self._say_problem("")
        if not self.start_fine_tune(chosen.iteration, str(path), str(slot.path), chosen.epochs, chosen.mnist_images):
            return False
        self.trainingStarted.emit()
        return True

    def _ask_fine_tune(self, settings: FineTuneSettings) -> FineTuneSettings | None:
        from trainer.training import TrainConfig

        share = TrainConfig.__dataclass_fields__["extra_weight"].default  # drawings per batch, as a share of it
        dialog = FineTuneDialog(settings, len(self.drawings), share, self.training_speed(), self)
        return dialog.settings() if dialog.exec() == FineTuneDialog.DialogCode.Accepted else None

    def _ask_use_fine_tune(self, checkpoint: dict) -> bool:
        from trainer.extra_data import fine_tune_summary

        return ask_to_use(self, "Use the fine-tuned model?", f"Iteration {checkpoint['iteration']} fine-tuned on "
                          f"MNIST and your drawings: {fine_tune_summary(checkpoint)}.", "Use the fine-tuned model")
