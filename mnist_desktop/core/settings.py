"""Typed reading of the app's saved settings. Qt-free: it reads through any ``get(key)`` (the window passes
``QSettings.value``), so one bad value in the settings file costs that value, never the start.

A value of the wrong type or out of range is logged as a warning and replaced by the default.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Container

log = logging.getLogger(__name__)


class Settings:
    """Every key of the app's saved settings, each named once; read them through ``SettingsReader``."""

    BRUSH = "brush"  # integer: the brush width, in pixels of the CANVAS_SIDE canvas
    ITERATION = "iteration"  # integer: the iteration in view
    GEOMETRY = "geometry"  # blob: the window's geometry
    DATA_DIR = "data_dir"  # text: the folder that holds MNIST, as the person chose it


class SettingsReader:
    """``get(key)`` returns the stored value, or None for a key that is not set."""

    def __init__(self, get: Callable[[str], Any], contains: Callable[[str], bool] = lambda key: False):
        self._get, self._contains = get, contains

    def _unset(self, key: str, default: Any) -> Any:
        """``get`` gave None: the key is absent, or ``contains`` says it is there with a value that could not be
        decoded (QSettings gives None for an unknown @Variant or @Invalid())."""
        if self._contains(key):
            return self._bad(key, None, default, "the stored value cannot be decoded")
        return default

    def _bad(self, key: str, raw: Any, default: Any, why: str) -> Any:
        log.warning("settings: ignoring %s=%r (%s); using %r", key, raw, why, default)
        return default

    def integer(self, key: str, default: int, allowed: Container[int] | range) -> int:
        """An integer among ``allowed`` (INI files give text: "5" reads as 5, "abc" as the default)."""
        raw = self._get(key)
        if raw is None:
            return self._unset(key, default)
        try:
            if isinstance(raw, bool) or not isinstance(raw, (int, str)):
                raise ValueError
            value = int(raw)
        except ValueError:
            return self._bad(key, raw, default, "not a whole number")
        if value not in allowed:
            return self._bad(key, raw, default, f"outside {describe(allowed)}")
        return value

    def text(self, key: str, default: str = "") -> str:
        raw = self._get(key)
        if raw is None:
            return self._unset(key, default)
        if not isinstance(raw, str):
            return self._bad(key, raw, default, "not text")
        return raw

    def blob(self, key: str) -> bytes | None:
        """Bytes saved by the app itself (window geometry); None when unset or not bytes."""
        raw = self._get(key)
        if raw is None:
            return self._unset(key, None)
        if isinstance(raw, (str, int, float)):  # bytes(5) would be five zero bytes
            return self._bad(key, raw, None, "not bytes")
        try:
            return bytes(raw)
        except TypeError:
            return self._bad(key, raw, None, "not bytes")


def describe(allowed: Container[int] | range) -> str:
    if isinstance(allowed, range):
        return f"{allowed.start}..{allowed.stop - 1}"
    return ", ".join(map(str, sorted(allowed)))  # type: ignore[call-overload]
