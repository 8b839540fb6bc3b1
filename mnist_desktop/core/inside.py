"""What each conv layer of an iteration makes of one image, and the ten logits. Qt-free.

The maps of a conv layer are taken after its ReLU in the order the study wrote the layers (conv → [BatchNorm]
→ ReLU → [maxpool]), so they have the conv's own size: 28×28, then halved by each pooling before it. The
``nn.Sequential`` may run the pooling before the ReLU (trainer.iterations does, for speed) and the app's
models have their BatchNorm folded into the conv, so the maps are ReLU(the conv's output, after its
BatchNorm when there is one), whatever the module order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trainer.augment import normalize
from trainer.errors import MnistDesktopError, WriteError
from trainer.files import make_folder, write_atomic
from trainer.iterations import MNIST_SIDE, get_iteration, parse_layers

from .attribution import ATTRIBUTION_METHOD, Attribution, Scores, Target
from .colours import diverging_rgb, sequential_rgb

FRAME = MNIST_SIDE  # the models' input side
PNG_SCALE = 8  # saved maps are scaled up by this, pixel for pixel, so they can be looked at
# A perceptually ordered dark-to-bright ramp (anchors of matplotlib's "inferno"); feature maps are >= 0.


@dataclass(frozen=True)
class ConvLayer:
    """One conv layer as the iteration's spec describes it."""

    number: int  # 1-based, in forward order
    kernel: int  # 3 or 1
    channels_in: int
    channels: int
    batch_norm: bool
    pooled: bool  # a 2×2 maxpool follows its ReLU
    size: int  # side of its feature maps, in pixels

    @property
    def label(self) -> str:
        parts = [f"conv {self.number}: {self.kernel}×{self.kernel}, {self.channels_in}→{self.channels}"]
        parts += ["BatchNorm"] * self.batch_norm + ["ReLU"]
        return " · ".join(parts) + f" — {self.channels} maps {self.size}×{self.size}" + (", then maxpool" * self.pooled)


def conv_layers(iteration: int) -> list[ConvLayer]:
    """The conv layers of ``iteration``, read from its layer spec (trainer.iterations)."""
    tokens = parse_layers(get_iteration(iteration).layers)
    layers, size = [], FRAME
    for i, token in enumerate(tokens):
        if token.kind == "M":
            size //= 2
        if token.kind not in "cp":
            continue
        following = []
        for later in tokens[i + 1:]:
            if later.kind in "cpF":
                break
            following.append(later.kind)
        layers.append(ConvLayer(len(layers) + 1, token.kernel, token.channels_in, token.channels_out,
                                "B" in following, "M" in following, size))
    return layers


@dataclass
class LayerMaps:
    layer: ConvLayer
    maps: np.ndarray  # float32 [channels, size, size], >= 0

    @property
    def peak(self) -> float:
        """The top of the layer's shared colour scale (its largest activation)."""
        return float(self.maps.max(initial=0.0))


@dataclass
class Inside:
    iteration: int
    image: np.ndarray  # float32 [28, 28] in [0, 1], as the model sees it
    layers: list[LayerMaps]
    logits: np.ndarray  # float32 [10], the scores before the softmax


@torch.inference_mode()
def look_inside(model: nn.Sequential, iteration: int, image: np.ndarray) -> Inside:
    """Run ``image`` (float32 [28, 28] in [0, 1]) through ``model`` (iteration ``iteration``'s Sequential, eval
    mode, BatchNorm fused or not) and keep each conv layer's maps and the logits."""
    specs = conv_layers(iteration)
    x = normalize(torch.from_numpy(image).view(1, 1, FRAME, FRAME))
    modules = list(model)
    maps: list[np.ndarray] = []
    for i, module in enumerate(modules):
        if isinstance(module, nn.LogSoftmax):
            break
        x = module(x)
        next_is_norm = i + 1 < len(modules) and isinstance(modules[i + 1], nn.BatchNorm2d)
        if isinstance(module, nn.BatchNorm2d) or (isinstance(module, nn.Conv2d) and not next_is_norm):
            maps.append(torch.relu(x)[0].numpy().copy())  # a copy: the next ReLU may work in place
    if [m.shape for m in maps] != [(s.channels, s.size, s.size) for s in specs]:
        raise ValueError(f"the model does not follow iteration {iteration}'s layer spec")
    return Inside(iteration, image, [LayerMaps(s, m) for s, m in zip(specs, maps)], x[0].numpy().copy())


@dataclass
class Explanation:
    """All the maps of one iteration for one drawing: what its layers make of it and why this digit."""

    inside: Inside
    why: Attribution  # the chosen digit's score (the top digit unless the person picked another)
    why_not: Attribution  # that digit's score minus the strongest other digit's: "why 7 and not 1"


def explain(model: nn.Sequential, iteration: int, image: np.ndarray, digit: int | None = None) -> Explanation:
    inside = look_inside(model, iteration, image)
    ranked = [int(d) for d in np.argsort(inside.logits)[::-1]]
    digit = ranked[0] if digit is None else digit
    rival = next(d for d in ranked if d != digit)
    why, why_not = ATTRIBUTION_METHOD(Scores(model)).attribute_many(image, [Target(digit), Target(digit, rival)])
    return Explanation(inside, why, why_not)


def explain_top(model: nn.Sequential, image: np.ndarray) -> Attribution:
    """The attribution map for the digit ``model`` chooses for ``image``."""
    scores = Scores(model)
    with torch.inference_mode():
        digit = int(scores(torch.from_numpy(image).view(1, 1, FRAME, FRAME)).argmax())
    return ATTRIBUTION_METHOD(scores).attribute(image, Target(digit))


class ExplanationWriteError(MnistDesktopError):
    """The folder for the maps cannot be written."""


def tiled(maps: np.ndarray, columns: int = 8, gap: int = 1) -> np.ndarray:
    """[channels, h, w] -> one [rows * (h + gap) - gap, columns * (w + gap) - gap] image, NaN in the gaps."""
    channels, h, w = maps.shape
    columns = min(columns, channels)
    rows = -(-channels // columns)
    mosaic = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, np.float32)
    for c, single in enumerate(maps):
        top, left = c // columns * (h + gap), c % columns * (w + gap)
        mosaic[top:top + h, left:left + w] = single
    return mosaic


def save_explanation(explanation: Explanation, folder: str | os.PathLike, stem: str,
                     scale: int = PNG_SCALE) -> list[Path]:
    """Write ``<stem>-iteration<N>-<what>.png`` into ``folder``: why-<d> (the attribution map for the digit),
    why-<d>-not-<r> (the contrast with the runner-up), conv<k> (each layer's maps on its shared scale)."""
    from PIL import Image

    n = explanation.inside.iteration
    image = explanation.inside.image
    pictures = {f"why-{a.target.digit}" + (f"-not-{a.target.rival}" if a.target.rival is not None else ""):
                diverging_rgb(a.map, a.limit, image) for a in (explanation.why, explanation.why_not)}
    for layer in explanation.inside.layers:
        mosaic = tiled(layer.maps)
        rgb = sequential_rgb(np.nan_to_num(mosaic), layer.peak)
        rgb[np.isnan(mosaic)] = 255  # white gaps between the maps
        pictures[f"conv{layer.layer.number}"] = rgb
    folder = Path(folder)
    written = []
    try:
        make_folder(folder)
        for what, rgb in pictures.items():
            picture = Image.fromarray(rgb).resize((rgb.shape[1] * scale, rgb.shape[0] * scale),
                                                  Image.Resampling.NEAREST)
            written.append(write_atomic(folder / f"{stem}-iteration{n}-{what}.png",
                                        lambda f: picture.save(f, format="PNG")))
    except WriteError as e:
        raise ExplanationWriteError(f"Cannot write the maps into {folder} ({e.reason}). "
                                    "Choose a folder you can write to.") from e
    return written


def save_explanations(predictor, image: np.ndarray, folder: str | os.PathLike, stem: str) -> list[Path]:
    """``save_explanation`` for every available iteration of ``predictor`` (a core.predictor.Predictor)."""
    return [path for n in predictor.available()
            for path in save_explanation(explain(predictor.slots[n].model, n, image), folder, stem)]
