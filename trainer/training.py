"""The training loop, written as a generator of plain events.

The CLI prints the events with a progress bar; the GUI's worker turns them into Qt signals; tests drive the
generator directly. Cancellation is cooperative: ``should_stop()`` is polled before every batch.

Speed (``mnist-train bench``, 2-core CPU): see the README's performance section. The data lives on the
training device as uint8 and each batch is augmented there with one affine-grid resample.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Iterator, Union

import torch
import torch.nn.functional as F

from .augment import augment, normalize
from . import calibration
from .checkpoint import CheckpointInfo, build_checkpoint, load_model
from .checks import Check, instance, number, optional, whole
from .data import load_mnist
from .errors import ConfigError, MnistDesktopError, StatisticsError, TrainingDivergedError
from .evaluation import evaluate
from .extra_data import DrawingsMix
from .iterations import (DEFAULT_DEVICE, DEVICES, ITERATIONS, MNIST_TRAIN_IMAGES, Recipe, build_model, count_parameters,
                         get_iteration)

MAX_EPOCHS = 1000
MAX_LR = 10.0
MAX_SEED = 2**63 - 1  # torch.manual_seed's range for a non-negative seed


# Each field of TrainConfig: how to check it, its name for people, and what it may be.
_CONFIG_RULES: dict[str, tuple[Check, str, str]] = {
    "iteration": (lambda v: whole(1)(v) and v in ITERATIONS, "The iteration",
                  f"a whole number from 1 to {max(ITERATIONS)}"),
    "epochs": (optional(whole(1, MAX_EPOCHS)), "The number of epochs", f"a whole number from 1 to {MAX_EPOCHS}"),
    "lr": (optional(number(0, MAX_LR, low_open=True)), "The learning rate",
           f"a finite number above 0 and at most {MAX_LR:g}"),
    "batch_size": (optional(whole(1, MNIST_TRAIN_IMAGES)), "The batch size",
                   f"a whole number from 1 to {MNIST_TRAIN_IMAGES:,}"),
    "augment": (optional(instance(bool)), "Augment", "on or off (True or False)"),
    "seed": (whole(0, MAX_SEED), "The seed", f"a whole number from 0 to 2**63-1 ({MAX_SEED:,})"),
    "device": (lambda v: v in DEVICES, "The device", f"one of {', '.join(DEVICES)}"),
    "data_dir": (optional(lambda v: isinstance(v, (str, os.PathLike)) and os.fspath(v) != ""),
                 "The data folder", "a folder name, or none for the usual places"),
    # Any limit from 1 up leaves at least one batch (the last batch may be short).
    "train_limit": (optional(whole(1, MNIST_TRAIN_IMAGES)), "The number of training images (train limit)",
                    f"a whole number from 1 to {MNIST_TRAIN_IMAGES:,}, or none for all of them"),
    "report_every": (whole(1), "The progress interval (report_every)", "a whole number of batches, at least 1"),
    "extra_data": (optional(lambda v: isinstance(v, (str, os.PathLike)) and os.fspath(v) != ""),
                   "The drawings ZIP (extra data)", "a file name, or none"),
    "extra_weight": (number(0, 1, low_open=True), "The drawings' share of each batch (extra weight)",
                     "a number above 0 and at most 1"),
    "init_from": (optional(lambda v: isinstance(v, (str, os.PathLike)) and os.fspath(v) != ""),
                  "The starting weights (init from)", "a checkpoint file name, or none to start from scratch"),
}


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Fields left as None take the iteration's recipe. Checked when made: a value outside
    its range raises ConfigError naming the field and what it may be."""

    iteration: int
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    augment: bool | None = None
    seed: int = 0
    device: str = DEFAULT_DEVICE  # one of DEVICES
    data_dir: str | None = None
    train_limit: int | None = None  # only the first N training images (quick runs and tests)
    report_every: int = 10  # batches between BatchProgress events
    extra_data: str | None = None  # a ZIP of the user's drawings ("Your drawings" > Export), mixed into training
    extra_weight: float = 0.125  # drawings added to each batch, as a share of the batch size (8 to 64)
    init_from: str | None = None  # a checkpoint of this iteration to start from (fine-tuning), else from scratch

    def __post_init__(self) -> None:
        for name, (is_valid, label, allowed) in _CONFIG_RULES.items():
            value = getattr(self, name)
            if not is_valid(value):
                raise ConfigError(f"{label} must be {allowed}, not {value!r}.")

    def recipe(self) -> Recipe:
        overrides = {name: getattr(self, name) for name in ("epochs", "lr", "batch_size", "augment")
                     if getattr(self, name) is not None}
        return replace(get_iteration(self.iteration).recipe, **overrides)


@dataclass
class BatchProgress:
    epoch: int
    epochs: int
    batch: int  # batches done in this epoch
    batches: int
    loss: float  # the latest batch's loss
    images_per_s: float  # this epoch so far


@dataclass
class EpochEnd:
    epoch: int
    epochs: int
    train_loss: float  # mean over the epoch's (augmented) batches, train mode
    train_accuracy: float
    test_loss: float  # on the 10k test images, eval mode
    test_accuracy: float
    lr: float  # the rate used during this epoch
    seconds: float  # training part of the epoch, without the evaluation
    images_per_s: float
    extra_accuracy: float | None = None  # fine-tuning: percent of the held-out drawings right, eval mode


@dataclass
class Finished:
    checkpoint: dict
    problem: str | None = None  # why the checkpoint has no "not a digit" statistics, if it has none


@dataclass
class Stopped:
    """Cancelled before the end; ``checkpoint`` holds the last completed epoch, or None."""

    epochs_completed: int
    checkpoint: dict | None = field(repr=False)


Event = Union[BatchProgress, EpochEnd, Finished, Stopped]


def warm_up() -> None:
    """Pay a one-off cost before the first run: building the first optimizer imports torch._dynamo
    (about 2 s on 2 cores, holding the GIL in bursts of 100-250 ms that would stall a GUI thread)."""
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def resolve_device(choice: str) -> torch.device:
    """The torch device for one of DEVICES (TrainConfig has checked that it is one)."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise MnistDesktopError("CUDA was chosen but no CUDA device is available here. Choose CPU or auto.")
    return torch.device(choice)


@torch.no_grad()
def answers_alike(model: torch.nn.Module, images: torch.Tensor, probes: int = 256) -> bool:
    """True when the network's output is the same for every one of the first ``probes`` images: a dead network
    (every unit of some layer off), which too high a learning rate leaves behind with a finite loss."""
    was_training = model.training
    outputs = model.eval()(normalize(images[:probes]))
    model.train(was_training)
    return bool(torch.allclose(outputs, outputs[:1].expand_as(outputs), rtol=1e-5, atol=1e-6))


def train(config: TrainConfig, should_stop: Callable[[], bool] = lambda: False) -> Iterator[Event]:
    """Train ``config.iteration`` and yield events; the last one is Finished or Stopped."""
    recipe = config.recipe()
    device = resolve_device(config.device)
    train_images, train_labels = load_mnist("train", config.data_dir)
    test_images, test_labels = load_mnist("test", config.data_dir)
    train_images = train_images[:config.train_limit].to(device)
    train_labels = train_labels[:config.train_limit].to(device)
    test_images, test_labels = test_images.to(device), test_labels.to(device)

    torch.manual_seed(config.seed)
    generator = torch.Generator(device).manual_seed(config.seed)
    # channels_last speeds up convolution and pooling on the CPU; the saved weights are layout-free.
    model = build_model(config.iteration).to(device, memory_format=torch.channels_last)
    if config.init_from:
        model.load_state_dict(load_model(config.iteration, config.init_from).state_dict())
    mix = None
    if config.extra_data:
        mix = DrawingsMix(config.extra_data, config.seed, max(1, round(recipe.batch_size * config.extra_weight)),
                          device)
        mix.record["before"] = {"test_accuracy": evaluate(model, test_images, test_labels).accuracy,
                                "extra_accuracy": mix.held_out_accuracy(model)}
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, fused=True)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, recipe.lr_step_epochs, recipe.lr_gamma)

    n = len(train_images)
    batches = math.ceil(n / recipe.batch_size)
    history: list[dict] = []
    last_checkpoint = None
    run_start = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        lr = optimizer.param_groups[0]["lr"]
        order = torch.randperm(n, generator=generator, device=device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        epoch_start = time.perf_counter()
        for batch in range(batches):
            if should_stop():
                yield Stopped(epoch - 1, last_checkpoint)
                return
            index = order[batch * recipe.batch_size:(batch + 1) * recipe.batch_size]
            images = train_images[index]
            x = augment(images, generator) if recipe.augment else normalize(images)
            y = train_labels[index]
            if mix is not None:
                x, y = mix.join(x, y, recipe.augment)
            log_probs = model(x.contiguous(memory_format=torch.channels_last))
            loss = F.nll_loss(log_probs, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(index)
            correct += (log_probs[:len(index)].argmax(1) == y[:len(index)]).sum()  # MNIST's part only
            if (batch + 1) % config.report_every == 0 or batch + 1 == batches:
                batch_loss = loss.item()
                if not math.isfinite(batch_loss):
                    raise TrainingDivergedError(
                        f"The loss became {batch_loss} in epoch {epoch}, batch {batch + 1}: training diverged. "
                        f"Try a smaller learning rate than {lr:g}.")
                done = min((batch + 1) * recipe.batch_size, n)
                yield BatchProgress(epoch, recipe.epochs, batch + 1, batches, batch_loss,
                                    done / (time.perf_counter() - epoch_start))
        seconds = time.perf_counter() - epoch_start
        scheduler.step()
        result = evaluate(model, test_images, test_labels)
        if answers_alike(model, test_images):
            raise TrainingDivergedError(
                f"Training diverged: after epoch {epoch} the network gives the same answer to every image "
                f"({result.accuracy:.1f}% test accuracy), so nothing was kept. Try a smaller learning rate than "
                f"{lr:g}.")
        end = EpochEnd(epoch, recipe.epochs, loss_sum.item() / n, correct.item() / n * 100,
                       result.loss, result.accuracy, lr, seconds, n / seconds,
                       mix.held_out_accuracy(model) if mix else None)
        history.append(asdict(end))
        last_checkpoint = build_checkpoint(model, CheckpointInfo(
            iteration=config.iteration, parameters=count_parameters(model), recipe=recipe.as_dict(),
            seed=config.seed, train_images=n, epochs=len(history), history=list(history),
            test_accuracy=end.test_accuracy, test_loss=end.test_loss, device=str(device),
            seconds=time.perf_counter() - run_start,
            torch_version=str(torch.__version__)))  # TorchVersion is not allowed by weights_only
        if mix is not None:
            last_checkpoint["fine_tune"] = mix.record
        yield end
        if should_stop():  # pressed during this epoch's evaluation, or while its event was handled
            yield Stopped(epoch, last_checkpoint)
            return
    problem = None
    try:
        last_checkpoint[calibration.KEY] = calibration.statistics_of(model, train_images, train_labels, "this run")
    except StatisticsError as e:  # the run itself is sound: kept, left out of the verdict until calibrated
        problem = (f"{e}; the run is kept without them and left out of the \"not a digit\" verdict until "
                   "mnist-train calibrate adds them from the full training set.")
    yield Finished(last_checkpoint, problem)
