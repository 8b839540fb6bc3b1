"""MNIST missing: the dialog in plain words, a chosen folder or a download, and what waited goes on by itself.

The download function is replaced (success, failure, cancel): no test touches the network.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from trainer.data import ALL_FILES
from trainer.errors import DataNotFoundError
from trainer.paths import user_data_dir

RUN_TIMEOUT_MS = 600_000  # generous: a 2-core machine shared by many; the tests wait on signals, never on time


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def ask_for_data(panel, qtbot, resumed: list) -> None:
    """Something (as the Confusion tab does) needs MNIST; the dialog opens."""
    panel.controller.data.need_data("MNIST was not found (technical details here).", resumed.append)
    qtbot.waitUntil(lambda: panel.data_dialog is not None and panel.data_dialog.isVisible())


def test_training_without_mnist_asks_in_plain_words_and_a_chosen_folder_resumes_the_run(
        window, qtbot, tmp_path, monkeypatch, mnist_dir):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    panel = window.training
    panel.controller.confirm_use_worse = lambda iteration, new, current: False  # no modal dialog if it finishes
    empty = tmp_path / "empty"
    empty.mkdir()
    panel.form.train_images.setValue(512)
    panel.form.data_dir.setText(str(empty))
    with qtbot.waitSignal(panel.controller.data.dataMissing, timeout=RUN_TIMEOUT_MS) as missing:
        click(qtbot, panel.train_button)
    dialog = panel.data_dialog
    assert dialog.isVisible() and panel.train_button.isEnabled()  # the window keeps working
    words = dialog.informativeText()
    assert all(name in words for name in ALL_FILES)
    assert str(empty) in words and str(user_data_dir() / "mnist") in words and "11 MB" in words
    assert dialog.detailedText() == missing.args[0]  # the technical message, behind Details
    assert [b.text() for b in dialog.buttons()].count("Download (11 MB)") == 1

    panel.ask_folder = lambda: str(mnist_dir)  # the folder dialog's answer
    with qtbot.waitSignal(panel.controller.runStarted, timeout=RUN_TIMEOUT_MS) as started:
        click(qtbot, dialog.choose_button)
    assert started.args[0].data_dir == str(mnist_dir) and started.args[0].train_limit == 512
    assert panel.settings.value("data_dir") == str(mnist_dir) and panel.form.data_dir.text() == str(mnist_dir)
    with qtbot.waitSignal(panel.runStopped, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.stop_button)


def test_a_finished_download_is_remembered_and_resumes(window, qtbot, tmp_path):
    panel = window.training
    reports = []

    def download(progress, cancelled):
        for done in range(len(ALL_FILES) + 1):
            progress(done, len(ALL_FILES))
            reports.append(done)
        return tmp_path

    panel.controller.data.download_function = download
    resumed = []
    ask_for_data(panel, qtbot, resumed)
    with qtbot.waitSignal(panel.dataDirChanged, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.data_dialog.download_button)
    assert resumed == [str(tmp_path)] and reports == [0, 1, 2, 3, 4]
    assert panel.settings.value("data_dir") == str(tmp_path) and panel.download_progress is None


def test_a_failed_download_offers_the_choice_again_with_the_reason(window, qtbot):
    panel = window.training

    def download(progress, cancelled):
        progress(0, len(ALL_FILES))
        raise DataNotFoundError("MNIST was not found (the download failed: no route to host).")

    panel.controller.data.download_function = download
    resumed = []
    ask_for_data(panel, qtbot, resumed)
    first = panel.data_dialog
    with qtbot.waitSignal(panel.controller.data.downloadFailed, timeout=RUN_TIMEOUT_MS):
        click(qtbot, first.download_button)
    assert panel.data_dialog is not first and panel.data_dialog.isVisible()
    assert "no route to host" in panel.data_dialog.detailedText()
    assert resumed == [] and panel.download_progress is None


def test_a_cancelled_download_stops_between_files_and_nothing_resumes(window, qtbot):
    panel = window.training
    cancel_pressed = threading.Event()
    reports = []

    def download(progress, cancelled):  # as trainer.data.download_mnist: asks cancelled() before each file
        progress(0, len(ALL_FILES))
        reports.append(0)
        cancel_pressed.wait(60)
        if cancelled():
            raise DataNotFoundError("The MNIST download was cancelled; nothing was kept.")
        reports.append(1)

    panel.controller.data.download_function = download
    resumed = []
    ask_for_data(panel, qtbot, resumed)
    with qtbot.waitSignal(panel.controller.data.downloadProgress, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.data_dialog.download_button)
    progress = panel.download_progress
    assert progress.isVisible() and "0 of 4 files" in progress.labelText()
    with qtbot.waitSignal(panel.controller.data.downloadCancelled, timeout=RUN_TIMEOUT_MS):
        click(qtbot, progress.findChild(QPushButton))
        cancel_pressed.set()
    assert reports == [0] and resumed == [] and not progress.isVisible()
    assert panel.settings.value("data_dir", "") == "" and "download cancelled" in panel.monitor.log.toPlainText()


def test_the_confusion_tab_without_mnist_asks_and_goes_on_once_a_folder_is_chosen(window, qtbot, monkeypatch,
                                                                                   mnist_dir):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    panel, compare = window.training, window.compare
    window.tabs.setCurrentWidget(compare)
    with qtbot.waitSignal(panel.controller.data.dataMissing, timeout=RUN_TIMEOUT_MS):
        compare.tabs.setCurrentWidget(compare.mistakes_picker.parentWidget())  # the Mistakes tab
    assert panel.data_dialog.isVisible() and "MNIST was not found" in compare.mistakes_status.text()
    panel.ask_folder = lambda: str(mnist_dir)
    with qtbot.waitSignal(compare.evaluated, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.data_dialog.choose_button)
    assert compare.data_dir == str(mnist_dir) and "of the 10k test images right" in compare.mistakes_status.text()
