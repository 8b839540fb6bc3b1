"""Retrain an iteration from the GUI: settings, Train/Stop, progress, live charts, a log and past runs."""
from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QPointF, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
                               QPlainTextEdit, QProgressBar, QProgressDialog, QPushButton, QScrollArea, QSpinBox,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from trainer.iterations import ITERATIONS

from .charts import RunChart
from .tasks import Task, run_in_background
from .training_worker import TrainingThread

CHART_REFRESH_MS = 250  # batch-loss points are buffered and drawn at this rate, not per batch
LOSS_SMOOTHING = 0.1  # weight of the newest loss in the running average drawn
RUNS_LISTED = 10
DEVICES = [("Auto", "auto"), ("CPU", "cpu"), ("CUDA", "cuda")]


class TrainingPanel(QWidget):
    weightsChanged = Signal(int)  # an iteration now uses other weights
    runFinished = Signal(str)  # the saved checkpoint's path
    runStopped = Signal()
    runFailed = Signal(str)
    ready = Signal()  # the trainer is loaded; Train is enabled

    def __init__(self, settings: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.running = False
        self.config = None
        self._pending_loss: list[QPointF] = []
        self._smoothed: float | None = None
        self._started = 0.0
        self.data_dialog: QMessageBox | None = None
        self.download_progress: QProgressDialog | None = None

        self.thread = TrainingThread(self)
        worker = self.thread.worker
        worker.batch.connect(self._on_batch)
        worker.epoch.connect(self._on_epoch)
        worker.finished.connect(self._on_finished)
        worker.stopped.connect(self._on_stopped)
        worker.failed.connect(self._on_failed)

        # Settings of the run.
        self.iteration = QComboBox()
        self.iteration.addItems([f"Iteration {n}" for n in ITERATIONS])
        self.epochs = QSpinBox(minimum=1, maximum=200)
        self.lr = QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=1.0, singleStep=0.0005)
        self.batch_size = QSpinBox(minimum=1, maximum=4096)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.train_images = QSpinBox(minimum=64, maximum=60_000, value=60_000, singleStep=1000)
        self.train_images.setToolTip("Train on the first N of the 60,000 training images (quick experiments)")
        self.augment = QCheckBox("rotation ±15°, 10% zoom")
        self.device = QComboBox()
        for label, value in DEVICES:
            self.device.addItem(label, value)
        self.data_dir = QLineEdit(str(settings.value("data_dir", "")))
        self.data_dir.setPlaceholderText("automatic: $MNIST_DATA_DIR, then the per-user data folder")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_data_dir)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(choose)
        self.keep_partial = QCheckBox("On Stop, keep the last completed epoch")
        form = QFormLayout()
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
        self.iteration.currentIndexChanged.connect(self._fill_recipe)
        self._fill_recipe()
        self.inputs = [self.iteration, self.epochs, self.lr, self.batch_size, self.seed, self.train_images, self.augment,
                       self.device, self.data_dir, choose]

        self.train_button = QPushButton("Train")
        self.train_button.setEnabled(False)  # until prepare() has loaded the trainer
        self.train_button.setToolTip("Loading the trainer…")
        self.train_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)

        # Progress and results.
        self.epoch_progress = QProgressBar(format="epoch %p%")
        self.overall_progress = QProgressBar(format="overall %p%")
        self.speed = QLabel("")
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(2000)
        self.loss_chart = RunChart("Training loss per batch (smoothed)", "loss", ["batch loss"])
        self.epoch_loss_chart = RunChart("Loss per epoch", "loss", ["train", "test"])
        self.accuracy_chart = RunChart("Accuracy per epoch", "accuracy (%)", ["train", "test"])
        self.lr_chart = RunChart("Learning rate", "lr", ["lr"])
        charts = QGridLayout()
        charts.addWidget(self.loss_chart, 0, 0)
        charts.addWidget(self.epoch_loss_chart, 0, 1)
        charts.addWidget(self.accuracy_chart, 1, 0)
        charts.addWidget(self.lr_chart, 1, 1)
        charts_widget = QWidget()
        charts_widget.setLayout(charts)

        self.runs = QTableWidget(0, 9)
        self.runs.setHorizontalHeaderLabels(["Saved", "Iteration", "Epochs", "LR", "Batch", "Seed", "Augment",
                                             "Train images", "Test accuracy"])
        self.runs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        use_run = QPushButton("Use the selected run")
        use_run.clicked.connect(self.use_selected_run)
        revert = QPushButton("Revert this iteration to the shipped weights")
        revert.clicked.connect(self.revert)
        run_buttons = QHBoxLayout()
        run_buttons.addWidget(use_run)
        run_buttons.addWidget(revert)
        runs_widget = QWidget()
        runs_layout = QVBoxLayout(runs_widget)
        runs_layout.addWidget(self.runs)
        runs_layout.addLayout(run_buttons)

        results = QTabWidget()
        results.addTab(charts_widget, "Charts")
        results.addTab(self.log, "Log")
        results.addTab(runs_widget, "Past runs")
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.epoch_progress)
        layout.addWidget(self.overall_progress)
        layout.addWidget(self.speed)
        layout.addWidget(results, 1)
        scroll = QScrollArea(widgetResizable=True)  # the panel scrolls instead of making the window tall
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self._chart_timer = QTimer(self, interval=CHART_REFRESH_MS)
        self._chart_timer.timeout.connect(self._flush_loss_points)
        self._runs = []  # filled by refresh_runs() once torch has loaded

    def prepare(self) -> None:
        """Load the trainer in the background (the window calls this once the models are ready)."""
        from trainer.training import warm_up

        run_in_background(warm_up, self._on_prepared, self._on_failed_to_prepare, self)

    def _on_prepared(self, _) -> None:
        self.train_button.setEnabled(not self.running)
        self.train_button.setToolTip("")
        self.ready.emit()

    def _on_failed_to_prepare(self, message: str) -> None:
        self.speed.setText(f"Training is unavailable: {message}")

    # --- settings --------------------------------------------------------------------------------
    def _fill_recipe(self) -> None:
        recipe = ITERATIONS[self.iteration.currentIndex() + 1].recipe
        self.epochs.setValue(recipe.epochs)
        self.lr.setValue(recipe.lr)
        self.batch_size.setValue(recipe.batch_size)
        self.augment.setChecked(recipe.augment)

    def set_cuda_available(self, available: bool) -> None:
        self.device.setItemText(2, "CUDA" if available else "CUDA (none found)")

    def _choose_data_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with the four MNIST files", self.data_dir.text())
        if folder:
            self.set_data_dir(folder)

    def set_data_dir(self, folder: str) -> None:
        self.data_dir.setText(folder)
        self.settings.setValue("data_dir", folder)

    def current_config(self):
        from trainer.training import TrainConfig

        images = self.train_images.value()
        return TrainConfig(iteration=self.iteration.currentIndex() + 1, epochs=self.epochs.value(),
                           lr=self.lr.value(), batch_size=self.batch_size.value(), augment=self.augment.isChecked(),
                           seed=self.seed.value(), device=self.device.currentData(),
                           data_dir=self.data_dir.text().strip() or None,
                           train_limit=None if images == self.train_images.maximum() else images)

    # --- running ---------------------------------------------------------------------------------
    def start(self, config=None) -> None:
        """Start a run with ``config``, or with the form's settings."""
        if self.running:
            return
        self.config = config or self.current_config()
        self.running = True
        for widget in self.inputs:
            widget.setEnabled(False)
        self.train_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.epoch_progress.setValue(0)
        self.overall_progress.setValue(0)
        self.speed.setText("Loading MNIST…")
        for chart in (self.loss_chart, self.epoch_loss_chart, self.accuracy_chart, self.lr_chart):
            chart.new_run()
        self._smoothed = None
        self._started = time.perf_counter()
        self.log.appendPlainText(f"— iteration {self.config.iteration}: {self.config.recipe()}, "
                                 f"seed {self.config.seed}, device {self.config.device}")
        self._chart_timer.start()
        self.thread.start_run.emit(self.config)

    def stop(self) -> None:
        if self.running:
            self.thread.worker.request_stop()
            self.speed.setText("Stopping…")

    def _finish(self) -> None:
        self.running = False
        self._chart_timer.stop()
        self._flush_loss_points()
        for widget in self.inputs:
            widget.setEnabled(True)
        self.train_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def shutdown(self) -> bool:
        """Stop any run and join the worker thread (the window is closing)."""
        return self.thread.shutdown()

    # --- events from the worker ------------------------------------------------------------------
    def _on_batch(self, event) -> None:
        x = event.epoch - 1 + event.batch / event.batches
        a = LOSS_SMOOTHING
        self._smoothed = event.loss if self._smoothed is None else (1 - a) * self._smoothed + a * event.loss
        self._pending_loss.append(QPointF(x, self._smoothed))
        self.epoch_progress.setValue(round(100 * event.batch / event.batches))
        done = x / event.epochs
        self.overall_progress.setValue(round(100 * done))
        remaining = (time.perf_counter() - self._started) * (1 - done) / max(done, 1e-9)
        self.speed.setText(f"epoch {event.epoch}/{event.epochs} · {event.images_per_s:,.0f} images/s · "
                           f"about {int(remaining // 60)}:{int(remaining % 60):02d} left")

    def _flush_loss_points(self) -> None:
        points, self._pending_loss = self._pending_loss, []
        self.loss_chart.append("batch loss", points)

    def _on_epoch(self, event) -> None:
        self.epoch_loss_chart.append("train", [QPointF(event.epoch, event.train_loss)])
        self.epoch_loss_chart.append("test", [QPointF(event.epoch, event.test_loss)])
        self.accuracy_chart.append("train", [QPointF(event.epoch, event.train_accuracy)])
        self.accuracy_chart.append("test", [QPointF(event.epoch, event.test_accuracy)])
        self.lr_chart.append("lr", [QPointF(event.epoch, event.lr)])
        self.log.appendPlainText(
            f"epoch {event.epoch}/{event.epochs}: train loss {event.train_loss:.4f} acc {event.train_accuracy:.2f}% · "
            f"test loss {event.test_loss:.4f} acc {event.test_accuracy:.2f}% · lr {event.lr:g} · "
            f"{event.seconds:.1f} s, {event.images_per_s:,.0f} images/s")

    def _on_finished(self, checkpoint: dict, path: str) -> None:
        self._finish()
        self.overall_progress.setValue(100)
        self.speed.setText(f"Done in {checkpoint['seconds']:.1f} s: test accuracy {checkpoint['test_accuracy']:.2f}%")
        self.log.appendPlainText(f"saved {path}")
        self.refresh_runs()
        self.weightsChanged.emit(checkpoint["iteration"])
        self.runFinished.emit(path)

    def _on_stopped(self, event) -> None:
        self._finish()
        if event.checkpoint is not None and self.keep_partial.isChecked():
            from trainer.runs import RunStore

            path = RunStore().save(event.checkpoint)
            self.speed.setText(f"Stopped; kept the {event.epochs_completed} completed epoch(s).")
            self.log.appendPlainText(f"stopped; kept epoch {event.epochs_completed} as {path}")
            self.refresh_runs()
            self.weightsChanged.emit(event.checkpoint["iteration"])
        else:
            self.speed.setText("Stopped; nothing saved.")
            self.log.appendPlainText("stopped; nothing saved")
        self.runStopped.emit()

    def _on_failed(self, message: str, data_missing: bool) -> None:
        self._finish()
        self.speed.setText("Training failed.")
        self.log.appendPlainText(f"failed: {message}")
        if data_missing:
            self._offer_data(message)
        else:
            box = QMessageBox(QMessageBox.Icon.Warning, "Training failed", message, QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
        self.runFailed.emit(message)

    # --- missing data ----------------------------------------------------------------------------
    def _offer_data(self, message: str) -> None:
        self.data_dialog = QMessageBox(QMessageBox.Icon.Warning, "MNIST not found", message,
                                       QMessageBox.StandardButton.Cancel, self)
        choose = self.data_dialog.addButton("Choose folder…", QMessageBox.ButtonRole.ActionRole)
        download = self.data_dialog.addButton("Download (11 MB)", QMessageBox.ButtonRole.ActionRole)
        choose.clicked.connect(self._choose_data_dir)
        download.clicked.connect(self._download)
        self.data_dialog.open()

    def _download(self) -> None:
        from trainer.data import ALL_FILES, download_mnist
        from trainer.paths import user_data_dir

        self.download_progress = QProgressDialog(f"Downloading MNIST into {user_data_dir() / 'mnist'}…", "", 0,
                                                 len(ALL_FILES), self)
        self.download_progress.setCancelButton(None)
        self.download_progress.setWindowTitle("MNIST")
        self.download_progress.open()
        task = Task(lambda: download_mnist(progress=task.report), self)
        task.progress.connect(self._on_download_progress)
        task.done.connect(self._on_downloaded)
        task.failed.connect(self._on_download_failed)
        task.start()

    def _on_download_progress(self, done: int, total: int) -> None:
        self.download_progress.setValue(done)
        self.download_progress.setLabelText(f"Downloading MNIST: {done} of {total} files")

    def _on_downloaded(self, folder) -> None:
        self.download_progress.close()
        self.set_data_dir(str(folder))
        self.log.appendPlainText(f"downloaded MNIST into {folder}")

    def _on_download_failed(self, message: str) -> None:
        self.download_progress.close()
        self._offer_data(message)

    # --- past runs -------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        from trainer.runs import RunStore  # imports torch; called once the window is up

        self._runs = RunStore().list_runs(RUNS_LISTED)
        self.runs.setRowCount(len(self._runs))
        for row, run in enumerate(self._runs):
            saved = datetime.fromtimestamp(run.path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            r = run.recipe
            values = [saved, str(run.iteration), str(run.epochs), f"{r['lr']:g}", str(r["batch_size"]), str(run.seed),
                      "on" if r["augment"] else "off", f"{run.train_images:,}", f"{run.test_accuracy:.2f}%"]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(str(run.path))
                self.runs.setItem(row, col, item)

    def use_selected_run(self) -> None:
        from trainer.runs import RunStore

        rows = self.runs.selectionModel().selectedRows()
        if rows:
            run = self._runs[rows[0].row()]
            RunStore().activate(run.iteration, run.path)
            self.weightsChanged.emit(run.iteration)

    def revert(self) -> None:
        from trainer.runs import RunStore

        iteration = self.iteration.currentIndex() + 1
        RunStore().activate(iteration, None)
        self.log.appendPlainText(f"iteration {iteration} uses the shipped weights again")
        self.weightsChanged.emit(iteration)
