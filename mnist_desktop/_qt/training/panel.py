"""The Train tab: wires the views (settings, study, monitor, past runs) to the TrainingController and the
StudyQueue.

The panel holds no training logic. What only a person can answer (where MNIST is, whether a worse model
should replace the one in use) is asked here, through dialogs that tests replace.
"""
from __future__ import annotations

import importlib

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QMessageBox, QPushButton, QScrollArea,
                               QToolButton, QVBoxLayout, QWidget)

from ..concurrency import run_job
from ..widgets.dialogs import DownloadProgress, MissingDataDialog, ask_to_use
from ..widgets.iteration_picker import IterationPicker
from .controller import TrainingController
from .forms import PastRuns, RunForm, RunMonitor, StudyForm
from .study_queue import StudyQueue

if TYPE_CHECKING:
    from trainer.runs import RunStore
    from trainer.training import TrainConfig


class TrainingPanel(QWidget):
    weightsChanged = Signal(int)  # an iteration now uses other weights
    runFinished = Signal(str)  # the saved run's path
    runStopped = Signal()
    runFailed = Signal(str)
    ready = Signal()  # the trainer is loaded; Train is enabled
    announce = Signal(str)  # a sentence for outside the Train tab: a run or study finished
    studyFinished = Signal(object)  # study.json's contents, for Compare
    dataDirChanged = Signal(str)  # the folder that holds MNIST, chosen or downloaded

    def __init__(self, settings: QSettings, store: RunStore | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.controller = TrainingController(settings, store, self)
        self.controller.confirm_use_worse = self.ask_use_worse
        self.controller.run_settings = lambda: self.form.values()
        self.study_queue = StudyQueue(self.controller, self)
        # Asked when the person chooses a folder for MNIST; tests replace it.
        self.ask_folder: Callable[[], str] = self._ask_folder
        self.ask_revert: Callable[[int], bool] = self._ask_revert
        self._form_before: dict | None = None  # the form's values while a fine-tune shows its own
        self.prepared = False
        self.data_dialog: MissingDataDialog | None = None
        self.download_progress: DownloadProgress | None = None

        self.form = RunForm(self.controller.data.data_dir)
        self.study = StudyForm()
        self.monitor = RunMonitor()
        self.past_runs = PastRuns()
        self.monitor.tabs.addTab(self.past_runs, "Past runs")
        self.train_button = QPushButton("Train")
        self.train_button.setEnabled(False)  # until prepare() has loaded the trainer
        self.train_button.setToolTip("Loading the trainer…")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        # The run controls stay at the top; the settings fold away while a run trains, so that its four
        # charts fit the window (1200×760 and less), and unfold with a click.
        self.settings_toggle = QToolButton(text="Settings", checkable=True, checked=True)
        self.settings_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_toggle.setToolTip("Show or hide the run's and the study's settings")
        self.settings_box = QWidget()
        box = QVBoxLayout(self.settings_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.form)
        box.addWidget(self.study)
        self.settings_toggle.toggled.connect(self._show_settings)
        self._show_settings(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.settings_toggle)
        buttons.addWidget(self.train_button, 1)
        buttons.addWidget(self.stop_button, 1)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(buttons)
        layout.addWidget(self.settings_box)
        layout.addWidget(self.monitor, 1)
        self.scroll = QScrollArea(widgetResizable=True)  # the panel scrolls instead of making the window tall
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)

        # What the person does.
        self.train_button.clicked.connect(lambda: self.start())
        self.stop_button.clicked.connect(self.stop)
        self.study.run_button.clicked.connect(self.run_study)
        self.form.choose_data_dir.clicked.connect(self.choose_data_dir)
        self.form.keep_partial.toggled.connect(self._set_keep_partial)
        self.past_runs.useRun.connect(self.controller.use_run)
        self.past_runs.revertRequested.connect(self.revert)
        self.form.iteration.iterationChanged.connect(self.past_runs.set_form_iteration)
        self.past_runs.set_form_iteration(self.form.iteration.number())

        # What the controller reports.
        c = self.controller
        c.busyChanged.connect(self._on_busy)
        c.runStarted.connect(self.monitor.new_run)
        c.runStarted.connect(self._show_run)
        c.batch.connect(self.monitor.show_batch)
        c.progressed.connect(self.monitor.show_progress)
        c.epoch.connect(self.monitor.show_epoch)
        c.status.connect(self.monitor.status.setText)
        c.logged.connect(self.monitor.append_log)
        c.refused.connect(self._on_refused)
        c.runFinished.connect(self._on_finished)
        c.runStopped.connect(self._on_stopped)
        c.runFailed.connect(self._on_failed)
        c.runsListed.connect(self.past_runs.show_runs)
        c.weightsChanged.connect(self.weightsChanged)
        c.announce.connect(self.announce)
        self.study_queue.finished.connect(self._on_study_finished)
        c.data.dataMissing.connect(self.offer_data)
        c.data.dataDirChanged.connect(self._on_data_dir)
        c.data.downloadProgress.connect(self._on_download_progress)
        c.data.downloadFailed.connect(self._on_download_failed)
        c.data.downloadCancelled.connect(self._close_download_progress)

    # --- the old panel's names, used by the window and the benchmark -----------------------------
    @property
    def iteration(self) -> IterationPicker:
        return self.form.iteration

    @property
    def running(self) -> bool:
        return self.controller.busy

    def set_cuda_available(self, available: bool) -> None:
        self.form.set_cuda_available(available)

    def refresh_runs(self) -> None:
        self.controller.refresh_runs()

    # --- starting --------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Load the trainer in the background (the window calls this once the models are ready). Its first
        run imports torch._dynamo (core/threads.py)."""
        run_job(lambda: importlib.import_module("trainer.training"), self._on_prepared, self._on_failed_to_prepare,
                self)

    def _on_prepared(self, _) -> None:
        self.prepared = True
        self._on_busy(self.running)
        self.train_button.setToolTip("")
        self.ready.emit()

    def _on_failed_to_prepare(self, message: str) -> None:
        self.monitor.status.setText(f"Training is unavailable: {message}")

    def start(self, config: TrainConfig | None = None) -> bool:
        """Start a run with ``config``, or with the form's settings."""
        return self.controller.start(config or self.form.values())

    def stop(self) -> None:
        self.controller.stop()

    def run_study(self) -> bool:
        return self.study_queue.start(self.study.chosen_iterations(), self.study.seeds.value(),
                                      self.form.device.currentData(), self.form.train_limit(),
                                      self.form.values()["data_dir"])

    def revert(self, iteration: int) -> bool:
        """Back to the shipped weights for ``iteration``, once the person confirms; True when done."""
        return self.ask_revert(iteration) and self.controller.use_run(iteration, None)

    def _ask_revert(self, iteration: int) -> bool:
        from trainer.report import read_metrics

        shipped = read_metrics().get(iteration, {}).get("test_accuracy")
        box = QMessageBox(QMessageBox.Icon.Question, "Revert to the shipped weights?",
                          f"Iteration {iteration} will use its shipped weights again"
                          + (f" ({shipped:.2f}% test accuracy)." if shipped is not None else "."), parent=self)
        box.setInformativeText("The weights it uses now stay in Past runs; you can use them again later.")
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        revert = box.addButton(f"Revert iteration {iteration}", QMessageBox.ButtonRole.AcceptRole)
        box.exec()
        return box.clickedButton() is revert

    def _show_run(self, config: TrainConfig, label: str) -> None:
        """A single run (a fine-tune too) shows its settings in the form while it runs: what runs is what is
        shown. After a fine-tune the form shows what it showed before, so the next Train is not a fine-tune's."""
        if not label:
            if config.extra_data and self._form_before is None:
                self._form_before = self.form.values()
            self.form.show_config(config)

    def _show_problem(self, message: str) -> None:
        """Why a run did not start or failed, in the form: unfolded, so that it is seen."""
        self.form.show_problem(message)
        self.settings_toggle.setChecked(True)

    def _show_settings(self, shown: bool) -> None:
        self.settings_box.setVisible(shown)
        self.settings_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _set_keep_partial(self, keep: bool) -> None:
        self.controller.keep_partial = keep

    def _on_busy(self, busy: bool) -> None:
        self.form.set_running(busy)
        self.study.set_running(busy)
        self.train_button.setEnabled(self.prepared and not busy)
        self.study.run_button.setEnabled(self.prepared and not busy)
        self.stop_button.setEnabled(busy)
        if busy:
            self.form.show_problem("")
            self.monitor.reset_progress()
            self.settings_toggle.setChecked(False)  # the charts take the room
        elif self._form_before is not None:
            self.form.set_values(self._form_before)
            self._form_before = None

    def _on_refused(self, message: str) -> None:
        self._show_problem(message)
        self.monitor.status.setText("Not started: the settings need a change.")

    # --- endings ---------------------------------------------------------------------------------
    def _on_finished(self, path: str) -> None:
        self.monitor.run_ended(finished=True)
        self.runFinished.emit(path)

    def _on_stopped(self) -> None:
        self.monitor.run_ended(finished=False)
        self.runStopped.emit()

    def _on_failed(self, message: str, data_missing: bool) -> None:
        self.monitor.run_ended(finished=False)
        if not data_missing:  # else the MNIST dialog says it
            self._show_problem(message)
        self.runFailed.emit(message)

    def _on_study_finished(self, results: dict) -> None:
        self.monitor.run_ended(finished=True)
        self.studyFinished.emit(results)

    def ask_use_worse(self, iteration: int, new: float, current: float) -> bool:
        """The new run is worse than the model in use: keep that one (the default) or use the new one?"""
        return ask_to_use(self, "Use the new model?", f"The new run of iteration {iteration} reached {new:.2f}% "
                          f"test accuracy, below the {current:.2f}% of the model in use.", "Use the new one")

    # --- MNIST -----------------------------------------------------------------------------------
    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Folder with the four MNIST files", self.form.data_dir.text())

    def choose_data_dir(self) -> None:
        folder = self.ask_folder()
        if folder:
            self.controller.data.use_data_dir(folder)
        else:
            self.controller.data.forget_data_request()

    def offer_data(self, message: str) -> None:
        """MNIST is missing: name the files and folders, offer a folder or the download."""
        from trainer.data import ALL_FILES, _candidate_folders, default_download_dir

        self._close_data_dialog()
        dialog = MissingDataDialog(ALL_FILES, _candidate_folders(self.form.data_dir.text().strip() or None),
                                   default_download_dir(), message, self)
        dialog.finished.connect(self._on_data_answer)
        self.data_dialog = dialog
        dialog.open()

    def _on_data_answer(self) -> None:
        clicked = self.data_dialog.clickedButton()
        if clicked is self.data_dialog.choose_button:
            self.choose_data_dir()
        elif clicked is self.data_dialog.download_button:
            self.download()
        else:
            self.controller.data.forget_data_request()

    def _close_data_dialog(self) -> None:
        if self.data_dialog is not None and self.data_dialog.isVisible():
            self.data_dialog.finished.disconnect(self._on_data_answer)
            self.data_dialog.close()

    def download(self) -> None:
        from trainer.data import ALL_FILES, default_download_dir

        self.download_progress = DownloadProgress(default_download_dir(), len(ALL_FILES), self)
        self.download_progress.canceled.connect(self.controller.data.cancel_download)
        self.download_progress.open()
        self.controller.data.download()

    def _on_download_progress(self, done: int, total: int) -> None:
        if self.download_progress is not None:
            self.download_progress.show_progress(done, total)

    def _close_download_progress(self) -> None:
        if self.download_progress is not None:
            self.download_progress.canceled.disconnect(self.controller.data.cancel_download)
            self.download_progress.close()
            self.download_progress = None

    def _on_download_failed(self, message: str) -> None:
        self._close_download_progress()
        self.offer_data(message)

    def _on_data_dir(self, folder: str) -> None:
        self._close_download_progress()
        self.form.data_dir.setText(folder)
        self.dataDirChanged.emit(folder)

