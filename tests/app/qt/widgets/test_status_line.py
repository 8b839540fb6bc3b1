"""Status messages stay only while true, in the real window with real strokes and keys: what is said about the
drawing goes when the drawing changes, what just happened goes after a while, and the models' state shows
again whenever no message does."""
from PySide6.QtCore import Qt

from mnist_desktop._qt.widgets import status_line
from mnist_desktop.core.drawing_store import DrawingStore

from tests.app.conftest import draw, loop_stroke, stroke, vertical_stroke


def message(window) -> str:
    return window.statusBar().currentMessage()


def test_kept_as_goes_with_the_drawing_it_is_about(window, qtbot):
    state = window.status_line.state
    assert state.text() == "8 models ready." and state.isVisible()
    draw(qtbot, window.canvas, vertical_stroke())
    with qtbot.waitSignal(window.drawings.refreshed, timeout=10_000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_1)
    assert message(window) == "Kept as a 1 in Your drawings; iteration 5 got it right." and state.isHidden()
    stroke(qtbot, window.canvas, loop_stroke())  # the drawing is another now: the sentence no longer holds
    assert message(window) == "" and state.isVisible()

    qtbot.keyClick(window.canvas, Qt.Key.Key_0)  # kept as its own drawing
    qtbot.waitUntil(lambda: message(window).startswith("Kept as a 0"), timeout=10_000)
    window.clear_action.trigger()  # Ctrl+L
    assert message(window) == "" and len(DrawingStore().load()[0]) == 2


def test_what_just_happened_is_said_for_a_while(window, qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(status_line, "SAY_MS", 50)
    draw(qtbot, window.canvas, vertical_stroke())
    qtbot.keyClick(window.canvas, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: message(window).startswith("Kept as a 1"), timeout=10_000)
    assert window.files.save_drawing(str(tmp_path / "one.png"))  # "Saved …" replaces it, then goes
    assert message(window) == f"Saved {tmp_path / 'one.png'}"
    qtbot.waitUntil(lambda: message(window) == "" and window.status_line.state.isVisible())
    assert window.status_line.state.text() == "8 models ready."

    window.files.open_image(str(tmp_path / "one.png"))  # said until the opened image is drawn over
    qtbot.waitUntil(lambda: message(window) == f"Opened {tmp_path / 'one.png'}", timeout=10_000)
    stroke(qtbot, window.canvas, loop_stroke())
    assert message(window) == ""
