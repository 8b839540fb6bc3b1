"""Every saved setting is read with its type; one bad value costs that value (a warning), never the start."""
import logging

import pytest
from PySide6.QtCore import QSettings

from mnist_desktop._qt.widgets.canvas import DEFAULT_BRUSH
from mnist_desktop.core.settings import SettingsReader
from mnist_desktop._qt.window import MainWindow
from trainer.iterations import DEFAULT_ITERATION

from tests.app.conftest import draw, vertical_stroke


def start_with(qtbot, tmp_path, ini: str) -> MainWindow:
    """The real window started from a settings file with ``ini`` as its [General] section."""
    path = tmp_path / "settings.ini"
    path.write_text("[General]\n" + ini + "\n")
    window = MainWindow(QSettings(str(path), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.mark.parametrize("ini", ["iteration=abc", "iteration=9", "iteration=0", "iteration=2.5", "iteration=1, 2",
                                 "iteration=@Invalid()"])
def test_a_bad_iteration_falls_back_to_the_default(qtbot, tmp_path, caplog, ini):
    with caplog.at_level(logging.WARNING):
        window = start_with(qtbot, tmp_path, ini)
    assert window.iteration == DEFAULT_ITERATION
    assert "settings: ignoring iteration" in caplog.text


@pytest.mark.parametrize("ini", ["brush=abc", "brush=-5", "brush=1000", "brush=true",
                                 r"brush=@Variant(\0\0\0\x7f\0\0\0\x11garbage)"])
def test_a_bad_brush_falls_back_to_the_default_and_draws(qtbot, tmp_path, caplog, ini):
    with caplog.at_level(logging.WARNING):
        window = start_with(qtbot, tmp_path, ini)
    assert "settings: ignoring brush" in caplog.text
    assert window.canvas.brush_width == DEFAULT_BRUSH == window.brush.value()
    draw(qtbot, window.canvas, vertical_stroke())
    assert window.canvas.drawing.strokes[0].width == DEFAULT_BRUSH / 280


@pytest.mark.parametrize("ini", ["geometry=garbage", "geometry=@ByteArray(garbage)", "geometry=12"])
def test_a_bad_geometry_gives_the_default_size(qtbot, tmp_path, caplog, ini):
    with caplog.at_level(logging.WARNING):
        window = start_with(qtbot, tmp_path, ini)
    assert "geometry" in caplog.text
    assert window.isVisible() and window.width() > 200 and window.height() > 200


@pytest.mark.parametrize("ini", ["data_dir=a, b", "data_dir=@Invalid()"])  # a list of two strings; undecodable
def test_a_bad_data_folder_is_ignored(qtbot, tmp_path, caplog, ini):
    with caplog.at_level(logging.WARNING):
        window = start_with(qtbot, tmp_path, ini)
    assert window.training.controller.data.data_dir == ""
    assert "settings: ignoring data_dir" in caplog.text


def test_good_values_are_read(qtbot, tmp_path):
    window = start_with(qtbot, tmp_path, "iteration=3\nbrush=33")
    assert window.iteration == 3 and window.canvas.brush_width == 33


def test_the_reader_types_and_ranges():
    values = {"n": "7", "spaced": " 7 ", "big": "70", "word": "seven", "int": 7, "flag": True, "list": ["1", "2"],
              "text": "folder", "bytes": b"\x01\x02", "bytearray": bytearray(b"\x01")}
    read = SettingsReader(values.get)
    assert read.integer("n", 1, range(1, 10)) == 7 and read.integer("spaced", 1, range(1, 10)) == 7
    assert read.integer("int", 1, {7}) == 7
    for key in ("big", "word", "flag", "list", "missing"):
        assert read.integer(key, 1, range(1, 10)) == 1
    assert read.text("text") == "folder" and read.text("list") == "" and read.text("int", "x") == "x"
    assert read.blob("bytes") == b"\x01\x02" and read.blob("bytearray") == b"\x01"
    assert read.blob("text") is None and read.blob("int") is None and read.blob("missing") is None
