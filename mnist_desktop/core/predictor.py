"""Prediction: each iteration's weights loaded once, an image through one or all seven. Qt-free.

Each iteration uses the user's retrained run when one is active (see trainer.runs), else the shipped
weights. A file that cannot be used leaves that iteration unavailable with the reason; the rest work.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.fusion import fuse_conv_bn_eval

from trainer import calibration, digit_shapes, gate
from trainer.augment import normalize
from trainer.checkpoint import CheckpointInfo, model_from_checkpoint, read_checkpoint
from trainer.errors import MnistDesktopError
from trainer.iterations import ITERATIONS, MNIST_SIDE
from trainer.paths import shipped_weights_dir, shipped_weights_path
from trainer.runs import RunStore
from trainer.timing import latency_ms


OUTPUT_CHUNK = 500  # images per forward pass in Predictor.outputs


@dataclass
class Slot:
    """One iteration's loaded weights, or why there are none."""

    iteration: int
    path: Path
    retrained: bool
    model: torch.nn.Module | None = field(default=None, repr=False)
    error: str | None = None
    info: CheckpointInfo | None = None  # the checkpoint's metadata, once loaded
    parts: tuple | None = field(default=None, repr=False)  # the model up to its last feature maps, and the rest
    scorer: calibration.Scorer | None = field(default=None, repr=False)  # the statistics, ready to score
    statistics_error: str | None = None  # why there is no scorer: the model predicts, but not in the verdict
    latency_ms: float | None = None  # median of one 28x28 image through this model, measured here

    @property
    def available(self) -> bool:
        return self.model is not None

    @property
    def statistics(self) -> dict | None:
        """What the verdict needs from this model's training digits (trainer.calibration), if its file has it."""
        return self.info.extra.get(calibration.KEY) if self.info else None


@dataclass
class GateOutputs:
    """The gate's answers for a batch of images (trainer.gate)."""

    log_odds: np.ndarray  # [N]: how much likelier a digit than anything else
    seen: list[str | None]  # [N]: what it looks like when not a digit (a trainer.gate.CLASSES name), if clear
    threshold: float  # under it, not a digit
    likeness_weight: float  # of the seven's digit-likeness in the verdict's score


@dataclass
class Outputs:
    """One model's answers for a batch of images."""

    probabilities: np.ndarray  # [N, 10]
    log_tail: np.ndarray | None  # [N] trainer.calibration.Scorer.log_tail_probabilities; None without statistics


def fused_for_inference(model: torch.nn.Sequential) -> torch.nn.Sequential:
    """The same eval-mode function with each BatchNorm folded into the conv before it: two fewer ops a block."""
    fused = []
    for layer in model:
        if isinstance(layer, torch.nn.BatchNorm2d) and fused and isinstance(fused[-1], torch.nn.Conv2d):
            fused[-1] = fuse_conv_bn_eval(fused[-1], layer)
        else:
            fused.append(layer)
    return torch.nn.Sequential(*fused).eval()


class LinearPerMember(torch.nn.Module):
    """Each member's linear layer on its own part of the flattened features, as one batched matrix product: a
    block-diagonal linear layer would spend two thirds of its work on zeros."""

    def __init__(self, linears: list[torch.nn.Linear]):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.stack([layer.weight.t() for layer in linears]))  # [members, in, out]
        self.bias = torch.nn.Parameter(torch.stack([layer.bias for layer in linears])[:, None])  # [members, 1, out]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N, members * in] -> [N, members * out]."""
        members, inputs, _ = self.weight.shape
        per_member = x.view(len(x), members, inputs).transpose(0, 1)
        return torch.baddbmm(self.bias, per_member, self.weight).transpose(0, 1).reshape(len(x), -1)


class SideBySideGate(torch.nn.Module):
    """The gate's members (trainer.gate.Gate), BatchNorm folded, run as one network: the first conv's filters of
    all members together, the later convs grouped by member, the linear layers as one batched product
    (LinearPerMember); then each member's log-softmax, averaged, as Gate does. A third of the ops of running
    them one after another. Its weights are channels-last, and so every conv's output: torch's CPU convolutions
    and max pooling of one image run faster in that layout than in the default one (``mnist-desktop bench``'s
    gate ratio)."""

    def __init__(self, model: gate.Gate):
        super().__init__()
        members = [fused_for_inference(member) for member in model.members]
        self.count = len(members)
        self.layers = torch.nn.Sequential(*(self._side_by_side(list(layers), shared_input=position == 0)
                                            for position, layers in enumerate(zip(*members)))).eval()
        self.layers.to(memory_format=torch.channels_last)

    def _side_by_side(self, layers: list[torch.nn.Module], shared_input: bool) -> torch.nn.Module:
        """One layer doing what each member's ``layers`` do; ``shared_input``: all of them read the same image
        (the first layer), rather than each its own member's channels."""
        first = layers[0]
        if isinstance(first, torch.nn.Linear):
            return LinearPerMember(layers)
        if not isinstance(first, torch.nn.Conv2d):
            return first  # ReLU, pooling, flattening: the same for all
        groups = 1 if shared_input else self.count
        joined = torch.nn.Conv2d(first.in_channels * groups, first.out_channels * self.count, first.kernel_size,
                                 padding=first.padding, groups=groups)
        with torch.no_grad():
            joined.weight.copy_(torch.cat([layer.weight for layer in layers]))
            joined.bias.copy_(torch.cat([layer.bias for layer in layers]))
        return joined

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gate.averaged(calibration.through(self.layers, x).view(len(x), self.count, -1))


class Predictor:
    def __init__(self, store: RunStore | None = None, weights_dir: Path | None = None):
        self.store = store or RunStore()
        self.weights_dir = weights_dir or shipped_weights_dir()
        self.slots: dict[int, Slot] = {}
        self.shapes: digit_shapes.ShapeScorer | None = None  # the pixel model of the verdict, once loaded
        self.shapes_error: str | None = None  # why it could not be loaded
        self.gate: tuple[SideBySideGate, float, float] | None = None  # the gate, threshold, likeness weight
        self.gate_error: str | None = None  # why it could not be loaded: the verdict then runs without it

    def load(self, iteration: int) -> Slot:
        """(Re)load the weights ``iteration`` should use now."""
        active = self.store.active_path(iteration)
        path = active or shipped_weights_path(iteration, self.weights_dir)
        slot = Slot(iteration, path, retrained=active is not None)
        try:
            checkpoint = read_checkpoint(path)
            slot.model = fused_for_inference(model_from_checkpoint(checkpoint, iteration, str(path)))
            slot.parts = calibration.split_model(slot.model)
            slot.info = checkpoint.info
        except MnistDesktopError as e:
            slot.error = str(e)
        else:
            try:
                slot.scorer = calibration.read_scorer(slot.statistics, str(path))
            except MnistDesktopError as e:
                slot.statistics_error = str(e)
        self.slots[iteration] = slot
        return slot

    def load_all(self) -> None:
        for iteration in ITERATIONS:
            self.load(iteration)
        self.shapes, self.shapes_error = None, None
        try:
            self.shapes = digit_shapes.read_shapes(digit_shapes.shapes_path(self.weights_dir))
        except MnistDesktopError as e:
            self.shapes_error = str(e)
        self.load_gate(gate.gate_path(self.weights_dir))

    def load_gate(self, path: Path) -> None:
        """(Re)load the verdict's learned gate from ``path``; if it cannot be used, the verdict runs without it."""
        self.gate, self.gate_error = None, None
        try:
            model, threshold, likeness_weight = gate.read_gate(path)
            self.gate = SideBySideGate(model), threshold, likeness_weight
        except MnistDesktopError as e:
            self.gate_error = str(e)

    def problems(self) -> list[str]:
        """What could not be loaded, a sentence each: iterations left unavailable or out of the verdict, the
        verdict's pixel model."""
        found = [f"iteration {i}: {slot.error or slot.statistics_error}" for i, slot in sorted(self.slots.items())
                 if slot.error or slot.statistics_error]
        if self.shapes_error:
            found.append(f"the \"not a digit\" verdict's pixel model (the models judge alone): {self.shapes_error}")
        if self.gate_error:
            found.append(f"the \"not a digit\" gate (the models judge without it): {self.gate_error}")
        return found

    def available(self, among: list[int] | None = None) -> list[int]:
        """The iterations with loaded weights, all of them or those of ``among``."""
        return [i for i, slot in sorted(self.slots.items()) if slot.available and (among is None or i in among)]

    @torch.inference_mode()
    def predict(self, image: np.ndarray, iterations: list[int] | None = None) -> dict[int, np.ndarray]:
        """float32 [28, 28] in [0, 1] -> softmax probabilities [10] per available iteration."""
        x = normalize(torch.from_numpy(image).view(1, 1, MNIST_SIDE, MNIST_SIDE))
        return {i: self.slots[i].model(x).exp().squeeze(0).numpy() for i in self.available(iterations)}

    @torch.inference_mode()
    def outputs(self, images: np.ndarray, iterations: list[int] | None = None) -> dict[int, Outputs]:
        """float32 [N, 28, 28] in [0, 1] -> each available iteration's probabilities and, where its checkpoint
        has the statistics, how digit-like each image looks to it."""
        available = self.available(iterations)
        if not available:
            return {}
        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        # In chunks: the first feature maps of 10k images at once would take a gigabyte.
        chunks = [normalize(chunk) for chunk in x.split(OUTPUT_CHUNK)]
        slots = [self.slots[i] for i in available]  # once: an iteration may be reloaded meanwhile
        features, logits = [], []
        for slot in slots:
            parts = [calibration.features_and_logits(slot.parts, chunk) for chunk in chunks]
            features.append(torch.cat([f for f, _ in parts]).numpy())
            logits.append(torch.cat([z for _, z in parts]))
        # The seven's logits at once: a torch op on a [1, 10] tensor costs as much as on [7, 1, 10].
        logits = torch.stack(logits)
        energies = torch.logsumexp(logits, 2)  # the energy score, and the softmax's denominator
        probabilities = (logits - energies[..., None]).exp().numpy()
        energies = energies.numpy()
        result = {}
        for row, slot in enumerate(slots):
            scorer = slot.scorer
            log_tail = scorer.log_tail_probabilities(features[row], energies[row]) if scorer else None
            result[slot.iteration] = Outputs(probabilities[row], log_tail)
        return result

    def shape_log_tails(self, images: np.ndarray) -> np.ndarray | None:
        """float32 [N, 28, 28] -> how digit-like the pixel model finds each (trainer.digit_shapes); None without
        it."""
        return self.shapes.log_tail_probabilities(images) if self.shapes else None

    @torch.inference_mode()
    def gate_outputs(self, images: np.ndarray) -> GateOutputs | None:
        """float32 [N, 28, 28] in [0, 1] -> the gate's answers; None without the gate."""
        if self.gate is None:
            return None
        model, threshold, likeness_weight = self.gate
        x = normalize(torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)))
        logits = torch.cat([model(chunk) for chunk in x.split(OUTPUT_CHUNK)])
        return GateOutputs(gate.digit_log_odds(logits).numpy(), gate.what_it_sees(logits), threshold,
                           likeness_weight)

    def measure_latency(self, iterations: list[int] | None = None, repeats: int = 50) -> None:
        """Median time of one image through each (or each given) available model, stored in its slot."""
        x = torch.zeros(1, 1, MNIST_SIDE, MNIST_SIDE)
        for i in self.available(iterations):
            model = self.slots[i].model
            self.slots[i].latency_ms = latency_ms(lambda: model(x), repeats, warmup=1)[0]
