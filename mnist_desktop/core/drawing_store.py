"""The user's labelled drawings, kept in the per-user data folder. Qt-free.

One JSON file per drawing, ``<user data>/drawings/<id>.json``: the strokes as vectors (so the drawing can be
rendered again), the 28x28 image the models saw (a PNG, base64), the label, the digit each iteration answered
when it was labelled, and when. The id is a hash of the image and the strokes, so importing a drawing that is
already kept adds nothing. Export and import use the ZIP that trainer.extra_data defines (and trains on).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from trainer.errors import UnreadableFileError
from trainer.extra_data import (DrawingsError, as_clause, check_label, image_png, json_value, png_image, read_zip,
                                write_zip)
from trainer.files import make_folder, read_bounded, write_json
from trainer.images import to_uint8
from trainer.paths import user_data_dir

from .strokes import Stroke

if TYPE_CHECKING:
    from trainer.evaluation import Evaluation

    from .predictor import Predictor

log = logging.getLogger(__name__)

FORMAT = "mnist-desktop-drawing"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 4 << 20  # a drawing's JSON is a few kB; a bigger file is not one of ours


@dataclass(frozen=True)
class LabelledDrawing:
    id: str
    label: int
    image: np.ndarray = field(repr=False)  # uint8 [28, 28]: what the models saw, ink bright on dark
    strokes: tuple[Stroke, ...] = field(repr=False)
    answers: dict[int, int]  # iteration -> the digit it answered when the drawing was labelled
    created: str  # ISO 8601, UTC

    def as_record(self) -> dict:
        """Everything but the image, as plain JSON values (strokes.json of an export holds these)."""
        return {"id": self.id, "label": self.label, "strokes": strokes_to_json(self.strokes),
                "answers": {str(i): d for i, d in sorted(self.answers.items())}, "created": self.created}


@dataclass
class ImportResult:
    added: int
    duplicates: int  # already kept (same image and strokes)
    problems: list[str]
    ids: list[str] = field(default_factory=list)  # the drawings added, so that the import can be undone

    def summary(self, name: str) -> str:
        return (f"Imported {self.added} drawing{'s' * (self.added != 1)} from {name}"
                + (f"; {self.duplicates} {'was' if self.duplicates == 1 else 'were'} already kept"
                   if self.duplicates else "")
                + (f"; {len(self.problems)} left out (see below)" if self.problems else "") + ".")


def strokes_to_json(strokes: tuple[Stroke, ...]) -> list[dict]:
    return [{"points": [list(p) for p in s.points], "width": s.width, "eraser": s.eraser} for s in strokes]


def strokes_from_json(value: object) -> tuple[Stroke, ...]:
    """Validated strokes, or DrawingsError: a list of {points: [[x, y], ...], width, eraser}."""
    try:
        strokes = []
        for s in value:
            points = tuple((float(x), float(y)) for x, y in s["points"])
            if not points or not all(np.isfinite(points).ravel()):
                raise ValueError("a stroke without finite points")
            width = float(s["width"])
            if not (np.isfinite(width) and width > 0):
                raise ValueError(f"stroke width {width}")
            strokes.append(Stroke(points, width, bool(s.get("eraser", False))))
        return tuple(strokes)
    except (TypeError, KeyError, ValueError, OverflowError) as e:  # OverflowError: float(10 ** 400)
        raise DrawingsError(f"its strokes are not a list of points and widths ({e})") from e


def answers_from_json(value: object) -> dict[int, int]:
    """{iteration: digit}; a record of the past, so a damaged one is dropped (logged), not fatal."""
    try:
        return {int(i): check_label(d) for i, d in dict(value or {}).items()}
    except (TypeError, ValueError, DrawingsError):
        log.warning("ignored damaged answers %r", value)
        return {}


def drawing_id(image: np.ndarray, strokes: tuple[Stroke, ...]) -> str:
    content = to_uint8(image).tobytes() + json.dumps(strokes_to_json(strokes)).encode()
    return hashlib.sha256(content).hexdigest()[:16]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class DrawingStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.folder = Path(root or user_data_dir()) / "drawings"

    def _path(self, id_: str) -> Path:
        return self.folder / f"{id_}.json"

    # --- reading ----------------------------------------------------------------------------------
    def _read(self, path: Path) -> LabelledDrawing:
        try:
            data = json_value(read_bounded(path, MAX_FILE_BYTES, "The drawing"))  # a pipe is never opened
        except ValueError as e:  # UnicodeDecodeError is a ValueError
            raise DrawingsError(f"it is not readable JSON ({e})") from e
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DrawingsError("it is not a drawing saved by MNIST Desktop")
        try:
            image = png_image(base64.b64decode(data["image_png"], validate=True), "its image")
        except (KeyError, TypeError, ValueError) as e:  # binascii.Error is a ValueError
            raise DrawingsError("its image is missing or is not a base64 PNG") from e
        return LabelledDrawing(path.stem, check_label(data.get("label")), image,
                               strokes_from_json(data.get("strokes", [])), answers_from_json(data.get("answers")),
                               str(data.get("created", "")))

    def _files(self) -> list[Path]:
        """The drawings' files, sorted; none if the folder does not exist yet; DrawingsError if it cannot be
        listed (an unreadable folder is a problem to show, not an empty collection)."""
        try:
            with os.scandir(self.folder) as entries:
                return sorted(Path(e.path) for e in entries if e.name.endswith(".json"))
        except FileNotFoundError:
            return []
        except OSError as e:
            raise DrawingsError(f"The drawings folder {self.folder} cannot be read ({e.strerror}), so none of "
                                "the drawings in it was loaded; they are left as they are.") from e

    def load(self) -> tuple[list[LabelledDrawing], list[str]]:
        """Every kept drawing (oldest first) and one sentence per file that could not be read; those files
        are left where they are, untouched. One bad file never hides the others."""
        drawings, problems = [], []
        try:
            paths = self._files()
        except DrawingsError as e:
            paths, problems = [], [str(e)]
        for path in paths:
            try:
                drawings.append(self._read(path))
            except UnreadableFileError as e:  # names the file itself
                problems.append(str(e))
            except DrawingsError as e:
                problems.append(f"{path} was skipped: {as_clause(e)}.")
            except Exception as e:  # a case not foreseen costs that file only; logged with its traceback
                log.exception("reading %s", path)
                problems.append(f"{path} was skipped: it could not be read ({type(e).__name__}).")
        for problem in problems:
            log.warning("%s", problem)
        drawings.sort(key=lambda d: (d.created, d.id))
        return drawings, problems

    # --- writing ----------------------------------------------------------------------------------
    def _write(self, drawing: LabelledDrawing) -> None:
        record = {"format": FORMAT, "format_version": FORMAT_VERSION} | drawing.as_record()
        record["image_png"] = base64.b64encode(image_png(drawing.image)).decode("ascii")
        make_folder(self.folder)
        write_json(self._path(drawing.id), record)  # WriteError: one sentence, the old file unchanged

    def add(self, image: np.ndarray, strokes: tuple[Stroke, ...], label: object,
            answers: dict[int, int] | None = None) -> LabelledDrawing:
        """Keep a drawing with its label (0-9, else DrawingsError); the same drawing again is relabelled."""
        image = to_uint8(image)
        drawing = LabelledDrawing(drawing_id(image, strokes), check_label(label), image, tuple(strokes),
                                  dict(answers or {}), _now())
        self._write(drawing)
        return drawing

    def restore(self, drawing: LabelledDrawing) -> None:
        """Keep a drawing exactly as it was (its label, answers and date): a deletion undone."""
        self._write(drawing)

    def relabel(self, drawing: LabelledDrawing, label: object) -> LabelledDrawing:
        relabelled = LabelledDrawing(drawing.id, check_label(label), drawing.image, drawing.strokes,
                                     drawing.answers, drawing.created)
        self._write(relabelled)
        return relabelled

    def delete(self, drawing: LabelledDrawing) -> None:
        try:
            self._path(drawing.id).unlink(missing_ok=True)
        except OSError as e:
            raise DrawingsError(f"Could not delete the drawing from {self.folder} ({e.strerror}).") from e

    # --- export and import --------------------------------------------------------------------------
    def export_zip(self, path: str | os.PathLike) -> int:
        """Write every readable drawing into one ZIP; the number written (WriteError if it cannot be)."""
        drawings, _ = self.load()
        write_zip(path, [d.id for d in drawings], np.array([d.image for d in drawings], np.uint8),
                  [d.label for d in drawings], [d.as_record() for d in drawings])
        return len(drawings)

    def import_zip(self, path: str | os.PathLike) -> ImportResult:
        """Merge a drawings ZIP into the store: a drawing already kept is not added twice."""
        data = read_zip(path)
        problems = list(data.problems)
        kept = {p.stem for p in self._files()}
        added: list[str] = []
        duplicates = 0
        for id_, image, label in zip(data.ids, data.images, data.labels):
            record = data.records.get(id_, {})
            try:
                strokes = strokes_from_json(record.get("strokes", []))
            except DrawingsError as e:
                problems.append(f"Drawing {id_} from {Path(path).name} was imported without strokes: "
                                f"{as_clause(e)}.")
                strokes = ()
            drawing = LabelledDrawing(drawing_id(image, strokes), int(label), image, strokes,
                                      answers_from_json(record.get("answers")),
                                      str(record.get("created") or _now()))
            if drawing.id in kept:
                duplicates += 1
                continue
            self._write(drawing)
            kept.add(drawing.id)
            added.append(drawing.id)
        return ImportResult(len(added), duplicates, problems, added)


def evaluate_on(predictor: Predictor, drawings: list[LabelledDrawing]) -> dict[int, Evaluation]:
    """Each available iteration's Evaluation (accuracy, confusion, predictions) on the drawings, with the
    weights it uses now; {} without drawings."""
    import torch

    from trainer.evaluation import evaluate

    if not drawings:
        return {}
    images = torch.from_numpy(np.array([d.image for d in drawings], np.uint8))
    labels = torch.tensor([d.label for d in drawings], dtype=torch.int64)
    return {i: evaluate(predictor.slots[i].model, images, labels) for i in predictor.available()}
