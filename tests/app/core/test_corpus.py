import gzip
import json
import os

import numpy as np
import pytest

from mnist_desktop.core import corpus
from mnist_desktop.core.corpus import (CACHED_NAME, DIGIT, DOODLES, FONT_FAMILIES, HELD_OUT_DOODLES, HELD_OUT_FAMILIES,
                                       KEPT_CORPORA, LETTER, LOOK_ALIKES, NOT_A_DIGIT, SHAPE, SYMBOL, UNIPEN_HELD_OUT,
                                       Prototype, arc, font_prototypes, is_held_out, line, load_corpus,
                                       looks_like_0_or_1, make_corpus, part_of, prototypes, style_prototypes,
                                       quickdraw_prototypes, unipen_prototypes)
from trainer.errors import DataNotFoundError


def few(found, step=97):
    """A spread of prototypes, one copy each: fonts, styles, doodles."""
    return [p.__class__(**{**vars(p), "copies": 1}) for p in found[::step]]


def test_the_corpus_is_a_function_of_its_seed():
    found = few([*font_prototypes(), *style_prototypes()] + [p for p in prototypes(None) if p.paths is None][::350])
    first, again, other = make_corpus(0, found), make_corpus(0, found), make_corpus(1, found)
    assert len(first.images) == len(found) and first.images.dtype == np.uint8
    assert np.array_equal(first.images, again.images) and list(first.sources) == list(again.sources)
    assert not np.array_equal(first.images, other.images)
    assert (first.images.reshape(len(found), -1).max(1) == 255).all()  # every item has ink


def test_whole_sources_are_held_out():
    assert all(is_held_out(f"font:{family}/{FONT_FAMILIES[family][0]}") for family in HELD_OUT_FAMILIES)
    assert all(is_held_out(f"doodle:{kind}") for kind in HELD_OUT_DOODLES)
    # UNIPEN's held-out contributors whole: their writing as well as their digits
    kinds = (3, DIGIT), (NOT_A_DIGIT, LETTER), (NOT_A_DIGIT, SYMBOL)
    assert all(part_of(Prototype(label, kind, f"unipen:{writer}", f"{writer}/1")) == "held_out"
               for writer in UNIPEN_HELD_OUT for label, kind in kinds)
    assert not any(is_held_out(source) for source in ("font:futura/futural", "doodle:star", "unipen:apb",
                                                      "style:slashed 0", "mnist"))
    assert set(HELD_OUT_DOODLES) < set(DOODLES)
    # Another fold of contributors: those named are held out, the others choose; fonts and doodles as before.
    assert part_of(Prototype(3, DIGIT, "unipen:apb", "apb/1"), ("apb", "tos")) == "held_out"
    assert not is_held_out("unipen:imp", ("apb", "tos")) and not is_held_out("unipen:imp", ())
    assert is_held_out(f"doodle:{HELD_OUT_DOODLES[0]}", ()) and not is_held_out("doodle:star", ("apb",))
    # The rest is split by group: every copy of a glyph falls on the same side.
    found = list(font_prototypes())
    parts = {}
    for p in found:
        parts.setdefault(p.group, set()).add(part_of(p))
    assert all(len(sides) == 1 for sides in parts.values())
    choosing = [part_of(p) for p in found if not is_held_out(p.source)]
    shares = {side: np.mean([part == side for part in choosing]) for side in ("tune", "train")}
    assert 0.1 < shares["tune"] < 0.3


def test_digit_look_alikes_are_never_non_digits(unipen_dir):
    for p in font_prototypes():
        if p.label == NOT_A_DIGIT:
            assert p.group.split("/")[1] not in LOOK_ALIKES or len(p.group.split("/")[1]) > 1, p.group
    letters = [p for p in unipen_prototypes(unipen_dir) if p.label == NOT_A_DIGIT]
    assert letters and not any(looks_like_0_or_1(p.paths) for p in letters)
    assert looks_like_0_or_1([arc(0.5, 0.5, 0.3, 0.45, 0, 1, 40)]) and looks_like_0_or_1([line((0, 0), (0.1, 1))])
    assert not looks_like_0_or_1([line((0, 1), (0.5, 0), (1, 1))])


def test_the_corpus_is_kept_in_the_cache(tmp_path):
    found = few(list(style_prototypes()), step=400)
    made = load_corpus(3, found, tmp_path)
    kept = list(tmp_path.iterdir())
    assert len(kept) == 1
    again = load_corpus(3, found, tmp_path)
    assert np.array_equal(made.images, again.images) and list(made.parts) == list(again.parts)
    kept[0].write_bytes(b"not a corpus")
    assert np.array_equal(load_corpus(3, found, tmp_path).images, made.images)  # made again


def test_a_new_split_makes_the_corpus_again(tmp_path, monkeypatch):
    found = few(list(style_prototypes()), step=400)
    made = load_corpus(3, found, tmp_path)
    monkeypatch.setattr(corpus, "TUNE_SHARE", 1)  # every choosing glyph kept for tuning
    again = load_corpus(3, found, tmp_path)
    assert len(list(tmp_path.iterdir())) == 2
    assert set(made.parts) == {"tune", "train"} and set(again.parts) == {"tune"}


def test_another_fold_of_contributors_makes_its_own_corpus(tmp_path, unipen_dir):
    found = few(list(unipen_prototypes(unipen_dir)), step=60)
    usual, fold = load_corpus(3, found, tmp_path), load_corpus(3, found, tmp_path, held_out_writers=("apb", "tos"))
    assert len(list(tmp_path.iterdir())) == 2 and np.array_equal(usual.images, fold.images)
    writers = np.char.partition(usual.sources.astype(str), ":")[:, 2]
    assert set(writers[fold.parts == "held_out"]) == {"apb", "tos"}
    assert set(writers[usual.parts == "held_out"]) == set(writers) - {"apb", "tos"}


def test_the_cache_keeps_the_corpora_used_last(tmp_path):
    found = few(list(style_prototypes()), step=400)
    older = [tmp_path / CACHED_NAME.format(f"old{k}") for k in range(KEPT_CORPORA + 1)]
    for age, path in enumerate(older):
        path.write_bytes(b"a corpus of another recipe")
        os.utime(path, (1_000_000 - age, 1_000_000 - age))  # older[0] was used last
    made = load_corpus(3, found, tmp_path)
    new = set(tmp_path.iterdir()) - set(older)
    assert len(new) == 1 and set(tmp_path.iterdir()) == new | set(older[:KEPT_CORPORA - 1])
    older[1].touch()  # used after the new one was made
    load_corpus(4, found, tmp_path)  # another seed: a second new corpus
    kept = set(tmp_path.iterdir())
    assert len(kept) == KEPT_CORPORA and older[1] in kept and older[0] not in kept
    assert np.array_equal(load_corpus(3, found, tmp_path).images, made.images)  # kept, read back
    assert set(tmp_path.iterdir()) == kept


def test_quickdraw_doodles_are_traced_shapes_and_their_look_alikes_left_out(quickdraw_dir):
    found = quickdraw_prototypes(quickdraw_dir)
    # the circles (a look-alike category) and the zigzags' straight line (a 1 whatever it is called) are left out
    assert sorted(p.source for p in found) == ["quickdraw:arrow"] * 3 + ["quickdraw:grid"] * 2 + ["quickdraw:zigzag"]
    assert all(p.label == NOT_A_DIGIT and p.kind == SHAPE and p.paths for p in found)
    assert len({p.group for p in found}) == len(found)  # each drawing its own group
    arrow = next(p for p in found if p.source == "quickdraw:arrow")
    assert 1 <= len(arrow.paths) <= 4 and sum(map(len, arrow.paths)) >= 5  # traced to a few centre lines
    made = make_corpus(0, found)
    assert len(made.images) == len(found) and (made.images.reshape(len(found), -1).max(1) == 255).all()
    assert np.array_equal(made.images, make_corpus(0, quickdraw_prototypes(quickdraw_dir)).images)


def test_quickdraw_categories_are_held_out_whole():
    assert is_held_out("quickdraw:cloud") and is_held_out("quickdraw:fish")
    assert not is_held_out("quickdraw:star") and not is_held_out("quickdraw:arrow")
    # A kind both the code and Quick, Draw!'s players draw is held out for both, by either rule.
    for kind in ("house", "table", "envelope"):
        assert is_held_out(f"quickdraw:{kind}") and is_held_out(f"doodle:{kind}")
    assert not is_held_out("doodle:star")
    assert part_of(Prototype(NOT_A_DIGIT, SHAPE, "quickdraw:cloud", "quickdraw:cloud/1")) == "held_out"


def test_a_quickdraw_folder_that_cannot_be_read_is_one_sentence(quickdraw_dir, tmp_path):
    with pytest.raises(DataNotFoundError, match="has no Quick, Draw! drawings"):
        quickdraw_prototypes(tmp_path / "empty")
    (tmp_path / "only").mkdir()
    with gzip.open(tmp_path / "only" / "arrow.ndjson.gz", "wt") as f:
        f.write("\n")  # a category without drawings
    (quickdraw_dir / "circle.ndjson.gz").rename(tmp_path / "only" / "circle.ndjson.gz")  # and look-alikes
    with pytest.raises(DataNotFoundError, match="has no Quick, Draw! drawings"):
        quickdraw_prototypes(tmp_path / "only")
    with gzip.open(quickdraw_dir / "arrow.ndjson.gz", "wt") as f:
        f.write('{"word": "arrow", "drawing": [[[0, 9], [0, 9]]]}\n')  # Google's own ndjson, not the package's
    with pytest.raises(DataNotFoundError, match="arrow.ndjson.gz .*784 pixels"):
        quickdraw_prototypes(quickdraw_dir)
    whole = gzip.compress((json.dumps([0.0] * 784) + "\n").encode() * 50)
    (quickdraw_dir / "arrow.ndjson.gz").write_bytes(whole[:40] + b"\xff" * 20 + whole[60:])  # damaged mid-stream
    with pytest.raises(DataNotFoundError, match="Cannot read .*invalid distance"):  # zlib's own error
        quickdraw_prototypes(quickdraw_dir)
    with gzip.open(quickdraw_dir / "arrow.ndjson.gz", "wt") as f:
        f.write("[0.5, 1]\n")  # not 28 x 28
    with pytest.raises(DataNotFoundError, match="arrow.ndjson.gz .*784 pixels"):
        quickdraw_prototypes(quickdraw_dir)
    (quickdraw_dir / "arrow.ndjson.gz").write_bytes(b"not gzip")
    with pytest.raises(DataNotFoundError, match="Cannot read"):
        quickdraw_prototypes(quickdraw_dir)
