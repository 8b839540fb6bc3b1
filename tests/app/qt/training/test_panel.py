"""The Train tab in the real window: real clicks, a real background job, real MNIST, real checkpoints.

Stop at every moment and the save policy are tested on the controller (test_controller.py), the study's queue
on its own (test_study_queue.py); here, what a person sees and touches.
"""
from __future__ import annotations

import pytest
from PySide6.QtCharts import QLineSeries
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from trainer import read_checkpoint

from mnist_desktop._qt.concurrency import wait_for_jobs
from mnist_desktop._qt.widgets.charts import RunChart

RUN_TIMEOUT_MS = 600_000  # generous: a 2-core machine shared by many; the tests wait on signals, never on time


def set_quick_run(panel, mnist_dir, epochs=1, images=512) -> None:
    panel.form.iteration.set_number(5)
    panel.form.epochs.setValue(epochs)
    panel.form.train_images.setValue(images)
    panel.form.data_dir.setText(str(mnist_dir))


def train_tab(window):
    """The Train panel, on screen as a person sees it; asked about a worse model, the person keeps the one in
    use (a test that needs the dialog answers it itself, so no modal dialog can wait for nobody)."""
    window.tabs.setCurrentWidget(window.training)
    window.training.controller.confirm_use_worse = lambda iteration, new, current: False
    return window.training


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_a_short_run_draws_saves_announces_and_is_used(window, qtbot, mnist_dir):
    panel = train_tab(window)
    panel.controller.confirm_use_worse = lambda iteration, new, current: True  # "Use the new one"
    set_quick_run(panel, mnist_dir)
    announced = []
    panel.announce.connect(announced.append)
    with qtbot.waitSignal(panel.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        click(qtbot, panel.train_button)
    path = finished.args[0]
    monitor = panel.monitor
    assert monitor.loss_chart.point_count("batch loss") > 0
    # One epoch is one point: drawn as a marker, on a whole-epoch tick inside the axis.
    test_accuracy = monitor.accuracy_chart.current["test"]
    assert test_accuracy.count() == 1 and test_accuracy.pointsVisible()
    axis = monitor.accuracy_chart.x_axis
    assert axis.min() < 1 < axis.max() and axis.tickInterval() == 1 and axis.tickAnchor() == 0
    assert monitor.overall_progress.value() == 100 and monitor.run_progress.value() == 100
    info = read_checkpoint(path).info
    assert info.iteration == 5 and info.train_images == 512 and info.epochs == 1
    log = monitor.log.toPlainText()
    assert "iteration 5: 1 epoch, Adam lr 0.002" in log and "Recipe(" not in log and "epoch 1/1" in log
    assert len(announced) == 1 and announced[0].startswith("Iteration 5 retrained") and "now in use" in announced[0]
    assert window.statusBar().currentMessage() == announced[0]  # seen from any tab
    qtbot.waitUntil(lambda: window.predictor.slots[5].retrained and str(window.predictor.slots[5].path) == path)
    qtbot.waitUntil(lambda: panel.past_runs.table.rowCount() == 1)
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()

    panel.ask_revert = lambda iteration: True  # the person confirms
    click(qtbot, panel.past_runs.revert_button)
    qtbot.waitUntil(lambda: not window.predictor.slots[5].retrained)
    panel.past_runs.table.selectRow(0)
    click(qtbot, panel.past_runs.use_button)
    qtbot.waitUntil(lambda: str(window.predictor.slots[5].path) == path)


def test_five_back_to_back_clicks_on_train_and_stop_save_and_use_nothing(window, qtbot, mnist_dir):
    panel = train_tab(window)
    set_quick_run(panel, mnist_dir)
    changed = []
    panel.weightsChanged.connect(changed.append)
    for _ in range(5):
        with qtbot.waitSignal(panel.runStopped, timeout=RUN_TIMEOUT_MS):
            click(qtbot, panel.train_button)
            click(qtbot, panel.stop_button)
    store = panel.controller.store
    assert store.list_runs() == [] and all(store.active_path(n) is None for n in range(1, 8)) and changed == []
    assert "nothing saved" in panel.monitor.status.text() and panel.train_button.isEnabled()


def test_a_new_run_keeps_the_last_curves_dashed(qtbot):
    chart = RunChart("Accuracy per epoch", "accuracy (%)", ["train", "test"])
    chart.new_run(1)
    chart.append("test", [QPointF(1, 97.0)])
    chart.new_run(3)
    assert chart.previous["test"].count() == 1 and chart.previous["test"].pen().style() == Qt.PenStyle.DashLine
    assert chart.point_count("test") == 0 and chart.x_axis.max() > 3


def test_the_dashed_curves_are_said_and_kept_only_for_the_same_iteration(qtbot):
    from trainer.training import EpochEnd, TrainConfig

    from mnist_desktop._qt.training.controller import Progress
    from mnist_desktop._qt.training.forms import RunMonitor

    monitor = RunMonitor()
    qtbot.addWidget(monitor)
    monitor.show()

    def run(iteration: int, fraction: float, finished: bool) -> None:
        monitor.new_run(TrainConfig(iteration, epochs=20), "")
        monitor.show_epoch(EpochEnd(1, 20, 0.1, 97.0, 0.1, 97.5, 0.002, 1.0, 1000.0))
        monitor.show_progress(Progress(9, 20, fraction, fraction, None, 1000.0, 1, 1))
        monitor.run_ended(finished)

    run(5, 0.41, finished=False)
    run(5, 1.0, finished=True)
    assert monitor.previous_note.text() == "Dashed: the previous run of iteration 5 (stopped at 41%)."
    assert monitor.accuracy_chart.previous["test"].count() == 1
    monitor.new_run(TrainConfig(5, epochs=20), "")
    assert monitor.previous_note.text() == "Dashed: the previous run of iteration 5 (all 20 epochs)."
    monitor.run_ended(False)
    monitor.new_run(TrainConfig(3, epochs=20), "")  # another iteration: no dashed curves to explain
    assert monitor.previous_note.isHidden() and monitor.accuracy_chart.previous == {}
    assert monitor.accuracy_chart.point_count("test") == 0


def test_bad_settings_are_shown_in_the_panel_and_nothing_starts(window, qtbot, mnist_dir):
    panel = train_tab(window)
    values = panel.form.values() | {"lr": float("nan")}
    with qtbot.waitSignal(panel.controller.refused, timeout=1_000):
        assert not panel.start(values)
    assert panel.form.problem.isVisible() and "learning rate" in panel.form.problem.text()
    assert not panel.running and panel.train_button.isEnabled()


def test_the_wheel_over_an_unfocused_field_scrolls_the_panel(window, qtbot):
    panel = train_tab(window)
    window.resize(900, 500)
    bar = panel.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    lr = panel.form.lr
    before, scrolled = lr.value(), bar.value()

    def turn_the_wheel_over_lr() -> None:  # a real (spontaneous) wheel event, through the window
        QTest.wheelEvent(window.windowHandle(), QPointF(lr.mapTo(window, lr.rect().center())), QPoint(0, -120))

    turn_the_wheel_over_lr()
    qtbot.waitUntil(lambda: bar.value() > scrolled)
    assert lr.value() == before
    lr.setFocus()  # once the person clicked into the field, the wheel changes it
    qtbot.waitUntil(lr.hasFocus)
    turn_the_wheel_over_lr()
    assert lr.value() != before


def test_keep_the_last_epoch_is_the_controllers_policy(window, qtbot):
    panel = train_tab(window)
    click(qtbot, panel.form.keep_partial)
    assert panel.controller.keep_partial
    click(qtbot, panel.form.keep_partial)
    assert not panel.controller.keep_partial


def test_a_worse_model_is_used_only_when_the_person_says_so(window, qtbot):
    """The real dialog: Keep is the default; the person clicks "Use the new one"."""
    panel = train_tab(window)

    def answer(button_text: str) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and "99.00%" in box.text()
        click(qtbot, next(b for b in box.buttons() if b.text() == button_text))

    QTimer.singleShot(0, lambda: answer("Use the new one"))
    assert panel.ask_use_worse(5, 97.5, 99.0)
    QTimer.singleShot(0, lambda: answer("Keep the current model"))
    assert not panel.ask_use_worse(5, 97.5, 99.0)


def test_closing_the_window_during_a_run_asks_then_joins(window, qtbot, mnist_dir):
    panel = train_tab(window)
    set_quick_run(panel, mnist_dir, images=60_000)
    with qtbot.waitSignal(panel.controller.batch, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.train_button)
    asked = []
    window.confirm_stop_training = lambda: asked.append(True) or True  # the person answers Yes
    assert window.close()
    assert asked == [True]
    assert not window.abandoned_threads and wait_for_jobs(0)  # the run's job has ended
    assert panel.controller.store.list_runs() == []


def test_closing_can_be_refused(window, qtbot, mnist_dir):
    panel = train_tab(window)
    set_quick_run(panel, mnist_dir, images=60_000)
    with qtbot.waitSignal(panel.controller.batch, timeout=RUN_TIMEOUT_MS):
        panel.start()
    window.confirm_stop_training = lambda: False
    assert not window.close() and panel.running
    with qtbot.waitSignal(panel.runStopped, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.stop_button)
    assert "nothing saved" in panel.monitor.status.text()


def test_an_unexpected_error_in_the_worker_becomes_a_message(window, qtbot, mnist_dir, monkeypatch):
    import trainer.training

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(trainer.training, "augment", broken)  # a fault injected where no input can cause one
    panel = train_tab(window)
    set_quick_run(panel, mnist_dir)
    with qtbot.waitSignal(panel.runFailed, timeout=RUN_TIMEOUT_MS) as failed:
        panel.start()
    assert "unexpected error: RuntimeError: a bug" in failed.args[0]
    assert panel.form.problem.isVisible() and "RuntimeError" in panel.form.problem.text()
    assert not panel.running and panel.train_button.isEnabled()


def test_cuda_chosen_but_absent(window, qtbot, mnist_dir):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    panel = train_tab(window)
    set_quick_run(panel, mnist_dir)
    panel.form.device.setCurrentIndex(panel.form.device.findData("cuda"))
    assert panel.form.device.currentText() == "CUDA (none found)"
    with qtbot.waitSignal(panel.runFailed, timeout=RUN_TIMEOUT_MS) as failed:
        panel.start()
    assert "no CUDA device" in failed.args[0]


def test_the_study_form_queues_the_ticked_iterations_and_seeds(window, qtbot, mnist_dir):
    panel = train_tab(window)
    panel.form.data_dir.setText(str(mnist_dir))
    for number in (2, 3, 4, 5, 6, 7):
        click(qtbot, panel.study.iterations[number])
    panel.study.seeds.setValue(2)
    panel.form.train_images.setValue(640)
    with qtbot.waitSignal(panel.controller.runStarted, timeout=RUN_TIMEOUT_MS) as started:
        click(qtbot, panel.study.run_button)
    config, label = started.args
    assert label == "iteration 1, seed 0" and config.iteration == 1 and config.train_limit == 640
    assert config.data_dir == str(mnist_dir)
    assert not panel.study.run_button.isEnabled() and panel.stop_button.isEnabled()
    with qtbot.waitSignal(panel.runStopped, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.stop_button)
    assert "study of iterations 1 × 2 seed(s)" in panel.monitor.log.toPlainText()
    assert "Study stopped" in panel.monitor.status.text()


def test_the_learning_curves_give_each_iteration_its_own_colour_on_whole_epochs(window):
    series = [s for s in window.compare.chart.series() if isinstance(s, QLineSeries)]  # not the study's bands
    assert len(series) == 7 and len({s.color().name() for s in series}) == 7
    one_epoch = next(s for s in series if s.name().startswith("1"))
    assert one_epoch.count() == 1 and one_epoch.pointsVisible()  # iteration 1 trains one epoch: one point
    x_axis = window.compare.chart.axes(Qt.Orientation.Horizontal)[0]
    assert x_axis.tickInterval() == 2 and x_axis.tickAnchor() == 0 and x_axis.min() < 1  # 20 epochs: 2, 4, … 20
