"""Hostile files in the user's drawings folder and in an imported ZIP, made here: each costs only itself, with
one sentence naming it, and every other drawing still loads."""
import base64
import json
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from mnist_desktop.core.drawing_store import DrawingStore
from mnist_desktop.core.preprocess import ImageError, load_image
from mnist_desktop.core.strokes import Stroke
from mnist_desktop.predict_cli import EXIT_UNREADABLE
from tests.app.test_predict_cli import run
from tests.hostile import digit, png_bytes, png_claiming


def store_with_two(root) -> tuple[DrawingStore, dict]:
    """A store holding two labelled "1"s, and one of their records to build hostile variants from."""
    store = DrawingStore(root)
    for shift in range(2):
        store.add(digit(shift=shift), (Stroke(((0.5, 0.2 + shift / 10), (0.5, 0.8)), 0.07),), 1)
    return store, json.loads(next(store.folder.glob("*.json")).read_text())


def with_image(png: bytes):
    image = base64.b64encode(png).decode()
    return lambda folder, good: (folder / "x.json").write_text(json.dumps(good | {"image_png": image}))


def with_strokes(strokes):
    return lambda folder, good: (folder / "x.json").write_text(json.dumps(good | {"strokes": strokes}))


SKIPPED = "{path} was skipped: "
HUGE_NUMBER = SKIPPED + "its strokes are not a list of points and widths (int too large to convert to float)."


# name: (how the hostile file x.json is made in the drawings folder, the one sentence about it)
FILES = {
    "a 1 kB PNG declaring 20000x20000": (with_image(png_claiming(20_000, 20_000)),
                                         SKIPPED + "its image is too large: images up to 4,096 pixels are read."),
    "[ * 100000": (lambda folder, good: (folder / "x.json").write_text("[" * 100_000),
                   SKIPPED + "it is not readable JSON (nested too deeply)."),
    "strokes nested 100000 deep": (lambda folder, good: (folder / "x.json").write_text(
                                       json.dumps(good)[:-1] + ', "strokes": ' + "[" * 100_000 + "}"),
                                   SKIPPED + "it is not readable JSON (nested too deeply)."),
    "a point at 10**400": (with_strokes([{"points": [[10 ** 400, 1]], "width": 1}]),
                           HUGE_NUMBER),
    "a width of 10**400": (with_strokes([{"points": [[1, 1]], "width": 10 ** 400}]),
                           HUGE_NUMBER),
    "a pipe": (lambda folder, good: os.mkfifo(folder / "x.json"),
               "The drawing {path} is not a regular file (a pipe, socket or device), so it was not read."),
    "a link to /dev/zero": (lambda folder, good: (folder / "x.json").symlink_to("/dev/zero"),
                            "The drawing {path} is not a regular file (a pipe, socket or device), so it was not read."),
    "a link to itself": (lambda folder, good: (folder / "x.json").symlink_to(folder / "x.json"),
                         "The drawing {path} cannot be read (Too many levels of symbolic links)."),
    "5 MB": (lambda folder, good: (folder / "x.json").write_bytes(b" " * (5 << 20)),
             "The drawing {path} is larger than 4,194,304 bytes, far more than it should hold, so it was not read."),
}


@pytest.mark.parametrize("make, sentence", FILES.values(), ids=FILES.keys())
def test_a_hostile_drawing_file_costs_only_itself(tmp_path, make, sentence):
    store, good = store_with_two(tmp_path)
    make(store.folder, good)
    drawings, problems = store.load()
    assert len(drawings) == 2  # nothing else lost
    assert problems == [sentence.format(path=store.folder / "x.json")]
    assert os.path.lexists(store.folder / "x.json")  # left as it was


def test_a_16_bit_drawing_image_reads_as_its_8_bit_levels(tmp_path):
    store, good = store_with_two(tmp_path)
    with_image(png_bytes(digit(shift=5).astype(np.uint16) * 100))(store.folder, good | {"label": 3})
    drawings, problems = store.load()
    assert problems == [] and np.array_equal(next(d for d in drawings if d.label == 3).image, digit(shift=5))


@pytest.mark.parametrize("make, reason", [
    (lambda folder: folder.write_text("a file where the folder should be"), "Not a directory"),
    (lambda folder: folder.symlink_to(folder), "Too many levels of symbolic links"),
])
def test_an_unreadable_drawings_folder_is_a_problem_not_an_empty_collection(tmp_path, make, reason):
    store = DrawingStore(tmp_path)
    make(store.folder)
    assert store.load() == ([], [f"The drawings folder {store.folder} cannot be read ({reason}), so none of the "
                                 "drawings in it was loaded; they are left as they are."])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder without permissions")
def test_a_folder_without_read_permission_is_a_problem(tmp_path):
    store, _ = store_with_two(tmp_path)
    store.folder.chmod(0)
    try:
        assert store.load() == ([], [f"The drawings folder {store.folder} cannot be read (Permission denied), so "
                                     "none of the drawings in it was loaded; they are left as they are."])
    finally:
        store.folder.chmod(0o755)


def test_ten_drawings_under_one_name_are_each_reported_not_imported_as_one(tmp_path):
    path = tmp_path / "dup.zip"
    rows = "id,label,image\n" + "".join(f"d{i},1,images/d.png\n" for i in range(10))
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        for i in range(10):
            archive.writestr("images/d.png", png_bytes(digit(shift=i)))
        archive.writestr("labels.csv", rows)
    store, _ = store_with_two(tmp_path / "store")
    result = store.import_zip(path)
    assert result.added == 0 and len(result.problems) == 10
    assert result.problems[0] == ("Row 2 of labels.csv in dup.zip was left out: its image 'images/d.png' appears 10 "
                                  "times in the ZIP, so which one is meant is unknown.")
    assert len(store.load()[0]) == 2


def test_members_named_outside_the_store_write_nothing_outside_it(tmp_path):
    """Zip-slip, absolute and symlink members: read as bytes by name, never extracted."""
    path = tmp_path / "slip.zip"
    link = zipfile.ZipInfo("images/link.png")
    link.external_attr = 0o120777 << 16  # a symbolic link to /etc/passwd, as `zip --symlinks` stores one
    rows = "id,label,image\ne1,1,../../evil.png\ne2,1,/tmp/evil-absolute.png\ne3,1,images/link.png\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../evil.png", png_bytes(digit()))
        archive.writestr("/tmp/evil-absolute.png", png_bytes(digit(shift=1)))
        archive.writestr(link, "/etc/passwd")
        archive.writestr("labels.csv", rows)
    store = DrawingStore(tmp_path / "a" / "b")
    result = store.import_zip(path)
    assert result.added == 2 and len(result.problems) == 1 and "images/link.png cannot be opened" in result.problems[0]
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert {p for p in written if p.parts[:3] != ("a", "b", "drawings")} == {path.relative_to(tmp_path)}
    assert not os.path.lexists("/tmp/evil-absolute.png")


def test_a_bomb_and_a_16_bit_picture_opened_in_the_window_or_predicted(tmp_path):
    """load_image (the window, `mnist-desktop predict`) reads through the same decoder."""
    (tmp_path / "bomb.png").write_bytes(png_claiming(20_000, 20_000))
    with pytest.raises(ImageError, match=r"bomb\.png is too large: images up to 40 megapixels are read\. Choose"):
        load_image(tmp_path / "bomb.png")
    paper = np.full((60, 40), 60000, np.uint16)
    paper[10:50, 18:22] = 12000  # dark ink on light paper, 16-bit: clipped to 8 bits it was all white
    Image.fromarray(paper).save(tmp_path / "wide.png")
    grey = load_image(tmp_path / "wide.png")
    assert grey[30, 20] == 204 and grey[0, 0] == 0  # ink bright on dark, 0.8 of white


def test_predict_reads_a_16_bit_photo_and_names_a_pixel_bomb(tmp_path, hwd_dir):
    """`mnist-desktop predict` reads through the same decoder: a hand-drawn 3 in 16 bits, its darkest ink at
    10,000 (clipped to 8 bits, every pixel was white), and a bomb, one sentence in its record."""
    grey = np.asarray(Image.open(hwd_dir / "img" / "3-001.png").convert("L"), np.uint16)
    three, bomb = tmp_path / "three.png", tmp_path / "bomb.png"
    Image.fromarray(10_000 + grey * 200).save(three)
    bomb.write_bytes(png_claiming(20_000, 20_000))
    out = run("--json", str(three), str(bomb))
    assert out.returncode == EXIT_UNREADABLE, out.stderr
    records = {r["file"]: r for r in map(json.loads, out.stdout.strip().splitlines()[:-1])}
    assert records[str(three)]["digit"] == 3
    assert records[str(bomb)]["error"] == (f"{bomb} is too large: images up to 40 megapixels are read. Choose a PNG "
                                           "or JPG of a single digit.")
