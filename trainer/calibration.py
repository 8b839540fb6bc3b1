"""What a model's "not a digit" verdict needs, measured on MNIST training digits and kept with its checkpoint.

Two scores say how digit-like an image looks to one model (higher = more like MNIST's digits):
- the energy of its logits, logsumexp (Liu et al. 2020): confident answers have high energy;
- the Mahalanobis score of its last feature maps, averaged per channel (Lee et al. 2018): minus the squared
  distance to the nearest digit class's mean under a covariance shared by the ten classes.
Each score becomes a tail probability against the model's own training digits (how many score lower), so a
retrained model carries its own scale and the seven can be averaged. The statistics for that are computed
here when a model is trained (trainer.training) or afterwards (``mnist-train calibrate``).

Chosen by measurement (``python -m tests.app.core.nondigits`` prints the rates): see the README.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .augment import normalize
from .checkpoint import model_from_checkpoint, read_checkpoint, save_checkpoint
from .data import load_mnist

KEY = "calibration"  # the checkpoint's key for the statistics
VERSION = 1
IMAGES = 20_000  # training images the statistics come from (evenly spaced through the 60k)
QUANTILES = 256  # sorted training scores kept per score, denser in the low tail that decides
COVARIANCE_SHRINK = 1e-3  # added to the covariance's diagonal, as a fraction of its mean variance
BATCH = 2000


def split_model(model: nn.Sequential) -> tuple[nn.Sequential, nn.Sequential]:
    """(body up to the last feature maps, head from the flatten to the logits): the log-softmax is left out."""
    layers = list(model)
    flatten = next(i for i, layer in enumerate(layers) if isinstance(layer, nn.Flatten))
    end = len(layers) - 1 if isinstance(layers[-1], nn.LogSoftmax) else len(layers)
    return nn.Sequential(*layers[:flatten]), nn.Sequential(*layers[flatten:end])


@torch.inference_mode()
def features_and_logits(parts: tuple[nn.Sequential, nn.Sequential], images: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """``split_model``'s parts, float [N, 28, 28] in [0, 1] (or uint8) -> (channel means of the last feature
    maps [N, C], logits [N, 10])."""
    body, head = parts
    maps = body(normalize(images))
    return maps.mean((2, 3)), head(maps)


def energy(logits: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(logits, 1)


def mahalanobis(features: torch.Tensor, class_means: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    """Minus the squared Mahalanobis distance to the nearest class mean: [N, C] -> [N]."""
    diff = features[:, None, :] - class_means[None]  # [N, classes, C]
    return -torch.einsum("nkc,cd,nkd->nk", diff, precision, diff).amin(1)


def quantile_levels(n: int) -> np.ndarray:
    """QUANTILES probability levels from 1/n to 1, geometric so the low tail keeps its detail."""
    return np.geomspace(1 / n, 1.0, QUANTILES)


def calibrate(model: nn.Sequential, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """The statistics for ``model`` (eval mode, any device) from uint8 training images [N, 28, 28] and labels;
    plain tensors and numbers only, so the checkpoint still loads with ``weights_only=True``."""
    step = max(1, len(images) // IMAGES)
    images, labels = images[::step][:IMAGES], labels[::step][:IMAGES]
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    features, logits = [], []
    parts = split_model(model)
    for start in range(0, len(images), BATCH):
        f, z = features_and_logits(parts, images[start:start + BATCH].to(device))
        features.append(f.double().cpu())
        logits.append(z.double().cpu())
    model.train(was_training)
    features, logits, labels = torch.cat(features), torch.cat(logits), labels.cpu().contiguous()
    digits = labels.unique()  # all ten, unless a quick run used a few images
    class_means = torch.stack([features[labels == digit].mean(0) for digit in digits])
    centred = features - class_means[torch.searchsorted(digits, labels)]
    covariance = centred.T @ centred / len(features)
    covariance += COVARIANCE_SHRINK * covariance.diagonal().mean() * torch.eye(len(covariance), dtype=covariance.dtype)
    precision = torch.linalg.inv(covariance)
    levels = torch.from_numpy(quantile_levels(len(features)))
    scores = {"energy": energy(logits), "mahalanobis": mahalanobis(features, class_means, precision)}
    return {
        "version": VERSION,
        "images": len(features),
        "class_means": class_means.float(),
        "precision": precision.float(),
        "quantiles": {name: torch.quantile(s, levels).float() for name, s in scores.items()},
    }


def log_tail_probabilities(features: torch.Tensor, logits: torch.Tensor, statistics: dict) -> np.ndarray:
    """[N]: log P(energy) + log P(Mahalanobis), each the share of the model's training digits that scored at
    most as high (interpolated between the kept quantiles, floored at 1/(images + 1)): 0 = typical, very
    negative = unlike any digit it was trained on. NumPy's interp: one call, not a dozen small tensor ops."""
    floor = 1 / (statistics["images"] + 1)
    levels = quantile_levels(statistics["images"])
    scores = {"energy": energy(logits.float()),
              "mahalanobis": mahalanobis(features.float(), statistics["class_means"], statistics["precision"])}
    return sum(np.log(np.maximum(np.interp(s.numpy(), statistics["quantiles"][name].numpy(), levels, left=floor),
                                 floor)) for name, s in scores.items())


def calibrate_file(path: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> Path:
    """Add (or renew) the statistics in an existing checkpoint file without retraining: its weights and
    metadata are written back unchanged, beside the new key, atomically."""
    checkpoint = read_checkpoint(path)
    model = model_from_checkpoint(checkpoint, checkpoint["iteration"], str(path))
    images, labels = load_mnist("train", data_dir)
    checkpoint[KEY] = calibrate(model, images, labels)
    return save_checkpoint(checkpoint, path)
