"""File > Open and Save in the real window: images read off the GUI thread, a sentence for a bad one, the
drawing saved as a PNG."""
import numpy as np
import pytest
from PIL import Image

from tests.app.conftest import draw, settle, vertical_stroke
from tests.app.qt.test_window import top_digit


def test_opening_a_dark_on_light_png(window, qtbot, tmp_path):
    paper = np.full((200, 150), 255, np.uint8)
    paper[30:170, 65:85] = 0  # a dark "1" on white paper
    Image.fromarray(paper).save(tmp_path / "one.png")
    with qtbot.waitSignal(window.files.opened, timeout=10_000):
        window.files.open_image(str(tmp_path / "one.png"))
        assert window.canvas.drawing.blank  # read on the thread pool: the GUI thread goes on meanwhile
    settle(qtbot, window)
    assert top_digit(window) == 1


@pytest.mark.parametrize("name, dtype, paper, ink", [("one.png", np.uint16, 60000, 12000),
                                                     ("one.tiff", np.float32, 1.0, 0.2)])
def test_opening_a_16_bit_png_or_a_float_tiff(window, qtbot, tmp_path, name, dtype, paper, ink):
    """Clipped to 8 bits, both read as white paper: "the canvas is empty"."""
    picture = np.full((200, 150), paper, dtype)
    picture[30:170, 65:85] = ink
    Image.fromarray(picture).save(tmp_path / name)
    with qtbot.waitSignal(window.files.opened, timeout=10_000):
        window.files.open_image(str(tmp_path / name))
    settle(qtbot, window)
    assert top_digit(window) == 1


def test_an_unreadable_image_gives_a_message(window, qtbot, tmp_path):
    (tmp_path / "broken.png").write_text("not an image")
    window.files.open_image(str(tmp_path / "broken.png"))
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10_000)
    assert "cannot be opened as an image" in window.last_error
    assert "cannot be opened" in window.statusBar().currentMessage()
    assert window.canvas.drawing.blank


def test_an_image_too_large_gives_a_message_and_keeps_the_drawing(window, qtbot, tmp_path):
    draw(qtbot, window.canvas, vertical_stroke())
    Image.new("L", (9000, 5000)).save(tmp_path / "huge.png")  # 45 MP, over the 40 MP bound
    window.files.open_image(str(tmp_path / "huge.png"))
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10_000)
    assert "too large" in window.last_error and len(window.canvas.drawing.strokes) == 1


def test_saving_the_drawing(window, qtbot, tmp_path):
    draw(qtbot, window.canvas, vertical_stroke())
    assert window.files.save_drawing(str(tmp_path / "d.png"))
    saved = np.asarray(Image.open(tmp_path / "d.png"))
    assert saved.shape == (280, 280) and saved.max() == 255


def test_a_drawing_that_cannot_be_written_gives_a_message(window, qtbot, tmp_path):
    draw(qtbot, window.canvas, vertical_stroke())
    assert not window.files.save_drawing(str(tmp_path))  # a folder
    assert window.last_error == f"Could not write {tmp_path}. Choose another folder."
