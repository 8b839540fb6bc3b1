"""The learned "is it a digit" gate: a small CNN beside the seven that tells digits from what people draw
instead (letters, symbols, shapes, several digits), trained with outlier exposure on tensors of images.

The images come from mnist_desktop.core.corpus: digits and non-digits drawn the same way (strokes rendered
by core/render), so what the gate learns is shapes, not a renderer; beside them, as digits, some of MNIST's
scans (mnist_desktop.gate_cli), fewer than the rendered digits, so a render is still no sign of a non-digit. It
tells each digit apart, and the other kinds of drawing (OUTPUTS); its score is the log-odds of any digit against
anything else. The verdict adds the seven's digit-likeness to it (mnist_desktop.core.verdict), and an image
scoring under the threshold is not a digit. The threshold sits just under the score of digits the gate never
trained on at the share of them it may reject (``threshold_for``). Whatever else it says (the likeliest other
kind) names what it sees.

Digits and non-digits are augmented alike while training (the pen's width, its ink's profile, a small turn and
shift), so the raster differences between the renderer and MNIST's scans teach it nothing about being a digit.
"""
from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .augment import normalize, sampling_grid
from .calibration import through
from .checkpoint import load_torch_file, save_checkpoint
from .errors import CheckpointError
from .paths import shipped_weights_dir

log = logging.getLogger(__name__)

CLASSES = ("digit", "letter", "symbol", "shape", "digits")  # the kinds of drawing; "digits": several
# What the gate tells apart: each digit on its own, then the other kinds. Made to tell a 7 from a 1 too, it learns
# what makes each digit one: more of the held-out letters rejected than with one "digit" output (README).
DIGIT_OUTPUTS = 10
OUTPUTS = (*(str(digit) for digit in range(DIGIT_OUTPUTS)), *CLASSES[1:])
FILE = "gate.pt"
FORMAT = "mnist-desktop-gate"
RESTORE = "Run mnist-desktop gate to write it again."


def gate_path(weights_dir: Path | None = None) -> Path:
    return (weights_dir or shipped_weights_dir()) / FILE


class Gate(nn.Module):
    """Members of one architecture trained alike from different seeds: their log-probabilities averaged (the
    log of the probabilities' geometric mean), returned as the logits of the outputs. Members that disagree
    about a drawing none of them learned pull its "digit" down (the README's gate section has what three
    members changed)."""

    def __init__(self, members: list[nn.Sequential]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return averaged(torch.stack([through(member, x) for member in self.members], 1))


def averaged(member_logits: torch.Tensor) -> torch.Tensor:
    """[N, members, outputs] -> [N, outputs]: the members' log-probabilities averaged (Gate)."""
    return member_logits.log_softmax(2).mean(1)


def build_gate(width: int = 16, members: int = 1) -> Gate:
    return Gate([build_member(width) for _ in range(members)])


def build_member(width: int) -> nn.Sequential:
    """Three 3x3 conv blocks with BatchNorm (the last without pooling), flattened, one linear layer."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.BatchNorm2d(4 * width), nn.ReLU(),
        nn.Flatten(), nn.Linear(4 * width * 49, len(OUTPUTS)))


def digit_log_odds(logits: torch.Tensor) -> torch.Tensor:
    """[N, outputs] -> [N]: log P(any digit) - log P(not a digit), within about +-88 (float32's range: past it
    the gate is sure either way). Probabilities summed rather than two logsumexps: half the time on one image,
    and the gate runs on every stroke."""
    probabilities = (logits - logits.amax(1, keepdim=True)).exp()  # unnormalised: only their ratio counts
    tiny = torch.finfo(logits.dtype).tiny
    return (probabilities[:, :DIGIT_OUTPUTS].sum(1).clamp_min(tiny).log()
            - probabilities[:, DIGIT_OUTPUTS:].sum(1).clamp_min(tiny).log())


def targets(labels: torch.Tensor, kinds: torch.Tensor) -> torch.Tensor:
    """The gate's output index of each drawing: its digit (labels >= 0), else its kind (index in CLASSES)."""
    return torch.where(labels >= 0, labels.long(), kinds.long() - 1 + DIGIT_OUTPUTS)


CLEAR = 0.7  # the share of "not a digit" one kind must hold for the gate to say what it sees


def what_it_sees(logits: torch.Tensor) -> list[str | None]:
    """[N, outputs] -> per image the kind of non-digit that holds at least CLEAR of their probability, or None
    when no one does."""
    others = logits[:, DIGIT_OUTPUTS:].softmax(1)
    share, k = others.max(1)
    return [OUTPUTS[DIGIT_OUTPUTS + c] if s >= CLEAR else None for c, s in zip(k.tolist(), share.tolist())]


def threshold_for(digit_scores: torch.Tensor, rate: float) -> float:
    """The threshold that rejects (score < threshold) at most ``rate`` of these digits: below the score with
    floor(rate * N) scores under it, halfway to the next lower score or by 1 if that is further (or -inf: a
    digit the input checks reject), so that this digit scored a hair lower by another path is not rejected."""
    ordered = digit_scores.double().sort().values
    boundary = ordered[min(int(math.floor(rate * len(ordered))), len(ordered) - 1)]
    lower = ordered[ordered < boundary]  # strictly: digits tied with the boundary score pass with it
    return float(max((boundary + lower[-1]) / 2 if len(lower) else -math.inf, boundary - 1.0))


@dataclass(frozen=True)
class GateConfig:
    epochs: int = 18
    batch_size: int = 256
    lr: float = 4e-3  # the peak of the one-cycle schedule
    width: int = 16  # channels of the first conv (then twice, four times): 67,438 parameters a member
    members: int = 3  # trained from the seeds seed, seed + 1, ...
    seed: int = 0
    threads: int = 2


def augmented(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """uint8 [N, 28, 28] -> normalised float [N, 1, 28, 28]: each image's pen made wider or narrower (a blend
    towards its grey dilation or erosion), its ink's profile bent (a power), a turn of up to 10 degrees, a
    zoom of 0.9-1.1 and a shift of up to 1.5 pixels."""
    n = len(images)
    x = images.unsqueeze(1).float() / 255.0
    u = lambda: torch.rand(n, 1, 1, 1, generator=generator)
    wider = F.max_pool2d(x, 3, 1, 1)
    narrower = -F.max_pool2d(-x, 3, 1, 1)
    pen = u() * 2 - 1  # > 0 wider, < 0 narrower (less often and less far: MNIST's pens are mostly wider)
    x = torch.where(pen > 0, x + pen * 0.8 * (wider - x), x + pen * 0.4 * (x - narrower))
    x = x.clamp(0, 1) ** torch.exp((u() * 2 - 1) * 0.4)
    angles = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(10)
    zoom = 1 + (torch.rand(n, generator=generator) * 2 - 1) * 0.1
    cos, sin = torch.cos(angles) / zoom, torch.sin(angles) / zoom
    grid = sampling_grid(torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1))
    grid = grid + (torch.rand(n, 1, 1, 2, generator=generator) * 2 - 1) * (1.5 * 2 / 28)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return normalize(x)


def train_gate(images: torch.Tensor, outputs: torch.Tensor, config: GateConfig = GateConfig(),
               progress: Callable[[int, int, float], None] = lambda epoch, epochs, loss: None) -> Gate:
    """The gate trained on uint8 images [N, 28, 28] and their output indices [N] (``targets``); weighted so
    that digits and non-digits count alike. ``progress(epoch, epochs, mean loss)`` after each epoch of each
    member, counted over all of them."""
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        epochs = config.members * config.epochs
        return Gate([train_member(images, outputs, config, config.seed + k,
                                  lambda epoch, loss, k=k: progress(k * config.epochs + epoch, epochs, loss))
                     for k in range(config.members)]).eval()
    finally:
        torch.set_num_threads(threads)


def train_member(images: torch.Tensor, outputs: torch.Tensor, config: GateConfig, seed: int,
                 progress: Callable[[int, float], None]) -> nn.Sequential:
    """One member of the gate, from ``seed``; ``progress(epoch, mean loss)``."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = build_member(config.width)
    counts = torch.bincount(outputs, minlength=len(OUTPUTS)).float()
    is_digit = torch.arange(len(OUTPUTS)) < DIGIT_OUTPUTS
    weights = torch.where(is_digit, 1 / counts[is_digit].sum().clamp(min=1), 1 / counts[~is_digit].sum().clamp(min=1))
    steps = config.epochs * math.ceil(len(images) / config.batch_size)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=steps)
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total, start = 0.0, time.perf_counter()
        for batch in order.split(config.batch_size):
            loss = F.cross_entropy(model(augmented(images[batch], generator)), outputs[batch].long(),
                                   weight=weights)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(batch)
        log.info("gate member from seed %d, epoch %d/%d: loss %.4f, %.0f s", seed, epoch, config.epochs,
                 total / len(images), time.perf_counter() - start)
        progress(epoch, total / len(images))
    return model.eval()


@torch.inference_mode()
def gate_logits(model: nn.Module, images: torch.Tensor, chunk: int = 2000) -> torch.Tensor:
    """uint8 or [0, 1] float images [N, 28, 28] -> logits [N, outputs], in chunks."""
    return torch.cat([model(normalize(part)) for part in images.split(chunk)]) if len(images) else \
        torch.zeros(0, len(OUTPUTS))


def gate_file(model: Gate, threshold: float, width: int, likeness_weight: float) -> dict:
    """What write_gate writes: the weights, the verdict's threshold and its weight of the digit-likeness
    (mnist_desktop.core.verdict.combined)."""
    return {"format": FORMAT, "outputs": list(OUTPUTS), "width": width, "members": len(model.members),
            "threshold": threshold, "likeness_weight": likeness_weight,
            "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}


def write_gate(gate: dict, path: str | os.PathLike | None = None) -> Path:
    return save_checkpoint(gate, Path(path) if path else gate_path())


def read_gate(path: str | os.PathLike | None = None) -> tuple[Gate, float, float]:
    """The shipped gate in eval mode, its threshold and its weight of the digit-likeness, or CheckpointError
    saying why the file cannot be used."""
    path = Path(path) if path else gate_path()
    gate = load_torch_file(path, RESTORE)
    damaged = CheckpointError(f"{path} is damaged or not the gate of mnist-desktop. {RESTORE}")
    if not isinstance(gate, dict) or gate.get("format") != FORMAT or gate.get("outputs") != list(OUTPUTS):
        raise damaged
    threshold, width, weights = gate.get("threshold"), gate.get("width"), gate.get("state_dict")
    likeness_weight, members = gate.get("likeness_weight"), gate.get("members")
    if not (isinstance(threshold, float) and math.isfinite(threshold) and isinstance(width, int)
            and isinstance(likeness_weight, float) and 0 <= likeness_weight <= 100
            and isinstance(members, int) and 1 <= members <= 16
            and 1 <= width <= 256 and isinstance(weights, dict)
            and all(isinstance(v, torch.Tensor) and (not v.is_floating_point() or torch.isfinite(v).all())
                    for v in weights.values())):
        raise damaged
    model = build_gate(width, members)
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError) as e:
        raise damaged from e
    return model.eval(), threshold, likeness_weight
