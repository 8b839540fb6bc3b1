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


def features_and_logits(parts: tuple[nn.Sequential, nn.Sequential], inputs: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """``split_model``'s parts, normalised images [N, 1, 28, 28] (augment.normalize, done once for all the
    models) -> (channel means of the last feature maps [N, C], logits [N, 10])."""
    body, head = parts
    maps = through(body, inputs)
    return maps.mean((2, 3)), through(head, maps)


def through(layers: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """``layers(x)`` with each layer's ``forward`` called directly: no hooks are used here, and nn.Module's
    per-call checks took a third of a small model's time on one image."""
    for layer in layers:
        x = layer.forward(x)
    return x


def energy(logits: np.ndarray) -> np.ndarray:
    """logsumexp of the logits: [N, 10] -> [N]."""
    top = logits.max(1)
    return top + np.log(np.exp(logits - top[:, None]).sum(1))


def class_terms(class_means: np.ndarray, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The per-class parts of the Mahalanobis distance, computed once per model: P.mu_k [classes, C] and
    mu_k.P.mu_k [classes]."""
    projected = class_means @ precision  # the precision is symmetric
    return projected, (projected * class_means).sum(1)


def mahalanobis(features: np.ndarray, precision: np.ndarray, projected_means: np.ndarray,
                mean_norms: np.ndarray) -> np.ndarray:
    """Minus the squared Mahalanobis distance to the nearest class mean, [N, C] -> [N]: f.P.f - 2 (P.mu_k).f
    + mu_k.P.mu_k, two small matrix products per batch with ``class_terms`` made beforehand."""
    squared = ((features @ precision) * features).sum(1)[:, None] - 2 * features @ projected_means.T + mean_norms
    return -squared.min(1)


def digit_scores(features: np.ndarray, logits: np.ndarray, precision: np.ndarray, projected_means: np.ndarray,
                 mean_norms: np.ndarray) -> dict[str, np.ndarray]:
    """The scores the statistics rank, [N] each (higher = more like the training digits)."""
    return {"energy": energy(logits), "mahalanobis": mahalanobis(features, precision, projected_means, mean_norms)}


def quantile_levels(n: int) -> np.ndarray:
    """QUANTILES probability levels from 1/n to 1, geometric so the low tail keeps its detail."""
    return np.geomspace(1 / n, 1.0, QUANTILES)


@torch.inference_mode()
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
        f, z = features_and_logits(parts, normalize(images[start:start + BATCH].to(device)))
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
    features, logits = features.numpy(), logits.numpy()
    precision = precision.numpy()
    scores = digit_scores(features, logits, precision, *class_terms(class_means.numpy(), precision))
    levels = quantile_levels(len(features))
    return {
        "version": VERSION,
        "images": len(features),
        "class_means": class_means.float(),
        "precision": torch.from_numpy(precision).float(),
        "quantiles": {name: torch.from_numpy(np.quantile(s, levels)).float() for name, s in scores.items()},
    }


class Scorer:
    """One model's statistics as NumPy arrays, made once when the model is loaded, so scoring an image costs
    two small matrix products and one np.interp per score."""

    def __init__(self, statistics: dict):
        self.precision = statistics["precision"].double().numpy()
        self.projected_means, self.mean_norms = class_terms(statistics["class_means"].double().numpy(),
                                                            self.precision)
        self.quantiles = {name: q.double().numpy() for name, q in statistics["quantiles"].items()}
        self.levels = quantile_levels(statistics["images"])
        self.floor = 1 / (statistics["images"] + 1)

    def log_tail_probabilities(self, features: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """[N]: log P(energy) + log P(Mahalanobis), each the share of the model's training digits that scored
        at most as high (interpolated between the kept quantiles, floored at 1/(images + 1)): 0 = typical,
        very negative = unlike any digit it was trained on."""
        scores = digit_scores(features.astype(np.float64), logits.astype(np.float64), self.precision,
                              self.projected_means, self.mean_norms)
        return sum(np.log(np.maximum(np.interp(s, self.quantiles[name], self.levels, left=self.floor), self.floor))
                   for name, s in scores.items())


def calibrate_file(path: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> Path:
    """Add (or renew) the statistics in an existing checkpoint file without retraining: its weights and
    metadata are written back unchanged, beside the new key, atomically."""
    checkpoint = read_checkpoint(path)
    model = model_from_checkpoint(checkpoint, checkpoint["iteration"], str(path))
    images, labels = load_mnist("train", data_dir)
    checkpoint[KEY] = calibrate(model, images, labels)
    return save_checkpoint(checkpoint, path)
