"""trainer.files: the one atomic write and the bounded read, against real files and real failures."""
import errno
import os
import time

import pytest
import torch

from trainer.errors import MnistDesktopError, UnreadableFileError, WriteError
from trainer.files import (FILE_MODE, STALE_AFTER_S, json_text, read_bounded, reason, remove_stale_temps,
                           write_atomic, write_bytes, write_json, write_text)


def test_write_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "a.json"
    write_text(path, "old")
    write_json(path, {"x": [1, 2.5]})
    assert path.read_text() == '{\n "x": [\n  1,\n  2.5\n ]\n}\n'
    assert os.listdir(tmp_path) == ["a.json"]
    assert path.stat().st_mode & 0o777 == FILE_MODE  # as open() makes it, not mkstemp's 0600


def test_a_failing_writer_keeps_the_old_file_and_removes_its_temporary_file(tmp_path):
    path = tmp_path / "run.pt"
    write_bytes(path, b"earlier work")

    def full_disk(f):
        f.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteError) as caught:
        write_atomic(path, full_disk)
    assert str(caught.value) == f"{path} could not be written (the disk is full); what it held before is unchanged."
    assert isinstance(caught.value, MnistDesktopError) and caught.value.path == path
    assert path.read_bytes() == b"earlier work" and os.listdir(tmp_path) == ["run.pt"]


def test_torch_runtime_error_on_a_short_write_is_named():
    error = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 47360 vs 47248")
    assert "disk is full" in reason(error)


def test_json_is_strict_numbers_that_are_not_finite_become_null(tmp_path):
    write_json(tmp_path / "x.json", {"loss": float("nan"), "curve": [1.5, float("inf")], "n": 3}, indent=None)
    assert (tmp_path / "x.json").read_text() == '{"loss": null, "curve": [1.5, null], "n": 3}\n'
    assert json_text([float("-inf")]) == "[null]"


def test_a_missing_folder_is_one_sentence(tmp_path):
    with pytest.raises(WriteError, match="its folder does not exist"):
        write_text(tmp_path / "absent" / "x.txt", "x")


def test_a_bug_in_the_writer_is_not_hidden_but_cleans_up(tmp_path):
    with pytest.raises(ZeroDivisionError):
        write_atomic(tmp_path / "x", lambda f: 1 / 0)
    assert os.listdir(tmp_path) == []


def test_only_old_temporary_files_of_the_pattern_are_removed(tmp_path):
    old = [tmp_path / ".iteration1.pt.ab12_xyz.tmp", tmp_path / ".study.json.Zz09abcd.tmp"]
    young = tmp_path / ".iteration2.pt.cd34efgh.tmp"
    others = [tmp_path / "notes.tmp", tmp_path / ".hidden.tmp", tmp_path / "iteration1.pt"]
    for path in old + [young] + others:
        path.write_bytes(b"x")
    past = time.time() - STALE_AFTER_S - 60
    for path in old + others:
        os.utime(path, (past, past))
    assert sorted(remove_stale_temps(tmp_path)) == sorted(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in [young] + others)


def test_torch_save_through_the_atomic_write(tmp_path):
    path = write_atomic(tmp_path / "t.pt", lambda f: torch.save({"w": torch.ones(3)}, f))
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.ones(3))


@pytest.mark.parametrize("make, words", [
    (lambda p: p.mkdir(), "is a folder, so it was not read"),
    (lambda p: os.mkfifo(p), "is not a regular file"),
    (lambda p: p.write_bytes(b"x" * 101), "is larger than 100 bytes"),
    (lambda p: None, "does not exist"),
])
def test_bounded_read_refuses_with_one_sentence(tmp_path, make, words):
    path = tmp_path / "thing"
    make(path)
    with pytest.raises(UnreadableFileError, match=r"^The file .* " + words.replace("(", r"\(").replace(")", r"\)")):
        read_bounded(path, 100)


def test_bounded_read_refuses_a_device():
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read_bounded("/dev/zero", 100)
