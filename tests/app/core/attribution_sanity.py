"""The sanity checks of Adebayo et al. (2018) for the attribution methods, measured. A developer tool (it trains
models of its own), kept out of the shipped packages.

A method that explains the model must give different maps when the model is different: (1) the model's
weights randomised, (2) the model trained on shuffled labels. Each check is the mean Spearman rank
correlation between the maps of the real and the changed model over the same test digits (of the maps'
magnitudes, as in the paper, on the digit's ink): near 1 means the method ignores the model and mostly draws
the input.

    python -m tests.app.core.attribution_sanity      # prints the table the README quotes
"""
from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainer.augment import normalize
from trainer.checkpoint import load_model
from trainer.data import load_mnist
from trainer.iterations import build_model

from mnist_desktop.core.attribution import GradCam, GradientTimesInput, IntegratedGradients, Scores, Target, rank_correlation

METHODS = (IntegratedGradients, GradientTimesInput, GradCam)
BRIEF_TRAINING = dict(iteration=1, images=2000, epochs=1, lr=0.002, batch_size=64)


def randomised(model: nn.Sequential, seed: int = 0) -> nn.Sequential:
    """A copy of ``model`` with every layer's weights re-initialised (the "cascading" randomisation, complete)."""
    torch.manual_seed(seed)
    copied = copy.deepcopy(model)
    for module in copied:
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return copied.eval()


def train_briefly(images: torch.Tensor, labels: torch.Tensor, seed: int, iteration: int = 1, epochs: int = 1,
                  lr: float = 0.002, batch_size: int = 64) -> nn.Sequential:
    """``iteration``'s network trained on exactly these (possibly shuffled) labels, without augmentation: a
    few seconds for the label-randomisation check (trainer.training reads its labels from MNIST itself)."""
    torch.manual_seed(seed)
    model = build_model(iteration)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x = normalize(images)
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), batch_size):
            index = order[start:start + batch_size]
            loss = F.nll_loss(model(x[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def attribution_maps(method: type, model: nn.Sequential, images: np.ndarray, digits: list[int]) -> list[np.ndarray]:
    explainer = method(Scores(model))
    return [explainer.attribute(image, Target(digit)).map for image, digit in zip(images, digits)]


def mean_rank_correlation(method: type, first: nn.Sequential, second: nn.Sequential, images: np.ndarray,
                          digits: list[int]) -> float:
    """Mean Spearman correlation of the maps' magnitudes from two models, for the same images and digits, over
    each image's ink. Off the ink, input-times-gradient methods are zero whatever the model, and those ties
    alone would make any two of their maps correlate at about 0.99."""
    pairs = zip(images, attribution_maps(method, first, images, digits), attribution_maps(method, second, images, digits))
    return float(np.mean([rank_correlation(np.abs(a[ink > 0]), np.abs(b[ink > 0])) for ink, a, b in pairs]))


@dataclass
class SanityRow:
    method: str
    weights_randomised: float  # shipped model vs its randomised copy
    labels_shuffled: float  # briefly trained on true labels vs on shuffled labels
    retrained: float  # briefly trained on true labels, two seeds: how alike two honest models' maps are
    completeness_gap: float  # mean |sum(map) - (score - blank canvas's score)| / |score - blank's|, shipped model


def mean_completeness_gap(method: type, model: nn.Sequential, images: np.ndarray, digits: list[int]) -> float:
    scores = Scores(model)
    with torch.no_grad():
        logits = scores(torch.from_numpy(np.concatenate([images, np.zeros_like(images[:1])])).unsqueeze(1))
    gaps = [logits[i, d] - logits[-1, d] for i, d in enumerate(digits)]
    sums = [m.sum() for m in attribution_maps(method, model, images, digits)]
    return float(np.mean([abs(s - g.item()) / abs(g.item()) for s, g in zip(sums, gaps)]))


def sanity_checks(iteration: int = 5, digits: int = 50, data_dir: str | None = None) -> list[SanityRow]:
    train_images, train_labels = load_mnist("train", data_dir)
    test_images, test_labels = load_mnist("test", data_dir)
    images = test_images[:digits].numpy().astype(np.float32) / 255
    truth = [int(d) for d in test_labels[:digits]]
    shipped = load_model(iteration)
    n = BRIEF_TRAINING["images"]
    subset, labels = train_images[:n], train_labels[:n]
    shuffled = labels[torch.randperm(n, generator=torch.Generator().manual_seed(0))]
    honest = train_briefly(subset, labels, seed=0)
    honest_again = train_briefly(subset, labels, seed=1)
    fooled = train_briefly(subset, shuffled, seed=0)
    return [SanityRow(method.name,
                      mean_rank_correlation(method, shipped, randomised(shipped), images, truth),
                      mean_rank_correlation(method, honest, fooled, images, truth),
                      mean_rank_correlation(method, honest, honest_again, images, truth),
                      mean_completeness_gap(method, shipped, images, truth))
            for method in METHODS]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iteration", type=int, default=5, help="shipped model for the weights check")
    parser.add_argument("--digits", type=int, default=50, help="test digits the correlations average over")
    args = parser.parse_args(argv)
    print(f"Mean Spearman rank correlation of |map| on the ink, {args.digits} test digits (lower = more sensitive to the model)")
    print(f"{'method':<22} {'weights randomised':>19} {'labels shuffled':>16} {'two honest seeds':>17} "
          f"{'completeness gap':>17}")
    for row in sanity_checks(args.iteration, args.digits):
        print(f"{row.method:<22} {row.weights_randomised:>19.3f} {row.labels_shuffled:>16.3f} {row.retrained:>17.3f} "
              f"{row.completeness_gap:>16.1%}")


if __name__ == "__main__":
    main()
