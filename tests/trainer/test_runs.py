"""The run store: saved runs, the selection per iteration, and files of any shape in the per-user folder."""
import json
import logging
import multiprocessing
import os

import pytest
import torch

from trainer import read_checkpoint
from trainer.runs import RunStore
from tests.trainer.test_checkpoint import checkpoint_of, without


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "user")


def test_save_activate_revert(store):
    path = store.save(checkpoint_of(3))
    assert store.active_path(3) == path and store.active_path(4) is None
    assert read_checkpoint(path).info.iteration == 3
    [run] = store.list_runs()
    assert run.path == path and run.iteration == 3 and run.test_accuracy == 12.5 and run.recipe["batch_size"] == 64
    store.activate(3, None)
    assert store.active_path(3) is None
    store.activate(3, path)
    assert store.active_path(3) == path


# One row per shape the old active.json may have been left in: each is ignored, iteration 5 uses the shipped
# weights, and the other iterations keep working.
BAD_ACTIVE_JSON = {
    "a list": "[1, 2]",
    "a number for a name": '{"5": 3}',
    "a path with separators": '{"5": "../../etc/passwd"}',
    "an absolute path": '{"5": "/tmp/x.pt"}',
    "a missing run": '{"5": "20990101-000000-000000-iteration5.pt"}',
    "not JSON": "{5: ",
    "parent folder": '{"5": ".."}',
}


@pytest.mark.parametrize("case", sorted(BAD_ACTIVE_JSON))
def test_a_bad_legacy_active_json_is_ignored_with_a_warning(store, case, caplog):
    store.root.mkdir(parents=True)
    store.legacy_active_file.write_text(BAD_ACTIVE_JSON[case])
    with caplog.at_level(logging.WARNING, "trainer.runs"):
        assert store.active_path(5) is None
    assert caplog.records, "a warning is logged"
    store.activate(4, store.save(checkpoint_of(4), activate=False))
    assert store.active_path(4) is not None


def test_the_legacy_active_json_is_still_read_until_a_new_choice(store):
    path = store.save(checkpoint_of(5), activate=False)
    store.legacy_active_file.write_text(json.dumps({"5": path.name}))
    assert store.active_path(5) == path
    store.activate(5, None)  # the new per-iteration file wins over the old mapping
    assert store.active_path(5) is None


@pytest.mark.parametrize("content", [b"../runs/x.pt", b"\xff\xfe", b"a" * 5000, b"sub/dir.pt"])
def test_a_bad_selection_file_is_ignored(store, content):
    store.active_dir.mkdir(parents=True)
    (store.active_dir / "iteration2").write_bytes(content)
    assert store.active_path(2) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_pipes_and_devices_are_never_opened(store):
    """A FIFO blocks whoever opens it for reading: if any were opened, this test would hang."""
    good = store.save(checkpoint_of(6))
    store.runs_dir.joinpath("20990101-000000-000000-iteration1.pt").symlink_to("/dev/zero")
    os.mkfifo(store.runs_dir / "20990101-000000-000001-iteration2.pt")
    store.runs_dir.joinpath("20990101-000000-000002-iteration3.pt").symlink_to(
        store.runs_dir / "20990101-000000-000001-iteration2.pt")
    os.mkfifo(store.active_dir / "iteration7")
    os.mkfifo(store.legacy_active_file)
    store.activate(2, store.runs_dir / "20990101-000000-000001-iteration2.pt")
    assert [run.path for run in store.list_runs()] == [good]
    assert store.active_path(2) is None and store.active_path(7) is None and store.active_path(6) == good


def test_runs_with_incomplete_metadata_are_not_listed(store):
    good = store.save(checkpoint_of(1))
    store.save(without(checkpoint_of(2), "test_accuracy"), activate=False)
    store.save(checkpoint_of(3) | {"iteration": "3"}, activate=False)
    assert [run.path for run in store.list_runs()] == [good]


def activate_many(root: str, iteration: int, times: int) -> None:
    store = RunStore(root)
    runs = [store.runs_dir / f"20260101-00000{i}-000000-iteration{iteration}.pt" for i in range(2)]
    for n in range(times):
        store.activate(iteration, runs[n % 2] if n % 3 else None)
    store.activate(iteration, runs[1])


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork (fast start)")
def test_concurrent_activations_are_never_lost(store):
    store.runs_dir.mkdir(parents=True)
    for iteration in range(1, 5):  # two real runs per iteration for the writers to choose between
        for i in range(2):
            torch.save(checkpoint_of(iteration), store.runs_dir / f"20260101-00000{i}-000000-iteration{iteration}.pt")
    with multiprocessing.get_context("fork").Pool(4) as pool:  # any exception in a writer is raised here
        pool.starmap(activate_many, [(str(store.root), iteration, 300) for iteration in range(1, 5)])
    for iteration in range(1, 5):
        assert store.active_path(iteration).name == f"20260101-000001-000000-iteration{iteration}.pt"
    assert sorted(p.name for p in store.active_dir.iterdir()) == [f"iteration{i}" for i in range(1, 5)]
