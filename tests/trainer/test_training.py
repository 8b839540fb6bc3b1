import pytest

from trainer import (BatchProgress, EpochEnd, Finished, MnistDesktopError, Stopped, TrainConfig,
                     TrainingDivergedError, train)
from trainer.checkpoint import model_from_checkpoint


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
    model_from_checkpoint(checkpoint, 5)  # the weights load into a fresh model


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
    with pytest.raises(TrainingDivergedError, match="diverged. Try a smaller learning rate"):
        list(train(small(mnist_dir, lr=1e30, augment=False)))


def test_cuda_chosen_but_absent(mnist_dir):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(MnistDesktopError, match="no CUDA device"):
        next(train(small(mnist_dir, device="cuda")))
