import os
import pickle
from dataclasses import fields

import pytest
import torch

from trainer import CheckpointError, build_model, load_model, read_checkpoint, save_checkpoint
from trainer.checkpoint import (_METADATA_RULES, FORMAT, FORMAT_VERSION, METADATA_KEYS, Checkpoint, CheckpointInfo,
                                build_checkpoint)
from trainer.iterations import get_iteration
from trainer.paths import shipped_weights_path


def info_of(iteration: int, **changes) -> CheckpointInfo:
    fields_ = dict(iteration=iteration, parameters=18_422, recipe=get_iteration(iteration).recipe.as_dict(), seed=0,
                   train_images=512, epochs=1, history=[{"epoch": 1}], test_accuracy=12.5, test_loss=2.1,
                   device="cpu", seconds=1.5, torch_version=str(torch.__version__))
    return CheckpointInfo(**(fields_ | changes))


def checkpoint_of(iteration: int, **changes) -> dict:
    return build_checkpoint(build_model(iteration), info_of(iteration, **changes))


def test_round_trip(tmp_path):
    original = checkpoint_of(5, extra={"calibration": {"mean": 0.5}})
    path = save_checkpoint(original, tmp_path / "sub" / "it5.pt")
    loaded = read_checkpoint(path)
    assert loaded.info.test_accuracy == 12.5
    assert loaded.info == info_of(5, extra={"calibration": {"mean": 0.5}})  # extra keys survive
    model = load_model(5, path)
    assert not model.training
    for key, value in original["state_dict"].items():
        assert torch.equal(model.state_dict()[key], value)
    assert [p.name for p in path.parent.iterdir()] == ["it5.pt"]  # no temporary file left


def test_every_metadata_key_has_a_rule():
    assert set(METADATA_KEYS) == set(_METADATA_RULES) == {f.name for f in fields(CheckpointInfo)} - {"extra"}


@pytest.mark.parametrize("iteration", range(1, 8))
def test_shipped_weights_pass_every_check(iteration):
    assert read_checkpoint(shipped_weights_path(iteration)).info.iteration == iteration


def with_weight(checkpoint: dict, value: float) -> dict:
    weights = dict(checkpoint["state_dict"])
    weights["0.weight"] = weights["0.weight"].clone().fill_(value)
    return checkpoint | {"state_dict": weights}


def without(checkpoint: dict, key: str) -> dict:
    return {k: v for k, v in checkpoint.items() if k != key}


# One row per way a file can be a PyTorch checkpoint of ours and still be unusable.
BAD_CHECKPOINTS = {
    "newer format": (lambda c: c | {"format_version": FORMAT_VERSION + 1}, "written by a newer mnist-desktop"),
    "format version as text": (lambda c: c | {"format_version": "1"}, "its format_version is '1'"),
    "iteration as text": (lambda c: c | {"iteration": "5"}, "its iteration is '5', but must be a whole number"),
    "iteration out of range": (lambda c: c | {"iteration": 9}, "its iteration is 9"),
    "iteration as a bool": (lambda c: c | {"iteration": True}, "its iteration is True"),
    "no test accuracy": (lambda c: without(c, "test_accuracy"), "has no test_accuracy"),
    "no history": (lambda c: without(c, "history"), "has no history"),
    "NaN accuracy": (lambda c: c | {"test_accuracy": float("nan")}, "its test_accuracy is nan"),
    "recipe without lr": (lambda c: c | {"recipe": {"epochs": 1}}, "its recipe is"),
    "no weights": (lambda c: without(c, "state_dict"), "holds no weights"),
    "weights not tensors": (lambda c: c | {"state_dict": {"0.weight": [1.0]}}, "holds no weights"),
    "NaN weight": (lambda c: with_weight(c, float("nan")), r"NaN or infinite weights \(in 0.weight\)"),
    "infinite weight": (lambda c: with_weight(c, float("inf")), "NaN or infinite weights"),
    "not a dict": (lambda c: [c], "not an mnist-desktop checkpoint"),
}


@pytest.mark.parametrize("case", sorted(BAD_CHECKPOINTS))
def test_bad_checkpoints_are_refused_with_a_sentence(tmp_path, case):
    change, message = BAD_CHECKPOINTS[case]
    path = tmp_path / "bad.pt"
    torch.save(change(checkpoint_of(5)), path)
    with pytest.raises(CheckpointError, match=message) as error:
        read_checkpoint(path)
    assert str(error.value).count(". ") <= 2 and str(path) in str(error.value)
    assert "iteration 5, not iteration 5" not in str(error.value)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("hello")
    with pytest.raises(CheckpointError, match="not a PyTorch file"):
        load_model(5, path)


def test_truncated(tmp_path):
    path = save_checkpoint(checkpoint_of(5), tmp_path / "it5.pt")
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(CheckpointError, match="truncated or damaged"):
        load_model(5, path)


def test_other_architecture(tmp_path):
    path = save_checkpoint(checkpoint_of(1), tmp_path / "it1.pt")
    with pytest.raises(CheckpointError, match="holds iteration 1, not iteration 5"):
        load_model(5, path)
    relabelled = checkpoint_of(1) | {"iteration": 5}
    with pytest.raises(CheckpointError, match="another architecture"):
        Checkpoint.of(relabelled)


def test_plain_state_dict_is_not_ours(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save(build_model(5).state_dict(), path)
    with pytest.raises(CheckpointError, match="not an mnist-desktop checkpoint"):
        load_model(5, path)


class Payload:
    pass


def test_arbitrary_pickles_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "x": Payload()}, path, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="not loaded"):
        load_model(5, path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="Cannot open"):
        load_model(5, tmp_path / "absent.pt")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_non_regular_files_are_never_opened(tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: the test would hang if it were opened."""
    fifo = tmp_path / "run.pt"
    os.mkfifo(fifo)
    link = tmp_path / "link.pt"
    link.symlink_to(fifo)
    for path in (fifo, link, tmp_path, "/dev/null"):
        with pytest.raises(CheckpointError, match="was not opened"):
            read_checkpoint(path)
