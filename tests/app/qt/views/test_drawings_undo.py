"""Nothing in Your drawings is lost by one click: delete, relabel and import say what they did, and Undo (the
button, or Ctrl+Z in the view) takes each back, latest first, with real keys and clicks."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from mnist_desktop._qt.views.drawings import DrawingsView
from mnist_desktop.core.drawing_store import DrawingStore
from mnist_desktop.core.render import render_strokes
from mnist_desktop.core.strokes import Drawing, Stroke

from tests.app.conftest import draw, vertical_stroke


def keep(store: DrawingStore, x: float, label: int):
    strokes = (Stroke(tuple((x, 0.2 + 0.06 * i) for i in range(11)), 20 / 280),)
    return store.add(render_strokes(Drawing(strokes=strokes)), strokes, label)


@pytest.fixture
def view(qtbot, tmp_path):
    """The view alone (no models: nothing is measured), on a store with a 1 and a 7, shown and active."""
    store = DrawingStore(tmp_path / "user")
    keep(store, 0.45, 1)
    keep(store, 0.55, 7)
    v = DrawingsView(store)
    qtbot.addWidget(v)
    v.show()
    v.activateWindow()
    qtbot.waitUntil(v.isActiveWindow)
    with qtbot.waitSignal(v.refreshed, timeout=10_000):
        v.refresh()
    return v


def act(qtbot, view, widget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A real key on ``widget``; returns once the store is changed and shown again."""
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.keyClick(widget, key, modifier)


def labels(store: DrawingStore) -> list[int]:
    return sorted(d.label for d in store.load()[0])


def test_a_deleted_drawing_comes_back_as_it_was_by_the_undo_button(view, qtbot):
    before = {d.id: d for d in view.store.load()[0]}
    view.rows[7].setCurrentRow(0)
    act(qtbot, view, view.rows[7], Qt.Key.Key_Delete)
    assert labels(view.store) == [1] and view.notice.text() == "Deleted a drawing labelled 7."
    assert view.notice.undo_button.isVisible()
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(view.notice.undo_button, Qt.MouseButton.LeftButton)
    after = {d.id: d for d in view.store.load()[0]}
    assert after.keys() == before.keys() and view.rows[7].count() == 1
    seven = next(d for d in after.values() if d.label == 7)
    original = before[seven.id]
    assert (seven.created, seven.answers, seven.strokes) == (original.created, original.answers, original.strokes)
    assert np.array_equal(seven.image, original.image)
    assert view.notice.text() == "Undone: the drawing labelled 7 is back." and not view.notice.undo_button.isVisible()


def test_ctrl_z_in_the_view_takes_back_relabels_and_deletes_latest_first(view, qtbot):
    said = []
    view.said.connect(said.append)
    view.rows[1].setCurrentRow(0)
    act(qtbot, view, view.rows[1], Qt.Key.Key_8)
    assert labels(view.store) == [7, 8] and said[-1] == "Relabelled a 1 as an 8."  # "an 8"
    view.rows[7].setCurrentRow(0)
    act(qtbot, view, view.rows[7], Qt.Key.Key_Delete)
    assert labels(view.store) == [8]
    row = view.rows[8]
    row.setFocus()
    act(qtbot, view, row, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels(view.store) == [7, 8] and said[-1] == "Undone: the drawing labelled 7 is back."
    act(qtbot, view, QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels(view.store) == [1, 7] and said[-1] == "Undone: the drawing is labelled 1 again."
    assert view.undo_steps == []
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels(view.store) == [1, 7]  # nothing left to undo: nothing changes


def test_an_import_is_undone_as_a_whole_and_keeps_what_was_there(view, qtbot, tmp_path):
    other = DrawingStore(tmp_path / "other")
    for x, label in [(0.3, 3), (0.35, 4), (0.45, 1)]:  # the 1 is already kept: not added, not removed
        keep(other, x, label)
    other.export_zip(tmp_path / "theirs.zip")
    view.ask_import_path = lambda: str(tmp_path / "theirs.zip")
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    assert labels(view.store) == [1, 3, 4, 7]
    assert view.notice.undo_button.toolTip() == "Remove the 2 drawings just imported (Ctrl+Z)"
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.mouseClick(view.notice.undo_button, Qt.MouseButton.LeftButton)
    assert labels(view.store) == [1, 7]
    assert view.notice.text() == "Undone: removed the 2 drawings imported from theirs.zip."


def test_ctrl_z_on_your_drawings_leaves_the_canvas_alone(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view = window.drawings
    draw(qtbot, window.canvas, vertical_stroke())
    with qtbot.waitSignal(view.refreshed, timeout=10_000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_1)
    assert window.statusBar().currentMessage().startswith("Kept as a 1")
    window.tabs.setCurrentWidget(view)
    view.rows[1].setCurrentRow(0)
    view.rows[1].setFocus()
    act(qtbot, view, view.rows[1], Qt.Key.Key_Delete)
    assert window.statusBar().currentMessage() == "Deleted a drawing labelled 1."  # "Kept as a 1" is no longer true
    act(qtbot, view, view.rows[1], Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels(DrawingStore()) == [1] and len(window.canvas.drawing.strokes) == 1
    window.tabs.setCurrentIndex(0)
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # on the canvas: a stroke
    assert window.canvas.drawing.strokes == () and labels(DrawingStore()) == [1]
