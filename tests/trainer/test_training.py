import math
from dataclasses import fields

import pytest

from trainer import (BatchProgress, EpochEnd, Finished, MnistDesktopError, Stopped, TrainConfig,
                     TrainingDivergedError, train)
from trainer.checkpoint import Checkpoint, model_from_checkpoint
from trainer.errors import ConfigError
from trainer.training import _CONFIG_RULES


def small(mnist_dir, **overrides) -> TrainConfig:
    settings = dict(iteration=5, epochs=2, train_limit=1024, data_dir=str(mnist_dir), device="cpu", report_every=1)
    return TrainConfig(**(settings | overrides))


def test_short_run_lowers_the_loss_and_yields_events_in_order(mnist_dir):
    events = list(train(small(mnist_dir)))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["BatchProgress"] * 16 + ["EpochEnd"] + ["BatchProgress"] * 16 + ["EpochEnd", "Finished"]
    batches = [e for e in events if isinstance(e, BatchProgress)]
    assert [b.batch for b in batches[:16]] == list(range(1, 17)) and batches[0].batches == 16
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    first_losses = sum(b.loss for b in batches[:4]) / 4
    last_losses = sum(b.loss for b in batches[-4:]) / 4
    assert last_losses < first_losses * 0.7
    assert epochs[1].train_loss < epochs[0].train_loss
    assert epochs[1].test_accuracy > 70  # 2 epochs of 1,024 images, measured on the 10k test set
    checkpoint = events[-1].checkpoint
    assert checkpoint["epochs"] == 2 and checkpoint["train_images"] == 1024
    assert checkpoint["history"][1]["test_accuracy"] == epochs[1].test_accuracy
    model_from_checkpoint(Checkpoint.of(checkpoint), 5)  # the weights load into a fresh model


def test_same_seed_same_result(mnist_dir):
    config = small(mnist_dir, epochs=1, train_limit=256)
    a = [e for e in train(config) if isinstance(e, Finished)][0].checkpoint
    b = [e for e in train(config) if isinstance(e, Finished)][0].checkpoint
    assert a["test_accuracy"] == b["test_accuracy"]


def test_cancellation_stops_within_one_batch_and_keeps_last_epoch(mnist_dir, isolated_user_folders):
    batches_run = 0

    def should_stop() -> bool:
        return batches_run >= 20  # mid-way through epoch 2 (16 batches per epoch)

    events = []
    for event in train(small(mnist_dir, epochs=3), should_stop):
        events.append(event)
        if isinstance(event, BatchProgress):
            batches_run += 1
    assert batches_run == 20
    assert isinstance(events[-1], Stopped) and events[-1].epochs_completed == 1
    assert events[-1].checkpoint["epochs"] == 1
    assert not any(isinstance(e, Finished) for e in events)
    assert not list(isolated_user_folders.rglob("*.pt"))  # the generator never writes a checkpoint


def test_a_diverging_loss_stops_with_a_clear_message(mnist_dir):
    config = small(mnist_dir, augment=False)
    object.__setattr__(config, "lr", 1e30)  # past TrainConfig's range: the loop's own guard is what is tested
    with pytest.raises(TrainingDivergedError, match="diverged. Try a smaller learning rate"):
        list(train(config))


def test_cuda_chosen_but_absent(mnist_dir):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(MnistDesktopError, match="no CUDA device"):
        next(train(small(mnist_dir, device="cuda")))


# One row per bad value: the field, the value, words the sentence must hold (the field's name and its range).
BAD_CONFIG = [
    ("iteration", 0, "The iteration must be a whole number from 1 to 7"),
    ("iteration", 8, "The iteration must be a whole number from 1 to 7"),
    ("iteration", "5", "The iteration must be a whole number from 1 to 7, not '5'"),
    ("iteration", True, "The iteration must be"),
    ("epochs", 0, "The number of epochs must be a whole number from 1 to 1000"),
    ("epochs", 1001, "from 1 to 1000"),
    ("epochs", 2.5, "from 1 to 1000"),
    ("lr", math.nan, "The learning rate must be a finite number above 0 and at most 10, not nan"),
    ("lr", math.inf, "The learning rate"),
    ("lr", 0.0, "The learning rate"),
    ("lr", -0.001, "The learning rate"),
    ("lr", 10.5, "The learning rate"),
    ("lr", "0.1", "The learning rate"),
    ("batch_size", 0, "The batch size must be a whole number from 1 to 60,000, not 0"),
    ("batch_size", -5, "The batch size"),
    ("batch_size", 60_001, "The batch size"),
    ("augment", "yes", "Augment must be on or off"),
    ("seed", -1, "The seed must be a whole number from 0 to 2**63-1"),
    ("seed", 2**63, "The seed"),
    ("seed", 2**70, "The seed"),
    ("seed", 1.5, "The seed"),
    ("device", "gpu", "The device must be one of auto, cpu, cuda, not 'gpu'"),
    ("device", None, "The device"),
    ("data_dir", "", "The data folder must be a folder name"),
    ("data_dir", 5, "The data folder"),
    ("train_limit", 0, "The number of training images (train limit) must be a whole number from 1 to 60,000"),
    ("train_limit", -59_000, "train limit"),
    ("train_limit", 60_001, "train limit"),
    ("report_every", 0, "The progress interval (report_every) must be a whole number of batches, at least 1"),
]


@pytest.mark.parametrize("field, value, sentence", BAD_CONFIG)
def test_a_bad_setting_is_refused_with_one_sentence(field, value, sentence):
    with pytest.raises(ConfigError) as error:
        TrainConfig(**{"iteration": 5, field: value})
    message = str(error.value)
    assert message.startswith(sentence) or sentence in message
    assert message.endswith(".") and message.count(". ") == 0  # one sentence


def test_every_field_is_checked():
    assert set(_CONFIG_RULES) == {f.name for f in fields(TrainConfig)} >= {row[0] for row in BAD_CONFIG}


def test_the_limits_themselves_are_allowed():
    config = TrainConfig(7, epochs=1000, lr=10, batch_size=60_000, augment=False, seed=2**63 - 1, device="cpu",
                         data_dir="mnist", train_limit=1, report_every=1)
    assert config.recipe().batch_size == 60_000
    assert TrainConfig(1, epochs=1, lr=1e-9, batch_size=1, train_limit=60_000).recipe().lr == 1e-9


def test_stop_before_the_first_batch_stops_at_once(mnist_dir):
    assert [repr(e) for e in train(small(mnist_dir), lambda: True)] == [repr(Stopped(0, None))]


def test_stop_during_the_last_evaluation_is_a_stop_not_a_finish(mnist_dir):
    """Stop pressed after the last batch (while the 10k test images are evaluated) must not end as Finished."""
    events = []
    for event in train(small(mnist_dir, epochs=1, train_limit=256), lambda: len(events) >= 4):
        events.append(event)  # 4 batches: the 4th progress event comes after the last one
    assert [type(e) for e in events] == [BatchProgress] * 4 + [EpochEnd, Stopped]
    assert events[-1].epochs_completed == 1 and events[-1].checkpoint["epochs"] == 1
