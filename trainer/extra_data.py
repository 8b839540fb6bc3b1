"""The user's labelled drawings as training data: the ZIP that "Your drawings" exports, read and written here.

Layout of the ZIP (MNIST's own format included, so any MNIST reader can use it):

    labels.csv            id,label,image — one row per drawing, in the order of the IDX files
    images/<id>.png       the 28x28 grey image the models saw (ink bright on dark)
    strokes.json          [{"id", "label", "strokes", "answers", "created"}, ...] — the drawings as vectors
    images-idx3-ubyte     all images, uint8 [N, 28, 28], as MNIST's train-images-idx3-ubyte
    labels-idx1-ubyte     all labels, uint8 [N]

Reading trusts labels.csv and the PNGs (so one broken row costs only that row); the IDX files are for others.
A fine-tune holds a fifth of the drawings out (chosen by the seed) and only measures on them.
"""
from __future__ import annotations

import csv
import io
import json
import os
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import MnistDesktopError

LABELS_CSV = "labels.csv"
STROKES_JSON = "strokes.json"
IMAGES_FOLDER = "images"
IDX_IMAGES = "images-idx3-ubyte"
IDX_LABELS = "labels-idx1-ubyte"
IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = 0x803, 0x801  # MNIST's: unsigned bytes, 3 and 1 dimensions
SIDE = 28
HELD_OUT_SHARE = 0.2  # of the drawings, never trained on: the fine-tune's honest measure
FINE_TUNE_EPOCHS = 2  # a fine-tune starts from trained weights: a few epochs, a tenth of the recipe's rate
FINE_TUNE_LR_FACTOR = 0.1
MAX_MEMBER_BYTES = 1 << 20  # a 28x28 PNG is under 1 kB; anything this big is not one of ours


class DrawingsError(MnistDesktopError):
    """A drawings file or ZIP cannot be used, or a label is not a digit."""


def check_label(label: object) -> int:
    """The label as an int 0-9, or DrawingsError."""
    if isinstance(label, bool) or not isinstance(label, (int, np.integer, str)) or str(label).strip() not in set("0123456789"):
        raise DrawingsError(f"A label must be one digit from 0 to 9, not {label!r}.")
    return int(str(label).strip())


def as_clause(error: Exception) -> str:
    """An error's sentence, to follow a colon in a longer one: 'Row 3 ... was left out: a label must ...'."""
    text = str(error).rstrip(".")
    return text[:1].lower() + text[1:]


def image_png(image: np.ndarray) -> bytes:
    """uint8 [28, 28] -> PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()


def png_image(data: bytes, source: str) -> np.ndarray:
    """PNG bytes -> uint8 [28, 28], or DrawingsError naming ``source``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            gray = np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DrawingsError(f"{source} is not a readable PNG image ({e}).") from e
    if gray.shape != (SIDE, SIDE):
        raise DrawingsError(f"{source} is {gray.shape[1]}x{gray.shape[0]} pixels, not 28x28.")
    return gray


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """uint8 array -> an IDX file as MNIST's (big-endian header: magic, then each dimension)."""
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + np.ascontiguousarray(array, np.uint8).tobytes()


@dataclass
class ExtraData:
    """Labelled 28x28 images read from a drawings ZIP, and one sentence per row that could not be used."""

    ids: list[str]
    images: np.ndarray  # uint8 [N, 28, 28]
    labels: np.ndarray  # int64 [N]
    records: dict[str, dict] = field(default_factory=dict)  # strokes.json by id (may be empty)
    problems: list[str] = field(default_factory=list)

    def split(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(train indices, held-out indices): a fifth held out (at least one when there are two or more),
        chosen by ``seed`` alone, so a run is reproducible and the same seed holds out the same drawings."""
        n = len(self.ids)
        held = min(n - 1, max(1, round(n * HELD_OUT_SHARE))) if n > 1 else 0
        order = np.random.default_rng(seed).permutation(n)
        return np.sort(order[held:]), np.sort(order[:held])


def write_zip(path: str | os.PathLike, ids: list[str], images: np.ndarray, labels: list[int],
              records: list[dict]) -> Path:
    """Write a drawings ZIP atomically (temporary file, then moved into place)."""
    path = Path(path)
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["id", "label", "image"])
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
            for id_, image, label in zip(ids, images, labels):
                name = f"{IMAGES_FOLDER}/{id_}.png"
                archive.writestr(name, image_png(image))
                writer.writerow([id_, label, name])
            archive.writestr(LABELS_CSV, rows.getvalue())
            archive.writestr(STROKES_JSON, json.dumps(records, separators=(",", ":")))
            stacked = np.asarray(images, np.uint8).reshape(-1, SIDE, SIDE)
            archive.writestr(IDX_IMAGES, idx_bytes(stacked, IDX_IMAGES_MAGIC))
            archive.writestr(IDX_LABELS, idx_bytes(np.asarray(labels, np.uint8), IDX_LABELS_MAGIC))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read_member(archive: zipfile.ZipFile, name: str, zip_name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise DrawingsError(f"{name} in {zip_name} is {info.file_size:,} bytes, too big for a 28x28 drawing.")
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:  # a damaged member (CRC, truncation)
        raise DrawingsError(f"{name} in {zip_name} is damaged ({e}).") from e


def read_zip(path: str | os.PathLike) -> ExtraData:
    """A drawings ZIP -> its images and labels. A file that is not such a ZIP raises DrawingsError; a broken
    row is left out with one sentence in ``problems`` and the rest is read."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise DrawingsError(f"{path} is not a file. Choose a ZIP exported from \"Your drawings\".")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DrawingsError(f"{name} is not a ZIP file, or it is damaged. Choose a ZIP exported from "
                            "\"Your drawings\".") from e
    with archive:
        members = set(archive.namelist())
        if LABELS_CSV not in members:
            raise DrawingsError(f"{name} is a ZIP but not an export of \"Your drawings\": it has no {LABELS_CSV}.")
        try:
            text = _read_member(archive, LABELS_CSV, name).decode("utf-8")
        except UnicodeDecodeError as e:
            raise DrawingsError(f"{LABELS_CSV} in {name} is not UTF-8 text, so no drawing could be read.") from e
        rows = list(csv.DictReader(io.StringIO(text)))
        if rows and not {"id", "label", "image"} <= set(rows[0]):
            raise DrawingsError(f"{LABELS_CSV} in {name} lacks the columns id, label and image.")
        records: dict[str, dict] = {}
        problems: list[str] = []
        if STROKES_JSON in members:
            try:
                listed = json.loads(_read_member(archive, STROKES_JSON, name))
                records = {r["id"]: r for r in listed if isinstance(r, dict) and isinstance(r.get("id"), str)}
            except (DrawingsError, ValueError, TypeError) as e:
                problems.append(f"{STROKES_JSON} in {name} cannot be read ({e}); the drawings are imported "
                                "without their strokes.")
        ids, images, labels = [], [], []
        for line, row in enumerate(rows, start=2):
            where = f"Row {line} of {LABELS_CSV} in {name}"
            try:
                label = check_label(row.get("label"))
                image_name = row.get("image") or ""
                if image_name not in members:
                    raise DrawingsError(f"its image {image_name!r} is missing from the ZIP")
                image = png_image(_read_member(archive, image_name, name), image_name)
            except DrawingsError as e:
                problems.append(f"{where} was left out: {as_clause(e)}.")
                continue
            ids.append(str(row.get("id") or image_name))
            images.append(image)
            labels.append(label)
    return ExtraData(ids, np.asarray(images, np.uint8).reshape(-1, SIDE, SIDE), np.asarray(labels, np.int64),
                     records, problems)


class DrawingsMix:
    """The user's drawings on the training device during a fine-tune: four fifths join every MNIST batch
    (sampled with replacement, augmented like MNIST, with their own random stream so MNIST's order and
    augmentation are those of a run without them); the held-out fifth is only measured."""

    def __init__(self, path: str | os.PathLike, seed: int, per_batch: int, device):
        import torch  # here, not at the top: the app reads this module's ZIP format before torch has loaded

        data = read_zip(path)
        if len(data.ids) < 2:
            raise DrawingsError(f"{Path(path).name} holds {len(data.ids)} usable drawing"
                                f"{'s' * (len(data.ids) != 1)}; fine-tuning needs at least 2 "
                                "(a fifth is held out to measure). Label more drawings and export again.")
        train_index, held_index = data.split(seed)

        def to_device(array: np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(array)).to(device)

        self.images, self.labels = to_device(data.images[train_index]), to_device(data.labels[train_index])
        self.held_images, self.held_labels = to_device(data.images[held_index]), to_device(data.labels[held_index])
        self.per_batch = per_batch
        self.generator = torch.Generator(device).manual_seed(seed)
        self.record = {"data": os.fspath(path), "drawings": len(data.ids), "trained_on": len(train_index),
                       "held_out": len(held_index), "per_batch": per_batch, "problems": data.problems}

    def join(self, x, y, augmented: bool):
        """A normalised MNIST batch ``x`` [B, 1, 28, 28] and its labels, with ``per_batch`` drawings appended."""
        import torch

        from .augment import augment, normalize

        pick = torch.randint(len(self.images), (self.per_batch,), generator=self.generator,
                             device=self.images.device)
        images = self.images[pick]
        extra = augment(images, self.generator) if augmented else normalize(images)
        return torch.cat([x, extra]), torch.cat([y, self.labels[pick]])

    def held_out_accuracy(self, model) -> float:
        """Percent of the held-out drawings the model gets right, eval mode."""
        from .evaluation import evaluate

        return evaluate(model, self.held_images, self.held_labels).accuracy


def fine_tune_defaults(recipe) -> dict:
    """The epochs and learning rate a fine-tune uses unless told otherwise."""
    return {"epochs": FINE_TUNE_EPOCHS, "lr": recipe.lr * FINE_TUNE_LR_FACTOR}


def fine_tune_summary(checkpoint: dict) -> str:
    """Before and after a fine-tune, both measures: MNIST's 10k test images and the held-out drawings."""
    record, after = checkpoint["fine_tune"], checkpoint["history"][-1]
    before = record["before"]
    return (f"MNIST test accuracy {before['test_accuracy']:.2f}% -> {after['test_accuracy']:.2f}%; "
            f"your {record['held_out']} held-out drawing{'s' * (record['held_out'] != 1)} "
            f"{before['extra_accuracy']:.1f}% -> {after['extra_accuracy']:.1f}% right "
            f"(trained on the other {record['trained_on']}, {record['per_batch']} in every batch)")
