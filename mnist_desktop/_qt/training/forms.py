"""The Train panel's views: the run's settings, the study's settings, the monitor and the past runs.

They draw, collect input and forward it; the TrainingController decides. None of them knows the others.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox,
                               QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from trainer.iterations import DEVICES, ITERATIONS, MNIST_TRAIN_IMAGES

from ...core.training_maths import RunningAverage, epoch_position, format_duration
from ..widgets.charts import RunChart
from ..widgets.iteration_picker import IterationPicker
from ..widgets.panels import trained_on
from ..widgets.wheel_guard import WheelGuard, guard_wheel

CHART_REFRESH_MS = 250  # batch-loss points are buffered and drawn at this rate, not per batch
DEFAULT_SEEDS = 5
HELD_OUT_DRAWINGS = "your held-out drawings"  # the accuracy chart's line for a fine-tune
DEVICE_LABELS = {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA"}


class RunForm(QWidget):
    """One run's settings; ``values()`` are TrainConfig's fields."""

    def __init__(self, data_dir: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.iteration = IterationPicker()
        self.epochs = QSpinBox(minimum=1, maximum=200)
        self.lr = QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=1.0, singleStep=0.0005)
        self.batch_size = QSpinBox(minimum=1, maximum=4096)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.train_images = QSpinBox(minimum=64, maximum=MNIST_TRAIN_IMAGES, value=MNIST_TRAIN_IMAGES,
                                     singleStep=1000)
        self.train_images.setToolTip("Train on the first N of the 60,000 training images (quick experiments)")
        self.augment = QCheckBox("rotation ±15°, 10% zoom")
        self.device = QComboBox()
        for value in DEVICES:
            self.device.addItem(DEVICE_LABELS.get(value, value), value)
        self.data_dir = QLineEdit(data_dir)
        self.data_dir.setPlaceholderText("automatic: $MNIST_DATA_DIR, then the per-user data folder")
        self.choose_data_dir = QPushButton("Choose…")
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(self.choose_data_dir)
        self.keep_partial = QCheckBox("On Stop, keep the last completed epoch")
        self.problem = QLabel("")  # why the settings were refused
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        self.problem.hide()

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Iteration", self.iteration)
        form.addRow("Epochs", self.epochs)
        form.addRow("Learning rate", self.lr)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Seed", self.seed)
        form.addRow("Training images", self.train_images)
        form.addRow("Augmentation", self.augment)
        form.addRow("Device", self.device)
        form.addRow("MNIST folder", data_row)
        form.addRow("", self.keep_partial)
        form.addRow(self.problem)
        self.iteration.currentIndexChanged.connect(self._fill_recipe)
        self._fill_recipe()
        self.inputs = [self.iteration, self.epochs, self.lr, self.batch_size, self.seed, self.train_images,
                       self.augment, self.device, self.data_dir, self.choose_data_dir]
        self.wheel_guard = WheelGuard(self)
        guard_wheel([self.iteration, self.epochs, self.lr, self.batch_size, self.seed, self.train_images,
                     self.device], self.wheel_guard)

    def _fill_recipe(self) -> None:
        recipe = ITERATIONS[self.iteration.number()].recipe
        self.epochs.setValue(recipe.epochs)
        self.lr.setValue(recipe.lr)
        self.batch_size.setValue(recipe.batch_size)
        self.augment.setChecked(recipe.augment)

    def set_cuda_available(self, available: bool) -> None:
        index = self.device.findData("cuda")
        if index >= 0:
            self.device.setItemText(index, "CUDA" if available else "CUDA (none found)")

    def show_config(self, config) -> None:
        """Show a run's iteration, epochs and learning rate (a fine-tune's differ from the recipe's)."""
        recipe = config.recipe()
        self.iteration.set_number(config.iteration)
        self.epochs.setValue(recipe.epochs)
        self.lr.setValue(recipe.lr)
        self.train_images.setValue(config.train_limit or self.train_images.maximum())

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values()`` of before again (a fine-tune showed its own settings while it ran)."""
        self.iteration.set_number(values["iteration"])
        self.epochs.setValue(values["epochs"])
        self.lr.setValue(values["lr"])
        self.batch_size.setValue(values["batch_size"])
        self.augment.setChecked(values["augment"])
        self.seed.setValue(values["seed"])
        self.train_images.setValue(values["train_limit"] or self.train_images.maximum())

    def train_limit(self) -> int | None:
        images = self.train_images.value()
        return None if images == self.train_images.maximum() else images

    def values(self) -> dict[str, Any]:
        return dict(iteration=self.iteration.number(), epochs=self.epochs.value(), lr=self.lr.value(),
                    batch_size=self.batch_size.value(), augment=self.augment.isChecked(), seed=self.seed.value(),
                    device=self.device.currentData(), data_dir=self.data_dir.text().strip() or None,
                    train_limit=self.train_limit())

    def set_running(self, running: bool) -> None:
        for widget in self.inputs:
            widget.setEnabled(not running)

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.setVisible(bool(message))


class StudyForm(QGroupBox):
    """Which iterations and how many seeds; the run form's training images and device apply."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Study: each chosen iteration under its recipe, over several seeds", parent)
        self.iterations = {number: QCheckBox(str(number), checked=True) for number in ITERATIONS}
        self.seeds = QSpinBox(minimum=1, maximum=20, value=DEFAULT_SEEDS)
        self.seeds.setToolTip("Seeds 0, 1, … per iteration; pairs finished earlier are kept, not trained again")
        self.run_button = QPushButton("Run the study")
        self.run_button.setToolTip("Train every chosen (iteration, seed) pair in turn; the results go to Compare")
        self.run_button.setEnabled(False)  # until the trainer has loaded
        row = QHBoxLayout()
        row.addWidget(QLabel("Iterations"))
        for box in self.iterations.values():
            row.addWidget(box)
        row.addStretch(1)
        second = QHBoxLayout()  # on a row of its own, so the box fits the Train tab of a 1024-pixel window
        second.addWidget(QLabel("Seeds"))
        second.addWidget(self.seeds)
        second.addStretch(1)
        second.addWidget(self.run_button)
        rows = QVBoxLayout(self)
        rows.addLayout(row)
        rows.addLayout(second)
        self.wheel_guard = WheelGuard(self)
        guard_wheel([self.seeds], self.wheel_guard)

    def chosen_iterations(self) -> list[int]:
        return [number for number, box in self.iterations.items() if box.isChecked()]

    def set_running(self, running: bool) -> None:
        for widget in (*self.iterations.values(), self.seeds):
            widget.setEnabled(not running)


@dataclass
class ShownRun:
    """The run whose curves the charts draw: what the next run's dashed curves are said to be."""

    iteration: int
    epochs: int
    reached: float = 0.0  # the fraction of the run done
    finished: bool = False

    def as_previous(self) -> str:
        how = f"all {self.epochs} epoch{'s' * (self.epochs != 1)}" if self.finished else f"stopped at {self.reached:.0%}"
        return f"Dashed: the previous run of iteration {self.iteration} ({how})."


class RunMonitor(QWidget):
    """Progress, the status line, live charts and the log of the run in progress."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run_progress = QProgressBar(format="run %p%")
        self.overall_progress = QProgressBar(format="overall %p%")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.previous_note = QLabel("")  # what the dashed curves are
        self.previous_note.setStyleSheet("color: gray")
        self.previous_note.hide()
        self.shown_run: ShownRun | None = None
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        self.loss_chart = RunChart("Batch loss (smoothed)", "loss", ["batch loss"], per_epoch=False)
        self.epoch_loss_chart = RunChart("Loss per epoch", "loss", ["train", "test"])
        self.accuracy_chart = RunChart("Accuracy per epoch (%)", "%", ["train", "test", HELD_OUT_DRAWINGS])
        self.lr_chart = RunChart("Learning rate", "lr", ["lr"])
        self.charts = [self.loss_chart, self.epoch_loss_chart, self.accuracy_chart, self.lr_chart]
        grid = QGridLayout()
        for i, chart in enumerate(self.charts):
            grid.addWidget(chart, i // 2, i % 2)
        charts = QWidget()
        charts.setLayout(grid)
        self.tabs = QTabWidget()
        self.tabs.addTab(charts, "Charts")
        self.tabs.addTab(self.log, "Log")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.run_progress)
        layout.addWidget(self.overall_progress)
        layout.addWidget(self.status)
        layout.addWidget(self.previous_note)
        layout.addWidget(self.tabs, 1)
        self.reset_progress()  # "run 0%" rather than an empty bar before the first run

        self._smoothed = RunningAverage()
        self._pending_loss: list[QPointF] = []
        self._chart_timer = QTimer(self, interval=CHART_REFRESH_MS)
        self._chart_timer.timeout.connect(self.flush)

    def new_run(self, config, label: str) -> None:
        """The last run's curves stay beside the new one's, dashed and said, only for the same iteration."""
        previous, epochs = self.shown_run, config.recipe().epochs
        keep = previous is not None and previous.iteration == config.iteration
        for chart in self.charts:
            chart.new_run(epochs, keep)
        self.previous_note.setText(previous.as_previous() if keep else "")
        self.previous_note.setVisible(keep)
        self.shown_run = ShownRun(config.iteration, epochs)
        self.run_progress.setValue(0)
        self.run_progress.setFormat(f"{label}: %p%" if label else "run %p%")
        self._smoothed = RunningAverage()
        self._chart_timer.start()

    def reset_progress(self) -> None:
        """A run or a study starts: both bars from zero (a study's overall bar then goes on across its runs)."""
        self.run_progress.setValue(0)
        self.overall_progress.setValue(0)

    def show_batch(self, event) -> None:
        self._pending_loss.append(QPointF(epoch_position(event.epoch, event.batch, event.batches),
                                          self._smoothed.add(event.loss)))

    def show_progress(self, progress) -> None:
        if self.shown_run is not None:
            self.shown_run.reached = progress.run_fraction
        self.run_progress.setValue(round(100 * progress.run_fraction))
        self.overall_progress.setValue(round(100 * progress.overall_fraction))
        parts = [f"epoch {progress.epoch}/{progress.epochs}", f"{progress.images_per_s:,.0f} images/s"]
        if progress.queued > 1:
            parts.insert(0, f"run {progress.position} of {progress.queued}")
        if progress.seconds_left is not None:
            parts.append(f"about {format_duration(progress.seconds_left)} left")
        self.status.setText(" · ".join(parts))

    def show_epoch(self, event) -> None:
        self.epoch_loss_chart.append("train", [QPointF(event.epoch, event.train_loss)])
        self.epoch_loss_chart.append("test", [QPointF(event.epoch, event.test_loss)])
        self.accuracy_chart.append("train", [QPointF(event.epoch, event.train_accuracy)])
        self.accuracy_chart.append("test", [QPointF(event.epoch, event.test_accuracy)])
        if event.extra_accuracy is not None:  # a fine-tune on the person's drawings
            self.accuracy_chart.append(HELD_OUT_DRAWINGS, [QPointF(event.epoch, event.extra_accuracy)])
        self.lr_chart.append("lr", [QPointF(event.epoch, event.lr)])

    def run_ended(self, finished: bool) -> None:
        self._chart_timer.stop()
        self.flush()
        if self.shown_run is not None:
            self.shown_run.finished = finished
        if finished:
            self.run_progress.setValue(100)
            self.overall_progress.setValue(100)

    def flush(self) -> None:
        points, self._pending_loss = self._pending_loss, []
        self.loss_chart.append("batch loss", points)

    def append_log(self, line: str) -> None:
        self.log.appendPlainText(line)


class PastRuns(QWidget):
    """The saved runs, newest first; use one, or go back to the shipped weights."""

    useRun = Signal(int, object)  # iteration, the run's path
    revertRequested = Signal(int)  # the iteration the button names

    COLUMNS = ["Saved", "Iteration", "Epochs", "LR", "Batch", "Seed", "Augment", "Trained on", "Test accuracy"]

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs: list = []
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.use_button = QPushButton("Use the selected run")
        self.use_button.clicked.connect(self.use_selected)
        self.revert_button = QPushButton()
        self.revert_button.clicked.connect(lambda: self.revertRequested.emit(self.revert_iteration))
        self.revert_iteration = 0
        self.form_iteration = next(iter(ITERATIONS))  # named by Revert while no run is selected
        self.table.itemSelectionChanged.connect(self._name_revert)
        self._name_revert()
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.revert_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)  # above the table, which may be taller than the room left
        layout.addWidget(self.table)

    def show_runs(self, runs: list[tuple[Any, datetime]]) -> None:
        self.runs = [run for run, _ in runs]
        self.table.clearSelection()
        self.table.setRowCount(len(runs))
        for row, (run, saved) in enumerate(runs):
            r = run.recipe
            values = [saved.strftime("%Y-%m-%d %H:%M"), str(run.iteration), str(run.epochs), f"{r['lr']:g}",
                      str(r["batch_size"]), str(run.seed), "on" if r["augment"] else "off",
                      trained_on(run.train_images, run.extra.get("fine_tune")),
                      f"{run.test_accuracy:.2f}%"]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(str(run.path))
                self.table.setItem(row, col, item)

    def set_form_iteration(self, number: int) -> None:
        self.form_iteration = number
        self._name_revert()

    def _name_revert(self) -> None:
        """Revert names the iteration it acts on: the selected run's, else the Train form's."""
        rows = self.table.selectionModel().selectedRows()
        self.revert_iteration = self.runs[rows[0].row()].iteration if rows else self.form_iteration
        self.revert_button.setText(f"Revert iteration {self.revert_iteration} to the shipped weights")

    def use_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            run = self.runs[rows[0].row()]
            self.useRun.emit(run.iteration, run.path)

