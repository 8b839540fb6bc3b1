"""Accuracy, loss, per-class accuracy, confusion matrix and mistakes on a labelled set (the 10k test set)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .augment import normalize


@dataclass
class Evaluation:
    accuracy: float  # percent
    loss: float  # mean negative log-likelihood per image
    per_class_accuracy: list[float]  # percent, digits 0-9
    confusion: list[list[int]]  # confusion[true][predicted]
    misclassified: list[int]  # indices into the evaluated set
    predictions: list[int]


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 2000) -> Evaluation:
    """Evaluate in eval mode on the model's device; ``images`` are uint8 [N, 28, 28]."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total_loss, predictions = 0.0, []
    for start in range(0, len(images), batch_size):
        x = normalize(images[start:start + batch_size].to(device))
        y = labels[start:start + batch_size].to(device)
        log_probs = model(x)
        total_loss += F.nll_loss(log_probs, y, reduction="sum").item()
        predictions.append(log_probs.argmax(1).cpu())
    model.train(was_training)
    predicted = torch.cat(predictions)
    truth = labels.cpu()
    confusion = torch.bincount(truth * 10 + predicted, minlength=100).view(10, 10)
    per_class = confusion.diag().double() / confusion.sum(1).clamp(min=1) * 100
    correct = predicted == truth
    return Evaluation(
        accuracy=correct.double().mean().item() * 100,
        loss=total_loss / len(images),
        per_class_accuracy=per_class.tolist(),
        confusion=confusion.tolist(),
        misclassified=torch.nonzero(~correct).flatten().tolist(),
        predictions=predicted.tolist(),
    )
