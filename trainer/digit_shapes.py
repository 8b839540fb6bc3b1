"""MNIST's training digits as a model of the pixels, one opinion in the "not a digit" verdict beside the seven.

One probabilistic PCA per digit class (Tipping & Bishop 1999): a Gaussian in the 784 pixels with COMPONENTS
directions of its own variance and one variance shared by all the other directions. An image's score is its
log density under the likeliest class. Where the CNNs ask whether the features they learned are there, this
asks whether the ink is where some digit's ink goes: a letter the models call a 4 has strokes no 4 has.
Like a model's scores (calibration), the score counts as the share of training digits that score lower.

It depends on the data only, not on any model, so it is one file beside the weights (``mnist-train shapes``
writes it: weights/digit_shapes.pt).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .calibration import QUANTILES, calibration_sample, log_tail, quantile_levels
from .checkpoint import load_torch_file, save_checkpoint
from .data import load_mnist
from .errors import CheckpointError
from .iterations import MNIST_SIDE
from .paths import shipped_weights_dir

FILE = "digit_shapes.pt"
FORMAT = "mnist-desktop-digit-shapes"
COMPONENTS = 20  # per class: 10 and 30 rejected fewer of the development set of non-digits at the same 1%
PIXELS = MNIST_SIDE * MNIST_SIDE


def shapes_path(weights_dir: Path | None = None) -> Path:
    return (weights_dir or shipped_weights_dir()) / FILE


def fit(images: torch.Tensor, labels: torch.Tensor) -> dict:
    """The model from uint8 training images [N, 28, 28] and their labels, with the quantiles of its scores on
    the calibration_sample of them, as a model's statistics are; plain tensors, saved with torch.save."""
    pixels = images.reshape(len(images), PIXELS).double() / 255
    means, bases, variances, noise = [], [], [], []
    for digit in range(10):
        own = pixels[labels == digit]
        mean = own.mean(0)
        _, singular, directions = torch.linalg.svd(own - mean, full_matrices=False)
        spread = singular ** 2 / len(own)  # the variance along each direction, largest first
        means.append(mean)
        bases.append(directions[:COMPONENTS])
        variances.append(spread[:COMPONENTS])
        noise.append(spread[COMPONENTS:].sum() / (PIXELS - COMPONENTS))  # the rest, spread over the other directions
    model = {"format": FORMAT, "means": torch.stack(means), "bases": torch.stack(bases),
             "variances": torch.stack(variances), "noise": torch.stack(noise)}
    sample = calibration_sample(images)
    scores = ShapeScorer(model).log_likelihood(sample.numpy())
    model["images"] = len(sample)
    model["quantiles"] = torch.from_numpy(np.quantile(scores, quantile_levels(len(sample))))
    return {k: v.float() if isinstance(v, torch.Tensor) else v for k, v in model.items()}


class ShapeScorer:
    """The model as float64 NumPy arrays, with what does not depend on the image computed once."""

    def __init__(self, model: dict):
        self.means = model["means"].double().numpy()  # [10, 784]
        bases = model["bases"].double().numpy()  # [10, COMPONENTS, 784]
        self.stacked_bases = bases.reshape(-1, PIXELS)  # every class's directions in one matrix product
        self.projected_means = np.einsum("kcp,kp->kc", bases, self.means)
        self.mean_norms = (self.means ** 2).sum(1)
        self.variances = model["variances"].double().numpy()
        self.noise = model["noise"].double().numpy()
        self.log_volume = np.log(self.variances).sum(1) + (PIXELS - COMPONENTS) * np.log(self.noise)
        quantiles = model.get("quantiles")  # None while fit is still measuring them
        self.quantiles = None if quantiles is None else quantiles.double().numpy()
        self.levels = None if quantiles is None else quantile_levels(model["images"])

    def log_likelihood(self, images: np.ndarray) -> np.ndarray:
        """Images [N, 28, 28] (uint8, or float in [0, 1]) -> [N]: the log density under the likeliest class,
        without the constant term. For x - mu: its part along the class's directions is scaled by their
        variances, the rest by the shared one; all ten classes in two matrix products."""
        x = images.reshape(len(images), PIXELS).astype(np.float64)
        if images.dtype == np.uint8:
            x /= 255
        along = (x @ self.stacked_bases.T).reshape(len(x), 10, COMPONENTS) - self.projected_means
        squared = (x ** 2).sum(1)[:, None] - 2 * x @ self.means.T + self.mean_norms  # |x - mu_k|^2
        rest = squared - (along ** 2).sum(2)
        return -0.5 * ((along ** 2 / self.variances).sum(2) + rest / self.noise + self.log_volume).min(1)

    def log_tail_probabilities(self, images: np.ndarray) -> np.ndarray:
        """[N]: log of the share of the training digits whose score was at most this image's."""
        return log_tail(self.log_likelihood(images), self.quantiles, self.levels)


SHAPES = {"means": (10, PIXELS), "bases": (10, COMPONENTS, PIXELS), "variances": (10, COMPONENTS),
          "noise": (10,), "quantiles": (QUANTILES,)}  # the arrays of the file, and their shapes


def read_shapes(path: str | os.PathLike | None = None) -> ShapeScorer:
    """The shipped model ready to score, or CheckpointError saying why the file cannot be used."""
    path = Path(path) if path else shapes_path()
    restore = "Run mnist-train shapes to write it again."
    model = load_torch_file(path, restore)
    if not isinstance(model, dict) or model.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not the digit shapes model of mnist-desktop. {restore}")
    arrays = [model.get(name) for name in SHAPES]
    if not (all(isinstance(a, torch.Tensor) and a.shape == shape for a, shape in zip(arrays, SHAPES.values()))
            and all(torch.isfinite(a).all() for a in arrays)
            and (model["variances"] > 0).all() and (model["noise"] > 0).all()
            and (model["quantiles"].diff() >= 0).all()
            and isinstance(model.get("images"), int) and model["images"] >= 1):
        raise CheckpointError(f"{path} is damaged: an array is missing, has the wrong shape or impossible values. "
                              f"{restore}")
    return ShapeScorer(model)


def write_shapes(path: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None) -> Path:
    """Fit the model to MNIST's 60k training digits and write it, atomically."""
    images, labels = load_mnist("train", data_dir)
    return save_checkpoint(fit(images, labels), Path(path) if path else shapes_path())
