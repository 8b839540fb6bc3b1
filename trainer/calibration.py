"""What a model's "not a digit" verdict needs, measured on MNIST training digits and kept with its checkpoint.

Two scores say how digit-like an image looks to one model (higher = more like MNIST's digits):
- the energy of its logits, logsumexp (Liu et al. 2020): confident answers have high energy;
- the log-likelihood of its last feature maps, averaged per channel, under a Gaussian fitted to each digit
  class with that class's own covariance, for the likeliest class: the class-conditional Gaussian of
  Lee et al. 2018 with a covariance per class instead of one shared by the ten. A letter the model calls a 4
  lies where 4s do not vary; a shared covariance, dominated by the other nine, misses that (measured: see the
  README).
Each score becomes a tail probability against the model's own training digits (how many score lower), so a
retrained model carries its own scale and the seven can be averaged. The statistics for that are computed
here when a model is trained (trainer.training) or afterwards (``mnist-train calibrate``).
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
from .errors import CheckpointError, StatisticsError
from .files import check_save_path

KEY = "calibration"  # the checkpoint's key for the statistics
VERSION = 2  # 1 had one covariance shared by the ten classes
IMAGES = 20_000  # training images the statistics come from (evenly spaced through the 60k)
QUANTILES = 256  # sorted training scores kept per score, denser in the low tail that decides
COVARIANCE_SHRINK = 0.01  # each class's covariance is pulled this far towards its mean variance times I:
# 2,000 digits per class estimate 28-32 channels' covariance, and the inverse needs the help
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


class ClassGaussians:
    """Each digit class's Gaussian in a model's features, ready to score many images at once. With the
    Cholesky factor P_k = L_k L_k', (f - mu_k).P_k.(f - mu_k) = |f.L_k - mu_k.L_k|^2: all ten classes come from
    one matrix product with the factors side by side."""

    def __init__(self, class_means: np.ndarray, precisions: np.ndarray, log_determinants: np.ndarray):
        classes, channels = class_means.shape
        factors = np.linalg.cholesky(precisions)  # [classes, C, C]
        self.factors = factors.transpose(1, 0, 2).reshape(channels, classes * channels)
        self.offsets = np.einsum("kc,kcd->kd", class_means, factors).reshape(-1)
        self.log_determinants = log_determinants
        self.shape = (classes, channels)

    @classmethod
    def of(cls, statistics: dict) -> ClassGaussians:
        """From class_gaussians' tensors, or a checkpoint's statistics that hold them."""
        return cls(*(statistics[name].double().numpy() for name in ("class_means", "precisions", "log_determinants")))

    def log_likelihood(self, features: np.ndarray) -> np.ndarray:
        """[N, C] -> [N]: the log density under the likeliest class's Gaussian, without the constant term:
        max over k of -((f - mu_k).P_k.(f - mu_k) + log det Sigma_k) / 2."""
        whitened = (features @ self.factors - self.offsets).reshape(len(features), *self.shape)
        return -0.5 * ((whitened * whitened).sum(2) + self.log_determinants).min(1)


def digit_scores(features: np.ndarray, energies: np.ndarray, gaussians: ClassGaussians) -> dict[str, np.ndarray]:
    """The scores the statistics rank, [N] each (higher = more like the training digits)."""
    return {"energy": energies, "gaussian": gaussians.log_likelihood(features)}


def class_gaussians(features: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each digit class's mean [classes, C], the inverse of its shrunk covariance [classes, C, C] and that
    covariance's log-determinant [classes], from float64 features [N, C] (all ten classes unless a quick run
    used a few images)."""
    means, precisions, log_determinants = [], [], []
    for digit in labels.unique():
        own = features[labels == digit]
        covariance = torch.cov(own.T, correction=0)
        identity = torch.eye(len(covariance), dtype=covariance.dtype)
        covariance = (1 - COVARIANCE_SHRINK) * covariance + COVARIANCE_SHRINK * covariance.diagonal().mean() * identity
        means.append(own.mean(0))
        precisions.append(torch.linalg.inv(covariance))
        log_determinants.append(torch.linalg.slogdet(covariance).logabsdet)
    return {"class_means": torch.stack(means), "precisions": torch.stack(precisions),
            "log_determinants": torch.stack(log_determinants)}


def calibration_sample(tensor: torch.Tensor) -> torch.Tensor:
    """The IMAGES training images (or their labels) the statistics are measured on, evenly spaced through all."""
    return tensor[::max(1, len(tensor) // IMAGES)][:IMAGES]


def quantile_levels(n: int) -> np.ndarray:
    """QUANTILES probability levels from 1/n to 1, geometric so the low tail keeps its detail."""
    return np.geomspace(1 / n, 1.0, QUANTILES)


def log_tail(scores: np.ndarray, quantiles: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """log of the share of training digits that scored at most as high as each of ``scores``, interpolated
    between the kept ``quantiles`` at ``levels``, and no less than the lowest level (one training image)."""
    return np.log(np.interp(scores, quantiles, levels, left=levels[0]))


@torch.inference_mode()
def calibrate(model: nn.Sequential, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """The statistics for ``model`` (eval mode, any device) from uint8 training images [N, 28, 28] and labels;
    plain tensors and numbers only, so the checkpoint still loads with ``weights_only=True``."""
    images, labels = calibration_sample(images), calibration_sample(labels)
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
    gaussians = class_gaussians(features, labels)
    scores = digit_scores(features.numpy(), torch.logsumexp(logits, 1).numpy(), ClassGaussians.of(gaussians))
    levels = quantile_levels(len(features))
    return {
        "version": VERSION,
        "images": len(features),
        **{name: t.float() for name, t in gaussians.items()},
        "quantiles": {name: torch.from_numpy(np.quantile(s, levels)).float() for name, s in scores.items()},
    }


class Scorer:
    """One model's statistics as float64 NumPy arrays, made once when the model is loaded, so scoring an image
    costs a few small matrix products and one np.interp per score."""

    def __init__(self, statistics: dict):
        self.gaussians = ClassGaussians.of(statistics)
        self.quantiles = {name: q.double().numpy() for name, q in statistics["quantiles"].items()}
        self.levels = quantile_levels(statistics["images"])

    def log_tail_probabilities(self, features: np.ndarray, energies: np.ndarray) -> np.ndarray:
        """[N]: log P(energy) + log P(Gaussian), each the share of the model's training digits that scored
        at most as high (log_tail): 0 = typical, very negative = unlike any digit it was trained on."""
        scores = digit_scores(features.astype(np.float64), energies.astype(np.float64), self.gaussians)
        return sum(log_tail(s, self.quantiles[name], self.levels) for name, s in scores.items())


def read_scorer(statistics: dict | None, source: str) -> Scorer:
    """A checkpoint's statistics ready to score, or CheckpointError saying why they cannot be used and what
    to do (the model itself still predicts)."""
    renew = (f"Run mnist-train calibrate {source} to renew them; until then this model is left out of the "
             "\"not a digit\" verdict.")
    if not statistics:
        raise CheckpointError(f"{source} has no \"not a digit\" statistics. {renew}")
    if statistics.get("version") != VERSION:
        raise CheckpointError(f"{source} has \"not a digit\" statistics of an older version. {renew}")
    try:
        scorer = Scorer(statistics)
        classes, channels = scorer.gaussians.shape
        sound = (scorer.gaussians.log_determinants.shape == (classes,)
                 and all(q.shape == (QUANTILES,) and np.isfinite(q).all() and (np.diff(q) >= 0).all()
                         for q in scorer.quantiles.values())
                 and scorer.quantiles.keys() == {"energy", "gaussian"}
                 and np.isfinite(scorer.gaussians.factors).all() and np.isfinite(scorer.gaussians.offsets).all())
    except (KeyError, AttributeError, TypeError, ValueError, np.linalg.LinAlgError):
        sound = False  # a key missing, a wrong shape, a covariance that is not positive definite...
    if not sound:
        raise CheckpointError(f"{source} has damaged \"not a digit\" statistics. {renew}")
    return scorer


def statistics_of(model: nn.Sequential, images: torch.Tensor, labels: torch.Tensor, source: str) -> dict:
    """``calibrate``, or StatisticsError (one sentence naming ``source``) when the maths has nothing to work
    on: a class with fewer digits than features, or a network that answers every image alike."""
    try:
        statistics = calibrate(model, images, labels)
    except (torch.linalg.LinAlgError, np.linalg.LinAlgError) as e:
        raise StatisticsError(
            f"The \"not a digit\" statistics of {source} cannot be computed from {len(images):,} training images: "
            "the covariance of their features is singular (too few images per digit, or a network that sees "
            "every image alike)") from e
    return statistics


def calibrate_file(path: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> Path:
    """Add (or renew) the statistics in an existing checkpoint file without retraining: its weights and
    metadata are written back unchanged, beside the new key, atomically."""
    checkpoint = read_checkpoint(path)
    check_save_path(path)  # before the work, not after
    images, labels = load_mnist("train", data_dir)
    statistics = statistics_of(model_from_checkpoint(checkpoint, source=str(path)), images, labels, str(path))
    return save_checkpoint(checkpoint.with_extra(**{KEY: statistics}).as_dict(), path)
