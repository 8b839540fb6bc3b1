"""Your drawings in the real window: labelled by real keys and clicks, relabelled, deleted, exported, imported,
measured in Compare, and fine-tuned on through the Train panel."""
import base64
import json
import zipfile
from dataclasses import replace

import numpy as np

from PySide6.QtCore import QPoint, Qt

from mnist_desktop._qt.widgets.fine_tune_dialog import FineTuneSettings
from mnist_desktop.core.drawing_store import DrawingStore, to_uint8
from trainer.runs import RunStore

from tests.app.conftest import draw, loop_stroke, stroke, vertical_stroke
from tests.hostile import png_claiming


def label_with_key(window, qtbot, key) -> None:
    with qtbot.waitSignal(window.drawings.refreshed, timeout=10_000):
        qtbot.keyClick(window.canvas, key)  # the canvas passes keys on: the window labels the drawing


def texts(row) -> list[str]:
    return [row.item(i).text() for i in range(row.count())]


def test_a_real_key_labels_the_drawing_and_the_view_shows_it_right_or_wrong(window, qtbot):
    view = window.drawings
    qtbot.waitUntil(lambda: "No drawings yet" in view.summary.text())
    draw(qtbot, window.canvas, vertical_stroke())
    label_with_key(window, qtbot, Qt.Key.Key_1)
    assert "Kept as a 1 in Your drawings; iteration 5 got it right." == window.statusBar().currentMessage()
    assert texts(view.rows[1]) == ["✓"]

    window.canvas.clear()
    draw(qtbot, window.canvas, loop_stroke())  # a 0, labelled 7: iteration 5 is wrong about it
    label_with_key(window, qtbot, Qt.Key.Key_7)
    assert texts(view.rows[7]) == ["✗ 0"] and "1 of 2" in view.scores.table.item(4, 3).text()
    assert "50.0%" in view.summary.text()
    kept = DrawingStore().load()[0]
    assert sorted(d.label for d in kept) == [1, 7] and all(len(d.strokes) == 1 for d in kept)

    # A click on a probability bar labels too; the same drawing again is relabelled, not kept twice.
    bars = window.recognise.panel.bars
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(bars, Qt.MouseButton.LeftButton, pos=QPoint(round(bars.width() * 0.05), bars.height() // 2))
    assert texts(view.rows[0]) == ["✓"] and view.rows[7].count() == 0 and len(DrawingStore().load()[0]) == 2

    # Relabel and delete from the view, with real keys on the selected drawing.
    window.tabs.setCurrentWidget(view)
    view.rows[1].setCurrentRow(0)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.keyClick(view.rows[1], Qt.Key.Key_4)
    assert view.rows[1].count() == 0 and texts(view.rows[4]) == ["✗ 1"]
    view.rows[4].setCurrentRow(0)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.keyClick(view.rows[4], Qt.Key.Key_Delete)
    assert view.rows[4].count() == 0 and [d.label for d in DrawingStore().load()[0]] == [0]


def test_a_key_pressed_before_the_stroke_is_recognised_labels_what_the_models_then_saw(window, qtbot):
    canvas = window.canvas
    stroke(qtbot, canvas, loop_stroke())
    label_with_key(window, qtbot, Qt.Key.Key_0)  # at once: the recognition of the finished loop is in flight
    kept = DrawingStore().load()[0][0]
    assert kept.strokes == canvas.drawing.strokes and kept.answers[5] == 0
    # the 28x28 of the whole loop, not of a part of it
    assert np.array_equal(kept.image, to_uint8(window.answers.image))


def test_a_label_for_a_drawing_cleared_before_its_answer_keeps_nothing(window, qtbot):
    canvas = window.canvas
    stroke(qtbot, canvas, vertical_stroke())
    qtbot.keyClick(canvas, Qt.Key.Key_1)  # the stroke's recognition is still in flight
    window.clear_action.trigger()
    qtbot.waitUntil(lambda: "Not labelled 1" in window.statusBar().currentMessage(), timeout=10_000)
    assert DrawingStore().load() == ([], [])


def test_nothing_to_label_is_one_sentence(window, qtbot):
    qtbot.keyClick(window.canvas, Qt.Key.Key_3)
    assert window.last_error == "There is no digit to label: draw one first, then press its key (0-9)."
    assert DrawingStore().load() == ([], [])


def test_export_import_and_bad_files_in_the_view(window, qtbot, tmp_path):
    view = window.drawings
    draw(qtbot, window.canvas, vertical_stroke())
    label_with_key(window, qtbot, Qt.Key.Key_1)
    exported = tmp_path / "mine.zip"
    view.ask_export_path = lambda: str(exported)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert zipfile.is_zipfile(exported) and view.notice.text() == f"Exported 1 drawing to {exported}."

    view.rows[1].setCurrentRow(0)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    view.ask_import_path = lambda: str(exported)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    assert view.notice.text() == "Imported 1 drawing from mine.zip." and texts(view.rows[1]) == ["✓"]

    (DrawingStore().folder / "broken.json").write_text("{")
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip")
    view.ask_import_path = lambda: str(garbage)
    qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "garbage.zip is not a ZIP file, or it is damaged." in view.messages.text())
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.refresh()
    assert "broken.json was skipped: it is not readable JSON" in view.messages.text()
    assert "garbage.zip" in view.messages.text()  # both said, one sentence each
    assert view.rows[1].count() == 1  # the rest is kept


def test_fine_tune_from_the_view_shows_both_figures_and_can_be_reverted(window, qtbot, mnist_dir):
    view, panel = window.drawings, window.training
    for stroke, key in [(vertical_stroke(), Qt.Key.Key_1), (loop_stroke(), Qt.Key.Key_0),
                        (vertical_stroke()[2:], Qt.Key.Key_1)]:
        window.canvas.clear()
        draw(qtbot, window.canvas, stroke)
        label_with_key(window, qtbot, key)
    panel.form.train_images.setValue(512)
    panel.form.data_dir.setText(str(mnist_dir))
    form_before = panel.form.values()
    offered, asked = [], []
    # The person keeps the iteration and epochs offered and takes 256 of MNIST's images.
    view.ask_fine_tune = lambda settings: offered.append(settings) or replace(settings, mnist_images=256)
    view.ask_use_fine_tune = lambda checkpoint: asked.append(checkpoint) or True  # and uses the result
    with qtbot.waitSignal(panel.runFinished, timeout=120_000) as finished:
        qtbot.mouseClick(view.fine_tune_button, Qt.MouseButton.LeftButton)
    assert offered == [FineTuneSettings(5, 2, None)]  # the iteration in view, a fine-tune's epochs, all of MNIST
    assert window.tabs.currentWidget() is panel  # the live charts are in view
    record = asked[0]["fine_tune"]
    assert (record["drawings"], record["held_out"]) == (3, 1) and "before" in record
    assert asked[0]["epochs"] == 2 and asked[0]["recipe"]["lr"] == 0.0002 and asked[0]["train_images"] == 256
    assert panel.form.values() == form_before  # the next Train is not a fine-tune's
    assert panel.monitor.accuracy_chart.point_count("your held-out drawings") == 2
    assert "your held-out drawings" in panel.monitor.log.toPlainText()
    assert window.statusBar().currentMessage().startswith("Iteration 5 fine-tuned on your 3 drawings: ")
    qtbot.waitUntil(lambda: window.predictor.slots[5].retrained)
    assert str(window.predictor.slots[5].path) == finished.args[0]
    card = window.recognise.card
    qtbot.waitUntil(lambda: "Fine-tuned</b>" in card.text(), timeout=10_000)
    assert "fine-tune on your 3 drawings + 256 MNIST images" in card.text()

    # Past runs name it a fine-tune; Revert names the iteration it acts on and asks first.
    past = panel.past_runs
    qtbot.waitUntil(lambda: past.table.rowCount() == 1, timeout=10_000)
    column = past.COLUMNS.index("Trained on")
    assert past.table.item(0, column).text() == "fine-tune on your 3 drawings + 256 MNIST images"
    panel.form.iteration.set_number(3)
    assert past.revert_button.text() == "Revert iteration 3 to the shipped weights"
    past.table.selectRow(0)
    assert past.revert_button.text() == "Revert iteration 5 to the shipped weights"
    reverts = []
    panel.ask_revert = lambda iteration: reverts.append(iteration) or False  # the person cancels
    qtbot.mouseClick(past.revert_button, Qt.MouseButton.LeftButton)
    assert reverts == [5] and RunStore().active_path(5) is not None
    panel.ask_revert = lambda iteration: reverts.append(iteration) or True
    qtbot.mouseClick(past.revert_button, Qt.MouseButton.LeftButton)
    assert reverts == [5, 5] and RunStore().active_path(5) is None
    said = "Iteration 5 uses its shipped weights again (99.21% test accuracy)."
    assert window.statusBar().currentMessage() == said and panel.monitor.status.text() == said
    qtbot.waitUntil(lambda: not window.predictor.slots[5].retrained, timeout=10_000)
    qtbot.waitUntil(lambda: "Fine-tuned" not in card.text(), timeout=10_000)


def test_hostile_files_in_the_drawings_folder_are_listed_and_the_rest_shown(window, qtbot):
    """A pixel bomb and JSON nested 100,000 deep among the drawings: each one sentence in the view (once this
    was "Unexpected error" and no drawing at all), the drawing beside them still shown."""
    view = window.drawings
    draw(qtbot, window.canvas, vertical_stroke())
    label_with_key(window, qtbot, Qt.Key.Key_1)
    folder = DrawingStore().folder
    good = json.loads(next(folder.glob("*.json")).read_text())
    bomb = base64.b64encode(png_claiming(20_000, 20_000)).decode()
    (folder / "bomb.json").write_text(json.dumps(good | {"image_png": bomb}))
    (folder / "deep.json").write_text("[" * 100_000)
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        view.refresh()
    assert view.messages.text().splitlines() == [
        f"{folder / 'bomb.json'} was skipped: its image is too large: images up to 4,096 pixels are read.",
        f"{folder / 'deep.json'} was skipped: it is not readable JSON (nested too deeply)."]
    assert not view.messages.isHidden() and texts(view.rows[1]) == ["✓"] and window.last_error is None
