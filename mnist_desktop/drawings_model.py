"""``mnist-desktop drawings-model``: make the digits drawn as strokes (core/drawn_digits.py), train the model
made for drawings on them and MNIST (trainer/drawings.py), measure it beside iteration 5 and write its
checkpoint. No Qt.

Figures, for both models: MNIST's 10k test digits; UNIPEN's held-out contributors' digits drawn through the
canvas's rendering; hwd1000's drawings opened as files (evaluation only); each style MNIST barely has, drawn
with a seed the training never used.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from trainer.iterations import DEFAULT_ITERATION, DRAWINGS
from trainer.paths import shipped_weights_path

FIGURES = "drawings_figures"  # the checkpoint's key for the figures this command measured
EVALUATION_SEED = 10_000  # the styles' seed for measuring: training uses seeds below it


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=DRAWINGS.recipe.epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--traced", type=int, default=30_000,
                        help="MNIST training digits traced and drawn again (default %(default)s, evenly spaced)")
    parser.add_argument("--output", type=Path, default=shipped_weights_path(DRAWINGS.number),
                        help="where to write the checkpoint (default: the shipped weights)")
    parser.add_argument("--unipen", type=Path, default=Path(os.environ.get("UNIPEN_DIR", "../shared/data/unipen")))
    parser.add_argument("--hwd", type=Path, default=Path(os.environ.get("HWD1000_DIR", "../shared/data/hwd1000")),
                        help="hwd1000, to measure on only (skipped if absent)")


def evaluation_sets(unipen: Path, hwd: Path | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Name -> (float32 images [N, 28, 28], labels) of what the models are measured on besides MNIST test."""
    from .core.drawn_digits import held_out_unipen, hwd_pictures, style_digits

    sets = {"UNIPEN held-out contributors": held_out_unipen(unipen)}
    if hwd is not None and (hwd / "dataset.csv").is_file():
        sets["hwd1000 opened as files"] = hwd_pictures(hwd)
    images, labels, names = style_digits(EVALUATION_SEED, copies=50)
    for name in dict.fromkeys(names):
        chosen = np.array([n == name for n in names])
        sets[f"style: {name}"] = images[chosen], labels[chosen]
    return sets


def measure(model, sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    import torch

    from trainer.evaluation import evaluate

    return {name: evaluate(model, torch.from_numpy(images), torch.from_numpy(labels)).accuracy
            for name, (images, labels) in sets.items()}


def run(args: argparse.Namespace) -> dict:
    import torch

    from trainer import load_model
    from trainer.checkpoint import Checkpoint, model_from_checkpoint, save_checkpoint
    from trainer.data import load_mnist
    from trainer.drawings import train_drawings_model
    from trainer.evaluation import evaluate

    from .core.drawn_digits import training_digits

    torch.set_num_threads(1)  # small convolutions: a second thread waits more than it helps on a busy machine
    train_images, train_labels = load_mnist("train")
    test = load_mnist("test")
    print("Drawing the training digits (MNIST traced, UNIPEN's training contributors, the styles)...", flush=True)
    last = {}

    def progress(stage: str, done: int, total: int) -> None:
        if last.get(stage, -1) < done * 10 // total:
            last[stage] = done * 10 // total
            print(f"  {stage}: {min(done, total):,} of {total:,}", flush=True)

    traced = slice(None, None, max(1, len(train_images) // args.traced))  # evenly spaced through the 60k
    drawn, labels = training_digits(train_images[traced].numpy(), train_labels[traced].numpy(), args.unipen,
                                    args.seed, progress)
    print(f"{len(drawn):,} drawn digits; training {args.epochs} epochs", flush=True)
    checkpoint = train_drawings_model(
        (train_images, train_labels), (torch.from_numpy(drawn), torch.from_numpy(labels)), test, args.seed,
        args.epochs, lambda end: print(f"  epoch {end.epoch}: MNIST test {end.test_accuracy:.2f}% "
                                       f"({end.seconds:.0f} s)", flush=True))
    sets = evaluation_sets(args.unipen, args.hwd)
    model = model_from_checkpoint(Checkpoint.of(checkpoint), DRAWINGS.number)
    figures = {"MNIST test": checkpoint["test_accuracy"], **measure(model, sets)}
    reference = load_model(DEFAULT_ITERATION)
    before = {"MNIST test": evaluate(reference, *test).accuracy, **measure(reference, sets)}
    checkpoint[FIGURES] = {"drawings": figures, f"iteration {DEFAULT_ITERATION}": before,
                           "sizes": {name: len(labels) for name, (_, labels) in sets.items()}}
    save_checkpoint(checkpoint, args.output)
    print(f"{'':34s} {'iteration ' + str(DEFAULT_ITERATION):>12s} {'drawings':>9s}")
    for name in figures:
        print(f"{name:34s} {before[name]:11.2f}% {figures[name]:8.2f}%")
    print(f"Wrote {args.output}")
    return checkpoint
