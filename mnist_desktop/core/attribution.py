"""Which pixels raised or lowered a digit's score: attribution maps over the 28×28 input. Qt-free.

In the shape of Captum: each method is a small class built from a model with one ``attribute()``. The model
is wrapped as ``Scores``: images in [0, 1] in, the ten logits out (the study's normalisation inside, the
final log-softmax left out), so a map is in logit units per pixel. A target is one digit's logit, or the
difference "digit and not rival" for the contrast "why 7 and not 1".

The app uses integrated gradients (``ATTRIBUTION_METHOD``): ``python -m tests.app.core.attribution_sanity``
measures the sanity checks that chose it (README, "See inside").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from trainer.augment import normalize
from trainer.iterations import MNIST_SIDE

COMPLETENESS_TOLERANCE = 0.01  # integrated gradients refines its path until its maps sum to within 1% of the score gap


class Scores(nn.Module):
    """A classifier as logits of images in [0, 1]: [N, 1, 28, 28] -> [N, 10]."""

    def __init__(self, model: nn.Sequential):
        super().__init__()
        self.layers = nn.Sequential(*(m for m in model if not isinstance(m, nn.LogSoftmax)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(normalize(images))


@dataclass(frozen=True)
class Target:
    """The score a map explains: digit's logit, or digit's logit minus rival's."""

    digit: int
    rival: int | None = None

    def score(self, logits: torch.Tensor) -> torch.Tensor:
        return logits[:, self.digit] - (logits[:, self.rival] if self.rival is not None else 0)

    def weights(self, n: int) -> torch.Tensor:
        """d score / d logits, for a batch of n."""
        w = torch.zeros(n, 10)
        w[:, self.digit] = 1.0
        if self.rival is not None:
            w[:, self.rival] -= 1.0
        return w

    def __str__(self) -> str:
        return f"{self.digit}" if self.rival is None else f"{self.digit} and not {self.rival}"


@dataclass
class Attribution:
    method: str
    target: Target
    map: np.ndarray  # float32 [28, 28]: positive raised the target's score, negative lowered it
    score: float  # the target's score for the image
    baseline_score: float | None = None  # the score of the blank canvas, for methods with completeness
    delta: float | None = None  # completeness gap: sum(map) - (score - baseline_score)

    @property
    def limit(self) -> float:
        """The symmetric colour-scale limit: the largest magnitude in the map."""
        return float(np.abs(self.map).max(initial=0.0))


def _with_autograd(method):
    """Gradients on, even when the caller runs in inference mode (as the benchmarks' timer does)."""
    return torch.inference_mode(False)(torch.enable_grad()(method))


def _as_batch(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).view(1, 1, MNIST_SIDE, MNIST_SIDE)


class IntegratedGradients:
    """Sundararajan et al. 2017: (x - baseline) times the score's gradient averaged along the straight path from
    the baseline (a blank canvas) to x. The maps sum to score(x) - score(baseline) ("completeness"); ``delta``
    is the gap left by the numerical integral.

    The networks are piecewise linear, so the gradient jumps along the path wherever a ReLU or a maxpool
    switches, and a fixed grid needs ~256 points to close the gap to 1%. Instead: the trapezoid rule on
    ``START_POINTS`` + 1 points, then, while the gap is over ``tolerance`` of the score difference, one more
    point in each of the ``ADDED_POINTS`` intervals whose own gap is largest (the score is known at every
    point, so each interval's error is). Typically 33-65 points.
    """

    name = "integrated gradients"
    START_POINTS = 32
    ADDED_POINTS = 16
    MAX_POINTS = 257

    def __init__(self, model: nn.Module, tolerance: float = COMPLETENESS_TOLERANCE):
        self.model = model
        self.tolerance = tolerance

    @_with_autograd
    def attribute_many(self, image: np.ndarray, targets: list[Target],
                       baseline: np.ndarray | None = None) -> list[Attribution]:
        """Maps for several targets from the same path points (one forward, one backward per target)."""
        x = _as_batch(image)
        x0 = torch.zeros_like(x) if baseline is None else _as_batch(baseline)
        step = (x - x0)[0, 0]

        def along_path(alphas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """Scores [targets, points] and gradients [targets, points, 28, 28] at x0 + alpha (x - x0)."""
            path = (x0 + alphas.view(-1, 1, 1, 1) * (x - x0)).requires_grad_(True)
            logits = self.model(path)
            grads = [torch.autograd.grad(logits, path, t.weights(len(alphas)), retain_graph=True)[0][:, 0]
                     for t in targets]
            return torch.stack([t.score(logits).detach() for t in targets]), torch.stack(grads)

        alphas = torch.linspace(0.0, 1.0, self.START_POINTS + 1)
        scores, grads = along_path(alphas)
        while True:
            order = torch.argsort(alphas)
            alphas, scores, grads = alphas[order], scores[:, order], grads[:, order]
            widths = alphas[1:] - alphas[:-1]
            slopes = (grads * step).sum((2, 3))  # d score / d alpha at each point
            gaps = (scores[:, 1:] - scores[:, :-1]) - widths * (slopes[:, 1:] + slopes[:, :-1]) / 2
            span = (scores[:, -1] - scores[:, 0]).abs().clamp(min=1e-6)
            if (gaps.sum(1).abs() <= self.tolerance * span).all() or len(alphas) >= self.MAX_POINTS:
                break
            worst = torch.topk((gaps.abs() / span[:, None]).amax(0), min(self.ADDED_POINTS, len(widths))).indices
            new = (alphas[worst] + alphas[worst + 1]) / 2
            new_scores, new_grads = along_path(new)
            alphas = torch.cat([alphas, new])
            scores, grads = torch.cat([scores, new_scores], 1), torch.cat([grads, new_grads], 1)
        weights = torch.zeros_like(alphas)
        weights[1:] += widths / 2
        weights[:-1] += widths / 2
        maps = step * (grads * weights[None, :, None, None]).sum(1)
        deltas = maps.sum((1, 2)) - (scores[:, -1] - scores[:, 0])
        return [Attribution(self.name, t, maps[i].numpy(), scores[i, -1].item(), scores[i, 0].item(), deltas[i].item())
                for i, t in enumerate(targets)]

    def attribute(self, image: np.ndarray, target: Target, baseline: np.ndarray | None = None) -> Attribution:
        return self.attribute_many(image, [target], baseline)[0]


class GradientTimesInput:
    """Shrikumar et al. 2016: the input times the score's gradient at the input; one backward pass."""

    name = "gradient × input"

    def __init__(self, model: nn.Module):
        self.model = model

    @_with_autograd
    def attribute(self, image: np.ndarray, target: Target) -> Attribution:
        x = _as_batch(image).requires_grad_(True)
        score = target.score(self.model(x))
        (grads,) = torch.autograd.grad(score.sum(), x)
        return Attribution(self.name, target, (x * grads)[0, 0].detach().numpy(), score.item())


class GradCam:
    """Selvaraju et al. 2017 at the last conv layer: its maps (after their ReLU) weighted by the score's mean
    gradient over each map, summed, and scaled up to 28×28. Kept signed (no final ReLU), so it can say both
    "raised" and "lowered"."""

    name = "Grad-CAM"

    def __init__(self, model: Scores):
        layers = list(model.layers)
        last_conv = max(i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d))
        after_relu = next(i for i in range(last_conv, len(layers)) if isinstance(layers[i], nn.ReLU)) + 1
        self.head, self.tail = nn.Sequential(*layers[:after_relu]), nn.Sequential(*layers[after_relu:])

    @_with_autograd
    def attribute(self, image: np.ndarray, target: Target) -> Attribution:
        activations = self.head(normalize(_as_batch(image))).detach().requires_grad_(True)
        score = target.score(self.tail(activations))
        (grads,) = torch.autograd.grad(score.sum(), activations)
        cam = (grads.mean((2, 3), keepdim=True) * activations).sum(1, keepdim=True)
        cam = F.interpolate(cam, size=(MNIST_SIDE, MNIST_SIDE), mode="bilinear", align_corners=False)
        return Attribution(self.name, target, cam[0, 0].detach().numpy(), score.item())


ATTRIBUTION_METHOD = IntegratedGradients  # chosen on the sanity checks; see the module docstring


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps' values (ties get their average rank)."""

    def ranks(values: np.ndarray) -> np.ndarray:
        flat = values.ravel()
        order = np.argsort(flat, kind="stable")
        sorted_values = flat[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_values)) + 1]
        ends = np.r_[starts[1:], len(flat)]
        average = np.repeat((starts + ends - 1) / 2.0, ends - starts)
        result = np.empty(len(flat))
        result[order] = average
        return result

    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])
