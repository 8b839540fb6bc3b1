"""Before Qt opens a window on Linux/X11: can its platform plugin load? Qt aborts the process inside
QApplication() when a system library of its xcb plugin is missing, with a message that names only one of
them; this names the missing library and the packages to install instead, in one sentence.

Loading the plugin (which loads the libraries it needs) costs a few milliseconds; Qt loads it anyway.
"""
from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

# The Debian/Ubuntu packages that hold what Qt's xcb plugin needs beyond a minimal system (README, "Install").
XCB_PACKAGES = ("libegl1 libgl1 libfontconfig1 libglib2.0-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 "
                "libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-sync1 libxcb-xfixes0 "
                "libxcb-xkb1 libxkbcommon-x11-0")


def uses_xcb(environ: os._Environ | dict = os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will pick its X11 (xcb) plugin: asked for, or left to choose on Linux outside Wayland."""
    asked = environ.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(":")[0] == "xcb"
    return platform.startswith("linux") and not environ.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"


def xcb_problem(plugin: Path | None = None) -> str | None:
    """None when Qt's xcb plugin loads; else one sentence: which library is missing and what to install."""
    plugin = plugin or xcb_plugin()
    if not plugin.is_file():
        return None  # another Qt layout: leave it to Qt
    try:
        ctypes.CDLL(str(plugin))
    except OSError as e:
        missing = str(e).split(":")[0] if ": cannot open shared object file" in str(e) else str(e)
        return (f"Qt cannot open a window: its X11 platform plugin needs {missing}, which is not installed. "
                f"On Debian or Ubuntu: sudo apt-get install {XCB_PACKAGES}")
    return None
