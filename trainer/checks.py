"""Predicates for values that come from people or files: right type and in range, or not.

``True`` is an ``int`` in Python; none of these accept it as a number.
"""
from __future__ import annotations

import math
from typing import Any, Callable

Check = Callable[[Any], bool]


def whole(low: int, high: float = math.inf) -> Check:
    """An int (not a bool) from ``low`` to ``high``."""
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def number(low: float, high: float = math.inf, low_open: bool = False) -> Check:
    """A finite int or float from ``low`` (excluded when ``low_open``) to ``high``; NaN fails every comparison."""
    return lambda v: (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                      and (low < v if low_open else low <= v) and v <= high)


def optional(check: Check) -> Check:
    """None, or what ``check`` accepts."""
    return lambda v: v is None or check(v)


def instance(kind: type | tuple[type, ...]) -> Check:
    return lambda v: isinstance(v, kind)


def path_text(text: str) -> str:
    """A path argument: an empty one ('') names nothing, so it is refused rather than taken as absent."""
    if not text.strip():
        raise ValueError(text)
    return text


path_text.__name__ = "path (an empty one names nothing)"
