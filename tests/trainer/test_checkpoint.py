import pickle

import pytest
import torch

from trainer import CheckpointError, build_model, load_model, read_checkpoint, save_checkpoint
from trainer.checkpoint import FORMAT, model_from_checkpoint


def checkpoint_of(iteration: int) -> dict:
    model = build_model(iteration)
    return {"format": FORMAT, "iteration": iteration, "state_dict": model.state_dict(), "test_accuracy": 12.5}


def test_round_trip(tmp_path):
    original = checkpoint_of(5)
    path = save_checkpoint(original, tmp_path / "sub" / "it5.pt")
    loaded = read_checkpoint(path)
    assert loaded["test_accuracy"] == 12.5
    model = load_model(5, path)
    assert not model.training
    for key, value in original["state_dict"].items():
        assert torch.equal(model.state_dict()[key], value)
    assert [p.name for p in path.parent.iterdir()] == ["it5.pt"]  # no temporary file left


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
        model_from_checkpoint(relabelled, 5)


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
