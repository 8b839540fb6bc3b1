"""Retraining from the GUI: a real worker thread, real MNIST, real checkpoints."""
import time
from dataclasses import replace

import pytest

from PySide6.QtCore import Qt, QTimer

from trainer import read_checkpoint
from trainer.runs import RunStore


def set_quick_run(panel, mnist_dir, epochs=1, images=512) -> None:
    panel.iteration.setCurrentIndex(4)  # iteration 5
    panel.epochs.setValue(epochs)
    panel.train_images.setValue(images)
    panel.data_dir.setText(str(mnist_dir))


def test_a_short_run_updates_charts_saves_and_is_used(window, qtbot, mnist_dir):
    panel = window.training
    set_quick_run(panel, mnist_dir)
    with qtbot.waitSignal(panel.runFinished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    path = finished.args[0]
    assert panel.loss_chart.point_count("batch loss") > 0
    assert panel.accuracy_chart.point_count("test") == 1 and panel.lr_chart.point_count("lr") == 1
    assert panel.overall_progress.value() == 100 and panel.epoch_progress.value() == 100
    checkpoint = read_checkpoint(path)
    assert checkpoint["iteration"] == 5 and checkpoint["train_images"] == 512 and checkpoint["epochs"] == 1
    slot = window.predictor.slots[5]
    assert slot.retrained and str(slot.path) == path
    assert "Retrained" in window.card.text() and f"{checkpoint['test_accuracy']:.2f}%" in window.card.text()
    assert window.compare.table.item(4, 6).text() == "retrained"
    assert panel.runs.rowCount() == 1 and "epoch 1/1" in panel.log.toPlainText()

    panel.revert()
    assert not window.predictor.slots[5].retrained

    # A second run keeps the first one's curves, dashed, for comparison.
    with qtbot.waitSignal(panel.runFinished, timeout=60_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert list(panel.accuracy_chart.previous) == ["train", "test"]
    assert panel.accuracy_chart.previous["test"].count() == 1
    assert panel.runs.rowCount() == 2
    panel.runs.selectRow(1)  # the older run
    panel.use_selected_run()
    assert str(window.predictor.slots[5].path) == path


def test_stop_mid_epoch_ends_quickly_and_writes_nothing(window, qtbot, mnist_dir):
    panel = window.training
    set_quick_run(panel, mnist_dir, images=60_000)
    with qtbot.waitSignal(panel.thread.worker.batch, timeout=30_000):
        panel.start()
    start = time.perf_counter()
    with qtbot.waitSignal(panel.runStopped, timeout=1_000):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert time.perf_counter() - start < 1.0
    assert RunStore().list_runs() == [] and not panel.running
    assert "nothing saved" in panel.speed.text()


def test_the_gui_thread_keeps_ticking_while_training(window, qtbot, mnist_dir):
    panel = window.training
    set_quick_run(panel, mnist_dir, images=12_800)
    ticks = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    with qtbot.waitSignal(panel.runFinished, timeout=60_000):
        panel.start()
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 50
    assert max(gaps) < 0.100, f"the GUI thread waited {max(gaps) * 1000:.0f} ms"


def test_closing_the_window_during_a_run_asks_then_joins(window, qtbot, mnist_dir):
    panel = window.training
    set_quick_run(panel, mnist_dir, images=60_000)
    with qtbot.waitSignal(panel.thread.worker.batch, timeout=30_000):
        panel.start()
    asked = []
    window.confirm_stop_training = lambda: asked.append(True) or True  # the person answers Yes
    assert window.close()
    assert asked == [True]
    assert panel.thread.thread.isFinished()
    assert RunStore().list_runs() == []


def test_closing_can_be_refused(window, qtbot, mnist_dir):
    panel = window.training
    set_quick_run(panel, mnist_dir, images=60_000)
    with qtbot.waitSignal(panel.thread.worker.batch, timeout=30_000):
        panel.start()
    window.confirm_stop_training = lambda: False
    assert not window.close() and panel.running
    with qtbot.waitSignal(panel.runStopped, timeout=1_000):
        panel.stop()


def test_an_exception_in_the_worker_becomes_a_message(window, qtbot, mnist_dir):
    panel = window.training
    set_quick_run(panel, mnist_dir)
    with qtbot.waitSignal(panel.runFailed, timeout=30_000) as failed:
        panel.start(replace(panel.current_config(), batch_size=0))
    assert "unexpected error: ZeroDivisionError" in failed.args[0]
    assert not panel.running and panel.train_button.isEnabled()


def test_cuda_chosen_but_absent(window, qtbot, mnist_dir):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    panel = window.training
    set_quick_run(panel, mnist_dir)
    panel.device.setCurrentIndex(2)
    assert panel.device.currentText() == "CUDA (none found)"
    with qtbot.waitSignal(panel.runFailed, timeout=30_000) as failed:
        panel.start()
    assert "no CUDA device" in failed.args[0]


def test_missing_data_offers_a_folder_or_the_download(window, qtbot, tmp_path, monkeypatch):
    """This machine has no internet: the real download fails, the progress closes, the offer comes back."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    panel = window.training
    panel.data_dir.setText(str(tmp_path))
    with qtbot.waitSignal(panel.runFailed, timeout=60_000):
        panel.start()
    first = panel.data_dialog
    assert "t10k-images-idx3-ubyte.gz" in first.text() and str(tmp_path) in first.text()
    assert "MNIST_DATA_DIR" in first.text()
    labels = [b.text() for b in first.buttons()]
    assert "Choose folder…" in labels and "Download (11 MB)" in labels
    assert panel.train_button.isEnabled()  # the window keeps working

    download = next(b for b in first.buttons() if b.text().startswith("Download"))
    qtbot.mouseClick(download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.data_dialog is not first or panel.data_dir.text() != str(tmp_path),
                    timeout=120_000)
    if panel.data_dir.text() != str(tmp_path):
        pytest.skip("the download worked: this machine has internet")
    assert "the download failed" in panel.data_dialog.text()
    assert not panel.download_progress.isVisible()


def test_stop_can_keep_the_last_completed_epoch(window, qtbot, mnist_dir):
    panel = window.training
    set_quick_run(panel, mnist_dir, epochs=3, images=19_200)  # 300 batches an epoch: time to stop in epoch 2
    panel.keep_partial.setChecked(True)
    with qtbot.waitSignal(panel.thread.worker.epoch, timeout=60_000):
        panel.start()
    with qtbot.waitSignal(panel.runStopped, timeout=1_000):
        panel.stop()
    runs = RunStore().list_runs()
    assert len(runs) == 1 and runs[0].epochs == 1 and runs[0].train_images == 19_200
    assert window.predictor.slots[5].retrained and window.predictor.slots[5].path == runs[0].path


def test_a_diverging_run_becomes_a_message(window, qtbot, mnist_dir):
    panel = window.training
    set_quick_run(panel, mnist_dir)
    with qtbot.waitSignal(panel.runFailed, timeout=30_000) as failed:
        panel.start(replace(panel.current_config(), lr=1e30, augment=False))
    assert "training diverged" in failed.args[0]
    assert RunStore().list_runs() == [] and panel.train_button.isEnabled()
