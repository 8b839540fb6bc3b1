"""The user's labelled drawings as training data: the ZIP that "Your drawings" exports, read and written here.

Layout of the ZIP (MNIST's own format included, so any MNIST reader can use it):

    labels.csv            id,label,image — one row per drawing, in the order of the IDX files
    images/<id>.png       the 28x28 grey image the models saw (ink bright on dark)
    strokes.json          [{"id", "label", "strokes", "answers", "created"}, ...] — the drawings as vectors
    images-idx3-ubyte     all images, uint8 [N, 28, 28], as MNIST's train-images-idx3-ubyte
    labels-idx1-ubyte     all labels, uint8 [N]

Reading trusts labels.csv and the PNGs (so one broken row costs only that row); the IDX files are for others.
Everything read is bounded before it is unpacked: the ZIP's size, its member count, each member's size, the
ratio of unpacked to packed bytes; an encrypted member, a compression method zipfile cannot read and a name
that appears twice are each one sentence, and the rows that need them are left out.
A fine-tune holds a fifth of the drawings out (chosen by the seed) and only measures on them.
"""
from __future__ import annotations

import csv
import io
import json
import lzma
import os
import struct
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ImageError, MnistDesktopError, UnreadableFileError
from .files import read_bounded, write_atomic
from .images import decode_image, to_uint8
from .iterations import MNIST_SIDE

LABELS_CSV = "labels.csv"
STROKES_JSON = "strokes.json"
IMAGES_FOLDER = "images"
IDX_IMAGES = "images-idx3-ubyte"
IDX_LABELS = "labels-idx1-ubyte"
IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = 0x803, 0x801  # MNIST's: unsigned bytes, 3 and 1 dimensions
HELD_OUT_SHARE = 0.2  # of the drawings, never trained on: the fine-tune's honest measure
FINE_TUNE_EPOCHS = 2  # a fine-tune starts from trained weights: a few epochs, a tenth of the recipe's rate
FINE_TUNE_LR_FACTOR = 0.1
MAX_ZIP_BYTES = 256 << 20  # an export takes about 2 kB a drawing
MAX_MEMBERS = 50_000
MAX_MEMBER_BYTES = {LABELS_CSV: 4 << 20, STROKES_JSON: 64 << 20}  # others: images, under 1 kB each
MAX_IMAGE_BYTES = 64 << 10
MAX_IMAGE_PIXELS = 64 * 64  # a larger picture is refused from its header; a smaller one not 28x28 once read
MAX_UNPACKED_BYTES = 512 << 20  # all members together
MAX_RATIO = 200  # unpacked bytes per packed byte over the whole ZIP: an export packs at about 3
READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
METHOD_NAMES = {9: "Deflate64", 93: "Zstandard", 98: "PPMd", 99: "AES encryption"}  # others zipfile cannot unpack
DAMAGED_MEMBER = (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, lzma.LZMAError)  # CRC, truncation


class DrawingsError(MnistDesktopError):
    """A drawings file or ZIP cannot be used, or a label is not a digit."""


def check_label(label: object) -> int:
    """The label as an int 0-9, or DrawingsError."""
    if (isinstance(label, bool) or not isinstance(label, (int, np.integer, str))
            or str(label).strip() not in set("0123456789")):
        raise DrawingsError(f"A label must be one digit from 0 to 9, not {label!r}.")
    return int(str(label).strip())


def as_clause(error: Exception) -> str:
    """An error's sentence, to follow a colon in a longer one: 'Row 3 ... was left out: a label must ...'."""
    text = str(error).rstrip(".")
    return text[:1].lower() + text[1:]


def json_value(data: bytes | str) -> object:
    """json.loads, with nesting too deep for the parser (``"[" * 100000``) a ValueError like any other malformed
    JSON, not a RecursionError."""
    try:
        return json.loads(data)
    except RecursionError as e:
        raise ValueError("nested too deeply") from e


def image_png(image: np.ndarray) -> bytes:
    """uint8 [28, 28] -> PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()


def png_image(data: bytes, source: str) -> np.ndarray:
    """A 28x28 picture's bytes (PNG as written here; any format decode_image reads) -> uint8 [28, 28], or
    DrawingsError naming ``source``."""
    try:
        gray = to_uint8(decode_image(data, source, max_pixels=MAX_IMAGE_PIXELS))
    except ImageError as e:
        raise DrawingsError(str(e)) from e
    if gray.shape != (MNIST_SIDE, MNIST_SIDE):
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
    """Write a drawings ZIP through the one atomic write (WriteError, one sentence, if it cannot be)."""
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["id", "label", "image"])

    def write(f) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
            for id_, image, label in zip(ids, images, labels):
                name = f"{IMAGES_FOLDER}/{id_}.png"
                archive.writestr(name, image_png(image))
                writer.writerow([id_, label, name])
            archive.writestr(LABELS_CSV, rows.getvalue())
            archive.writestr(STROKES_JSON, json.dumps(records, separators=(",", ":")))
            stacked = np.asarray(images, np.uint8).reshape(-1, MNIST_SIDE, MNIST_SIDE)
            archive.writestr(IDX_IMAGES, idx_bytes(stacked, IDX_IMAGES_MAGIC))
            archive.writestr(IDX_LABELS, idx_bytes(np.asarray(labels, np.uint8), IDX_LABELS_MAGIC))

    return write_atomic(path, write)


def _member_count(file) -> int | None:
    """The member count the ZIP's end record declares (read before zipfile lists them all), or None if there
    is no end record (zipfile then says the file is not a ZIP)."""
    size = file.seek(0, os.SEEK_END)
    tail_start = max(0, size - (22 + 0xFFFF))  # the end record: 22 bytes and a comment of up to 64 kB
    file.seek(tail_start)
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    return struct.unpack_from("<H", tail, at + 10)[0]  # 0xFFFF: more, counted in a ZIP64 record


def _open_zip(path: Path) -> zipfile.ZipFile:
    """The drawings ZIP opened, its size, member count and unpacked size checked; DrawingsError if not."""
    name = path.name
    try:
        file = io.BytesIO(read_bounded(path, MAX_ZIP_BYTES, "The drawings ZIP"))  # a pipe is never opened
    except UnreadableFileError as e:
        raise DrawingsError(f"{e} Choose a ZIP exported from \"Your drawings\".") from e
    count = _member_count(file)
    if count is not None and count > MAX_MEMBERS:
        raise DrawingsError(f"{name} declares {count:,} members, more than the {MAX_MEMBERS:,} read from a "
                            "drawings ZIP, so it was not opened.")
    try:
        archive = zipfile.ZipFile(file)
    except NotImplementedError as e:  # a newer ZIP version than zipfile reads
        raise DrawingsError(f"{name} needs a ZIP feature that cannot be read here ({e}). Choose a ZIP exported "
                            "from \"Your drawings\".") from e
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise DrawingsError(f"{name} is not a ZIP file, or it is damaged. Choose a ZIP exported from "
                            "\"Your drawings\".") from e
    infos = archive.infolist()
    packed, unpacked = file.seek(0, os.SEEK_END), sum(info.file_size for info in infos)
    refusal = (f"has {len(infos):,} members, more than the {MAX_MEMBERS:,} read" if len(infos) > MAX_MEMBERS else
               f"would unpack to {unpacked:,} bytes, more than the {MAX_UNPACKED_BYTES:,} read"
               if unpacked > MAX_UNPACKED_BYTES else
               f"would unpack to {unpacked // max(packed, 1):,} times its size, which only a ZIP bomb does"
               if unpacked > MAX_RATIO * packed and unpacked > MAX_IMAGE_BYTES else None)
    if refusal:
        raise DrawingsError(f"{name} {refusal}, so nothing was read from it.")
    return archive


def _read_member(archive: zipfile.ZipFile, name: str, zip_name: str) -> bytes:
    info = archive.getinfo(name)
    limit = MAX_MEMBER_BYTES.get(name, MAX_IMAGE_BYTES)
    if info.file_size > limit:
        raise DrawingsError(f"{name} in {zip_name} is {info.file_size:,} bytes, more than the {limit:,} read "
                            "for it")
    if info.flag_bits & 0x1:
        raise DrawingsError(f"{name} in {zip_name} is encrypted")
    if info.compress_type not in READABLE_METHODS:
        method = METHOD_NAMES.get(info.compress_type, f"compression method {info.compress_type}")
        raise DrawingsError(f"{name} in {zip_name} is packed with {method}, which cannot be unpacked here")
    try:
        return archive.read(info)
    except NotImplementedError as e:  # patched data, strong encryption
        raise DrawingsError(f"{name} in {zip_name} needs a ZIP feature that cannot be read here ({e})") from e
    except DAMAGED_MEMBER as e:
        raise DrawingsError(f"{name} in {zip_name} is damaged ({e})") from e


def _rows(text: str, name: str) -> list[tuple[int, dict | None, str]]:
    """labels.csv's rows as (line, row, problem): a row the csv module cannot parse (a field over its limit)
    costs only that row."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        columns = set(reader.fieldnames or ())
    except csv.Error as e:
        raise DrawingsError(f"{LABELS_CSV} in {name} cannot be read as CSV ({e}), so no drawing could be "
                            "read.") from e
    if not {"id", "label", "image"} <= columns:
        raise DrawingsError(f"{LABELS_CSV} in {name} lacks the columns id, label and image.")
    rows = []
    while True:
        try:
            row, problem = next(reader), ""
        except StopIteration:
            return rows
        except csv.Error as e:
            row, problem = None, f"it cannot be read as CSV ({e})"
        rows.append((reader.reader.line_num, row, problem))  # the DictReader's own count skips failed lines


def _strokes(archive: zipfile.ZipFile, name: str) -> dict[str, dict]:
    """strokes.json by id; DrawingsError (with what is then done) if it cannot be read."""
    try:
        listed = json_value(_read_member(archive, STROKES_JSON, name))
        return {r["id"]: r for r in listed if isinstance(r, dict) and isinstance(r.get("id"), str)}
    except (DrawingsError, ValueError, TypeError) as e:
        raise DrawingsError(f"{STROKES_JSON} in {name} cannot be read ({as_clause(e)}); the drawings are "
                            "imported without their strokes.") from e


def read_zip(path: str | os.PathLike) -> ExtraData:
    """A drawings ZIP -> its images and labels. A file that is not such a ZIP raises DrawingsError; a broken
    row is left out with one sentence in ``problems`` and the rest is read."""
    path = Path(path)
    name = path.name
    with _open_zip(path) as archive:
        counts = Counter(archive.namelist())
        twice = {member for member, n in counts.items() if n > 1}
        for table in (LABELS_CSV, STROKES_JSON):
            if table in twice:
                raise DrawingsError(f"{name} holds {counts[table]} files named {table}, so which one is meant is "
                                    "unknown; nothing was read from it.")
        if LABELS_CSV not in counts:
            raise DrawingsError(f"{name} is a ZIP but not an export of \"Your drawings\": it has no {LABELS_CSV}.")
        try:
            text = _read_member(archive, LABELS_CSV, name).decode("utf-8")
        except UnicodeDecodeError as e:
            raise DrawingsError(f"{LABELS_CSV} in {name} is not UTF-8 text, so no drawing could be read.") from e
        except DrawingsError as e:
            raise DrawingsError(f"{e}, so no drawing could be read.") from e
        records: dict[str, dict] = {}
        problems: list[str] = []
        if STROKES_JSON in counts:
            try:
                records = _strokes(archive, name)
            except DrawingsError as e:
                problems.append(str(e))
        ids, images, labels = [], [], []
        for line, row, problem in _rows(text, name):
            try:
                if problem:
                    raise DrawingsError(problem)
                label = check_label(row.get("label"))
                image_name = row.get("image") or ""
                if image_name not in counts:
                    raise DrawingsError(f"its image {image_name!r} is missing from the ZIP")
                if image_name in twice:
                    raise DrawingsError(f"its image {image_name!r} appears {counts[image_name]} times in the ZIP, "
                                        "so which one is meant is unknown")
                image = png_image(_read_member(archive, image_name, name), image_name)
            except DrawingsError as e:
                problems.append(f"Row {line} of {LABELS_CSV} in {name} was left out: {as_clause(e)}.")
                continue
            ids.append(str(row.get("id") or image_name))
            images.append(image)
            labels.append(label)
    return ExtraData(ids, np.asarray(images, np.uint8).reshape(-1, MNIST_SIDE, MNIST_SIDE), np.asarray(labels, np.int64),
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
