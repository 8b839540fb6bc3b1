"""A missing system library of Qt's X11 plugin is one sentence naming it and the packages, not Qt's abort."""
import ctypes

import pytest

from mnist_desktop._qt import app
from mnist_desktop._qt.platform_check import XCB_PACKAGES, uses_xcb, xcb_plugin, xcb_problem


def plugin_needing(tmp_path, missing: bytes):
    """A copy of Qt's xcb plugin that needs ``missing`` instead of libxcb-cursor (a same-length name)."""
    real = xcb_plugin()
    if xcb_problem(real) is not None:
        pytest.skip(f"this machine cannot load Qt's X11 plugin itself: {xcb_problem(real)}")
    ctypes.CDLL(str(real.parents[2] / "lib" / "libQt6XcbQpa.so.6"))  # what the copy finds beside the original
    data = real.read_bytes()
    assert data.count(b"libxcb-cursor.so.0") >= 1 and len(missing) == len(b"libxcb-cursor.so.0")
    copy = tmp_path / "libqxcb.so"
    copy.write_bytes(data.replace(b"libxcb-cursor.so.0", missing))
    return copy


def test_a_missing_library_is_named_with_the_packages(tmp_path):
    said = xcb_problem(plugin_needing(tmp_path, b"libxcb-cursoX.so.0"))
    assert said == ("Qt cannot open a window: its X11 platform plugin needs libxcb-cursoX.so.0, which is not "
                    f"installed. On Debian or Ubuntu: sudo apt-get install {XCB_PACKAGES}")


def test_the_app_says_it_and_exits_before_qt_aborts(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(app, "uses_xcb", lambda: True)
    monkeypatch.setattr(app, "xcb_problem", lambda: xcb_problem(plugin_needing(tmp_path, b"libxcb-cursoX.so.0")))
    monkeypatch.setattr(app.QApplication, "instance", staticmethod(lambda: None))
    assert app.main() == 1
    assert capsys.readouterr().err.startswith("Qt cannot open a window: its X11 platform plugin needs libxcb-cursoX")


def test_which_platform_qt_will_use():
    assert uses_xcb({}, "linux") and uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux") and not uses_xcb({}, "darwin")
