"""Hostile drawings ZIPs, made here: each is one sentence, and a bad member costs only the rows that need it.
Nothing is decoded or unpacked before it is bounded, so none of these takes more than a moment."""
import os
import struct
import warnings
import zipfile

import numpy as np
import pytest

from tests.hostile import digit, patch_member, png_bytes, png_claiming
from trainer.extra_data import LABELS_CSV, STROKES_JSON, DrawingsError, read_zip, write_zip

GOOD = ["d0", "d1", "d2"]


def export(path, edit=None):
    """A drawings ZIP of three "1"s (d0-d2) as write_zip makes it, then rewritten through ``edit(name, data)``
    -> [(name, data), ...] per member (default: kept as it is)."""
    write_zip(path, GOOD, np.array([digit(shift=i) for i in range(3)]), [1, 1, 1],
              [{"id": i, "label": 1} for i in GOOD])
    if edit:
        with zipfile.ZipFile(path) as source:
            members = [(info, source.read(info)) for info in source.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile warns of a name written twice: two cases do
            for info, data in members:
                for name, new in edit(info.filename, data):
                    target.writestr(name, new)
    return path


def with_row(row, *members):
    """An edit adding a labels.csv row and members."""
    def edit(name, data):
        if name == LABELS_CSV:
            return [(name, data + row.encode())] + list(members)
        return [(name, data)]
    return edit


def replacing(member, new):
    return lambda name, data: [(name, new if name == member else data)]


def twice(member):
    return lambda name, data: [(name, data)] * (2 if name == member else 1)


def corrupt_deflate(path, member):
    """Overwrite a member's packed bytes with bytes that are not a Deflate stream."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start:start + info.compress_size] = b"\xff" * info.compress_size
    path.write_bytes(bytes(data))


# name: (edit of the export, patch of the written file, ids still read, the sentence in problems)
ROWS = {
    "a 1 kB PNG declaring 20000x20000": (
        with_row("x,1,images/bomb.png\n", ("images/bomb.png", png_claiming(20_000, 20_000))), None, GOOD,
        "Row 5 of labels.csv in z.zip was left out: images/bomb.png is too large: images up to 4,096 pixels are read."),
    "a PNG declaring 9000x9000": (
        with_row("x,1,images/big.png\n", ("images/big.png", png_claiming(9_000, 9_000))), None, GOOD,
        "Row 5 of labels.csv in z.zip was left out: images/big.png is too large (9,000 x 9,000 pixels): images up "
        "to 4,096 pixels are read."),
    "an image member over 64 kB": (
        with_row("x,1,images/big.png\n", ("images/big.png", b"\0" * 70_000)), None, GOOD,
        "Row 5 of labels.csv in z.zip was left out: images/big.png in z.zip is 70,000 bytes, more than the 65,536 "
        "read for it."),
    "an encrypted member": (
        None, lambda p: patch_member(p, "images/d1.png", flag=1), ["d0", "d2"],
        "Row 3 of labels.csv in z.zip was left out: images/d1.png in z.zip is encrypted."),
    "a Deflate64 member": (
        None, lambda p: patch_member(p, "images/d1.png", method=9), ["d0", "d2"],
        "Row 3 of labels.csv in z.zip was left out: images/d1.png in z.zip is packed with Deflate64, which cannot "
        "be unpacked here."),
    "an unknown compression method": (
        None, lambda p: patch_member(p, "images/d1.png", method=77), ["d0", "d2"],
        "Row 3 of labels.csv in z.zip was left out: images/d1.png in z.zip is packed with compression method 77, "
        "which cannot be unpacked here."),
    "a member with patched data (a ZIP feature zipfile lacks)": (
        None, lambda p: patch_member(p, "images/d1.png", flag=0x20), ["d0", "d2"],
        "Row 3 of labels.csv in z.zip was left out: images/d1.png in z.zip needs a ZIP feature that cannot be read "
        "here (compressed patched data (flag bit 5))."),
    "a damaged Deflate stream": (
        None, lambda p: corrupt_deflate(p, "images/d1.png"), ["d0", "d2"],
        "Row 3 of labels.csv in z.zip was left out: images/d1.png in z.zip is damaged ("),
    "a labels.csv field over 131,072 characters": (
        with_row("x," + "7" * 200_000 + ",images/d0.png\n"), None, GOOD,
        "Row 5 of labels.csv in z.zip was left out: it cannot be read as CSV (field larger than field limit "
        "(131072))."),
    "two members of one name": (
        twice("images/d1.png"), None, ["d0", "d2"],
        "Row 3 of labels.csv in z.zip was left out: its image 'images/d1.png' appears 2 times in the ZIP, so "
        "which one is meant is unknown."),
    "strokes.json nested 100,000 deep": (
        replacing(STROKES_JSON, b"[" * 100_000), None, GOOD,
        "strokes.json in z.zip cannot be read (nested too deeply); the drawings are imported without their "
        "strokes."),
}


@pytest.mark.parametrize("edit, patch, kept, sentence", ROWS.values(), ids=ROWS.keys())
def test_a_hostile_member_costs_only_its_rows(tmp_path, edit, patch, kept, sentence, recwarn):
    path = export(tmp_path / "z.zip", edit)
    if patch:
        patch(path)
    data = read_zip(path)
    assert data.ids == kept and len(data.images) == len(kept)
    assert len(data.problems) == 1 and data.problems[0].startswith(sentence)
    assert data.problems[0].count(". ") == 0 and data.problems[0].endswith(".")


def declare_unpacked_size(path, member, size):
    """Make the central directory declare ``size`` unpacked bytes for ``member`` (a lying header)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        name = archive.getinfo(member).filename.encode()
    at = data.find(b"PK\x01\x02")
    while data[at + 46:at + 46 + len(name)] != name:
        at = data.find(b"PK\x01\x02", at + 1)
    struct.pack_into("<I", data, at + 24, size)
    path.write_bytes(bytes(data))


def declare_version(path, version):
    """Make the central directory say reading the first member needs ZIP version ``version`` / 10."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, data.find(b"PK\x01\x02") + 6, version)
    path.write_bytes(bytes(data))


def declare_member_count(path, count):
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, count, count)
    path.write_bytes(bytes(data))


def zip_bomb(path):
    """Two MB of zeros that pack into two kB, with three drawings."""
    export(path, lambda name, data: [(name, data)] + ([("padding", b"\0" * (2 << 20))] if name == LABELS_CSV else []))


# name: (how the file is made, the sentence raised); nothing at all is read from these
REFUSED = {
    "an encrypted labels.csv": (lambda p: patch_member(export(p), LABELS_CSV, flag=1),
                                "labels.csv in z.zip is encrypted, so no drawing could be read."),
    "two labels.csv": (lambda p: export(p, twice(LABELS_CSV)),
                       "z.zip holds 2 files named labels.csv, so which one is meant is unknown; nothing was read "
                       "from it."),
    "two strokes.json": (lambda p: export(p, twice(STROKES_JSON)), "z.zip holds 2 files named strokes.json"),
    "a member declaring 2 GB": (lambda p: declare_unpacked_size(export(p), "images/d0.png", 0x7FFF_FFFF),
                                "z.zip would unpack to 2,147,4"),
    "a ZIP bomb": (zip_bomb, "times its size, which only a ZIP bomb does, so nothing was read from it."),
    "65,535 members declared": (lambda p: declare_member_count(export(p), 0xFFFF),
                                "z.zip declares 65,535 members, more than the 50,000 read from a drawings ZIP, so it "
                                "was not opened."),
    "a ZIP version 7.9": (lambda p: declare_version(export(p), 79),
                          "z.zip needs a ZIP feature that cannot be read here (zip file version 7.9)."),
    "a ZIP over 256 MB": (lambda p: os.truncate(export(p), 300 << 20),  # sparse: no disk used
                          "z.zip is larger than 268,435,456 bytes, far more than it should hold, so it was not read. "
                          "Choose a ZIP"),
    "a pipe": (lambda p: os.mkfifo(p), "z.zip is not a regular file (a pipe, socket or device), so it was not read."),
    "a link to /dev/zero": (lambda p: p.symlink_to("/dev/zero"), "z.zip is not a regular file"),
    "not a ZIP": (lambda p: p.write_bytes(b"PK but not really a zip"), "z.zip is not a ZIP file, or it is damaged."),
}


@pytest.mark.parametrize("make, sentence", REFUSED.values(), ids=REFUSED.keys())
def test_a_hostile_zip_is_refused_in_one_sentence(tmp_path, make, sentence):
    path = tmp_path / "z.zip"
    make(path)
    with pytest.raises(DrawingsError) as raised:
        read_zip(path)
    assert sentence in str(raised.value) and str(raised.value).count(". ") <= 1  # what happened [. what to do]


def test_a_16_bit_image_reads_as_its_8_bit_levels(tmp_path):
    wide = digit(shift=5).astype(np.uint16) * 257
    data = read_zip(export(tmp_path / "z.zip", with_row("x,3,images/wide.png\n", ("images/wide.png", png_bytes(wide)))))
    assert data.problems == [] and data.ids[-1] == "x"
    assert np.array_equal(data.images[-1], digit(shift=5))  # clipped to 8 bits, the 128 edge was 255


def test_an_export_is_nowhere_near_the_limits(tmp_path):
    """The bounds leave room: a real export packs at a low ratio and its members are far under their limits."""
    path = export(tmp_path / "z.zip")
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert sum(i.file_size for i in infos) < 20 * path.stat().st_size
    assert max(i.file_size for i in infos if i.filename.startswith("images/")) < 1024
    assert read_zip(path).ids == GOOD
