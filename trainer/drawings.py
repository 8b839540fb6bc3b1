"""The model made for drawings (iterations.DRAWINGS): iteration 5's network trained on MNIST's rasters and on
digits drawn as strokes, given here as tensors (mnist_desktop.core.drawn_digits makes them: this package never
renders). Each batch holds as many drawn digits as MNIST digits, both augmented as the study augments MNIST.
Its checkpoint is the seven's format, with the statistics the verdict reads."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict

import torch
import torch.nn.functional as F

from . import calibration
from .augment import augment
from .checkpoint import CheckpointInfo, build_checkpoint
from .evaluation import evaluate
from .iterations import DRAWINGS, build_model, count_parameters
from .training import EpochEnd


def train_drawings_model(mnist: tuple[torch.Tensor, torch.Tensor], drawn: tuple[torch.Tensor, torch.Tensor],
                         test: tuple[torch.Tensor, torch.Tensor], seed: int = 0, epochs: int | None = None,
                         progress: Callable[[EpochEnd], None] = lambda end: None) -> dict:
    """Train on MNIST's training images and the drawn digits (uint8 [N, 28, 28] and labels each), measure on
    ``test`` (MNIST's test set) after every epoch; the checkpoint, calibrated on MNIST's training digits."""
    recipe = DRAWINGS.recipe
    epochs = epochs or recipe.epochs
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = build_model(DRAWINGS.number)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, recipe.lr_step_epochs, recipe.lr_gamma)
    half = recipe.batch_size // 2
    steps = math.ceil(len(mnist[0]) / half)
    history, start = [], time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        epoch_start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        mnist_order = torch.randperm(len(mnist[0]), generator=generator)
        drawn_order = torch.randint(len(drawn[0]), (steps * half,), generator=generator)
        loss_sum, correct = 0.0, 0
        for step in range(steps):
            picks = mnist_order[step * half:(step + 1) * half], drawn_order[step * half:(step + 1) * half]
            images = torch.cat([mnist[0][picks[0]], drawn[0][picks[1]]])
            labels = torch.cat([mnist[1][picks[0]], drawn[1][picks[1]]])
            log_probs = model(augment(images, generator))
            loss = F.nll_loss(log_probs, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(labels)
            correct += int((log_probs.argmax(1) == labels).sum())
        scheduler.step()
        seen = steps * 2 * half
        result = evaluate(model, *test)
        seconds = time.perf_counter() - epoch_start
        end = EpochEnd(epoch, epochs, loss_sum / seen, correct / seen * 100, result.loss, result.accuracy, lr,
                       seconds, seen / seconds)
        history.append(asdict(end))
        progress(end)
    checkpoint = build_checkpoint(model, CheckpointInfo(
        iteration=DRAWINGS.number, parameters=count_parameters(model), recipe={**recipe.as_dict(), "epochs": epochs},
        seed=seed, train_images=len(mnist[0]) + len(drawn[0]), epochs=epochs, history=history,
        test_accuracy=history[-1]["test_accuracy"], test_loss=history[-1]["test_loss"], device="cpu",
        seconds=time.perf_counter() - start, torch_version=str(torch.__version__)))
    checkpoint[calibration.KEY] = calibration.calibrate(model, *mnist)
    return checkpoint
