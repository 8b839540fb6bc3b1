"""The seven iterations of the study, defined once.

Everything that differs between iterations lives in ``ITERATIONS``: the layers (a compact spec string,
the same notation as DESIGN.md), the training recipe, what the iteration tried, and the figure the study
published. The trainer, the CLI, the GUI cards and the README table all read it from here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace


MNIST_SIDE = 28  # pixels: every image the models see is MNIST_SIDE x MNIST_SIDE
MNIST_TRAIN_IMAGES = 60_000  # and 10,000 test images
# Normalisation constants of the study (mean and std of the MNIST training pixels).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

# Where a run may train: "auto" picks CUDA when present. Here (torch-free) so the GUI can list them early.
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_DEVICE = DEVICES[0]


@dataclass(frozen=True)
class Recipe:
    """How the study trained an iteration."""

    epochs: int
    lr: float
    batch_size: int = 64
    lr_step_epochs: int = 15  # StepLR step size, stepped once per epoch
    lr_gamma: float = 0.1
    augment: bool = True  # rotation +-15 deg, p=0.1 CenterCrop(22) zoom

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Iteration:
    number: int
    layers: str  # c=3x3 conv, p=1x1 conv, B=BatchNorm, M=maxpool 2x2, D<p>=dropout, F<n>=Linear n->10
    params: int  # the study's parameter count; build_model() is tested against it
    recipe: Recipe
    summary: str  # what the iteration tried
    study_accuracy: float | None  # the study's published figure: eval accuracy on the 60k *training* images


ITERATIONS: dict[int, Iteration] = {
    it.number: it
    for it in (
        Iteration(1, "c1-16 M c16-32 M p32-16 c16-32 p32-32 F1568", 26_714, Recipe(epochs=1, lr=0.001),
                  "A first working CNN (pooling, padding, 1x1 convs), trained for a single epoch.", 82.1),
        Iteration(2, "c1-8 M c8-16 M p16-8 c8-16 p16-16 c16-32 p32-32 F1568", 24_210, Recipe(epochs=5, lr=0.002),
                  "More epochs (5) and a budget under 25k parameters.", 98.35),
        Iteration(3, "c1-8 M c8-16 M p16-8 c8-32 p32-28 F1372", 18_374, Recipe(epochs=20, lr=0.002),
                  "20 epochs and fewer layers, under 20k parameters.", 99.46),
        Iteration(4, "c1-8 B M c8-16 B M p16-8 c8-32 p32-32 F1568", 20_514, Recipe(epochs=20, lr=0.002),
                  "BatchNorm after the first two convs.", 99.58),
        Iteration(5, "c1-8 B M c8-16 B M p16-8 c8-32 p32-28 F1372", 18_422, Recipe(epochs=20, lr=0.002),
                  "Trimmed back under 20k with BatchNorm kept (the study's pick).", 99.55),
        Iteration(6, "c1-8 B M c8-16 B M p16-8 c8-32 p32-28 D0.5 F1372", 18_422, Recipe(epochs=20, lr=0.002),
                  "Dropout (0.5) before the classifier.", 99.2),
        Iteration(7, "c1-8 B M D0.1 c8-16 B M D0.2 p16-8 c8-32 D0.3 p32-28 D0.5 F1372", 18_422,
                  Recipe(epochs=20, lr=0.002), "Dropout after every block (0.1, 0.2, 0.3, 0.5).", 98.64),
    )
}
DEFAULT_ITERATION = 5  # the study's pick

# Beside the seven, not one of them (loops over ITERATIONS stay the study's): iteration 5's network trained on
# MNIST and on digits drawn as strokes, rendered as the canvas renders them (mnist-desktop drawings-model), on
# iteration 5's recipe: each batch as many of MNIST's digits as iteration 5's, and as many drawn ones.
DRAWINGS = Iteration(8, ITERATIONS[5].layers, ITERATIONS[5].params,
                     replace(ITERATIONS[5].recipe, batch_size=2 * ITERATIONS[5].recipe.batch_size),
                     "Iteration 5's network trained on MNIST and on digits drawn as strokes (MNIST traced, pen "
                     "digits, slashed 0, barred 7, open and closed 4, flagged 1, looped 2).",
                     None)
MODELS: dict[int, Iteration] = {**ITERATIONS, DRAWINGS.number: DRAWINGS}  # every network the app can load


def model_title(number: int) -> str:
    """A model's name for people: "Iteration 5", or "Made for drawings"."""
    return "Made for drawings" if number == DRAWINGS.number else f"Iteration {number}"


def get_iteration(number: int) -> Iteration:
    try:
        return MODELS[number]
    except KeyError:
        raise ValueError(f"There is no iteration {number}; choose one of 1-7, or {DRAWINGS.number} (made for "
                         "drawings).") from None


@dataclass(frozen=True)
class LayerToken:
    """One token of a layer spec, parsed: ``kind`` is its letter, the other fields what the letter needs."""

    kind: str  # c, p, B, M, D or F
    channels_in: int = 0  # c and p
    channels_out: int = 0  # c and p
    dropout: float = 0.0  # D
    features: int = 0  # F: the Linear layer's inputs

    @property
    def kernel(self) -> int:
        return 3 if self.kind == "c" else 1


def parse_layers(spec: str) -> list[LayerToken]:
    """The one reader of the layer notation (``Iteration.layers``): the model, its description for people and
    the Inside view's conv layers are all built from these tokens."""
    tokens = []
    for token in spec.split():
        kind, arg = token[0], token[1:]
        if kind in "cp":
            c_in, c_out = (int(n) for n in arg.split("-"))
            tokens.append(LayerToken(kind, channels_in=c_in, channels_out=c_out))
        elif kind in "BM":
            tokens.append(LayerToken(kind))
        elif kind == "D":
            tokens.append(LayerToken(kind, dropout=float(arg)))
        elif kind == "F":
            tokens.append(LayerToken(kind, features=int(arg)))
        else:
            raise ValueError(f"unknown layer token {token!r}")
    return tokens


def _layers_from_spec(spec: str) -> list:
    from torch import nn  # here, not at the top: the app reads ITERATIONS before torch has loaded

    tokens = parse_layers(spec)
    layers: list[nn.Module] = []
    for i, token in enumerate(tokens):
        if token.kind in "cp":
            layers.append(nn.Conv2d(token.channels_in, token.channels_out, token.kernel, padding=token.kernel // 2))
            # conv -> [BatchNorm] -> ReLU: the ReLU goes after the BatchNorm when one follows.
            if i + 1 < len(tokens) and tokens[i + 1].kind == "B":
                continue
            layers.append(nn.ReLU(inplace=True))
        elif token.kind == "B":
            layers.append(nn.BatchNorm2d(layers[-1].out_channels))
            layers.append(nn.ReLU(inplace=True))
        elif token.kind == "M":
            # ReLU then max-pool equals max-pool then ReLU (both are monotonic); pooling first makes the
            # ReLU and its backward run on a quarter of the values, which is measurably faster on the CPU.
            if isinstance(layers[-1], nn.ReLU):
                layers.insert(len(layers) - 1, nn.MaxPool2d(2))
            else:
                layers.append(nn.MaxPool2d(2))
        elif token.kind == "D":
            layers.append(nn.Dropout(token.dropout))
        else:  # F
            layers += [nn.Flatten(), nn.Linear(token.features, 10), nn.LogSoftmax(dim=1)]
    return layers


def build_model(iteration: int):
    """The iteration's ``nn.Sequential``, freshly initialised; it returns log-probabilities over the digits."""
    from torch import nn

    return nn.Sequential(*_layers_from_spec(get_iteration(iteration).layers))


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def describe_layers(iteration: int) -> str:
    """The layer spec written for people: 'conv3x3 1→8 · BatchNorm · maxpool · ...'."""
    def words(token: LayerToken) -> str:
        if token.kind in "cp":
            return f"conv{token.kernel}x{token.kernel} {token.channels_in}→{token.channels_out}"
        if token.kind == "D":
            return f"dropout {token.dropout:g}"
        if token.kind == "F":
            return f"linear {token.features}→10"
        return {"B": "BatchNorm", "M": "maxpool"}[token.kind]

    return " · ".join(words(t) for t in parse_layers(get_iteration(iteration).layers))
