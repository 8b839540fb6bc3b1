"""``mnist-desktop predict FILE...``: the window's recognition path without a window, for scripts and checks.

Imports no Qt (tests/app/test_predict_cli.py checks), so it starts in the time torch takes to load: the
``mnist-desktop`` command (``command.launch``) comes here for ``predict`` before anything loads Qt.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainer.checks import path_text
from trainer.errors import MnistDesktopError
from trainer.files import json_text
from trainer.iterations import DEFAULT_ITERATION, DRAWINGS, ITERATIONS, MODELS

BATCH = 256  # files read and recognised together: one forward pass per model for them all
EXIT_UNREADABLE = 2  # at least one file could not be read (the others were still recognised)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files (PNG, JPG...) of single digits")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line: file, digit (null: not a digit), reason, confidence, "
                             "iterations (each one's digit and ten probabilities); an unreadable file gets "
                             "{\"file\", \"error\"}")
    parser.add_argument("--iteration", type=int, choices=sorted(MODELS), default=DEFAULT_ITERATION,
                        help=f"the iteration whose answer is the headline (default %(default)s; {DRAWINGS.number}: "
                             "the model made for drawings); all seven decide together whether it is a digit")
    parser.add_argument("--explain", metavar="DIR", type=path_text,
                        help="also write each file's maps into DIR as <file stem>-iteration<N>-<what>.png, for "
                             "every iteration: why-<d> (red pixels raised the top digit's score, blue lowered "
                             "it), why-<d>-not-<r> (against the runner-up), conv<k> (each conv layer's maps)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnist-desktop predict", description=__doc__.split("\n\n")[0],
        epilog=f"Exit status: 0 when every file was read, {EXIT_UNREADABLE} when any could not be (each one is "
               "reported and the others are recognised).")
    add_arguments(parser)
    return parser


def as_record(path: str, recognition) -> dict:
    verdict = recognition.verdict
    return {"file": path, "digit": verdict.digit, "reason": verdict.reason,
            "confidence": None if verdict.confidence is None else round(verdict.confidence, 6),
            "iterations": {str(n): {"digit": int(p.argmax()), "probabilities": [round(float(v), 6) for v in p]}
                           for n, p in recognition.probabilities.items()}}


def as_text(record: dict, guess: int | None) -> str:
    """The record in lines for people: the verdict, then each iteration's digit and probabilities."""
    confidence = record["confidence"]
    if record["digit"] is not None:
        head = f"{record['file']}: {record['digit']} ({confidence * 100:.1f}%)"
    else:
        head = f"{record['file']}: not a digit? {record['reason']}"
        if guess is not None:
            head += f" (best guess {guess}, {confidence * 100:.1f}%)"
    return "\n".join([head] + [f"  iteration {n}: {it['digit']}  " + " ".join(f"{v:.2f}" for v in it["probabilities"])
                               for n, it in record["iterations"].items()])


def unique_stems(files: list[str]) -> dict[str, str]:
    """Each file's name for its maps: its stem, or with -2, -3... when an earlier file took it (a/x.png and
    b/x.png would overwrite each other's maps); the same file named twice keeps one name."""
    stems: dict[str, str] = {}
    taken: set[str] = set()
    for path in files:
        if path in stems:
            continue
        stem = candidate = Path(path).stem
        number = 2
        while candidate in taken:
            candidate, number = f"{stem}-{number}", number + 1
        taken.add(candidate)
        stems[path] = candidate
    return stems


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .core.predictor import Predictor  # torch loads here, after the arguments are known good
    from .core.preprocess import load_image
    from .core.recognition import image_input, recognise

    predictor = Predictor()
    predictor.load_all()
    if args.iteration not in ITERATIONS:
        predictor.load(args.iteration)
    problems = "; ".join(predictor.problems())
    if not predictor.available():
        print(f"error: no model could be loaded ({problems})", file=sys.stderr)
        return EXIT_UNREADABLE
    if problems:
        print(f"warning: unavailable: {problems}", file=sys.stderr)
    status = 0
    stems = unique_stems(args.files)
    for start in range(0, len(args.files), BATCH):
        readable, inputs = [], []
        for path in args.files[start:start + BATCH]:
            try:
                inputs.append(image_input(load_image(path)))
                readable.append(path)
            except MnistDesktopError as e:
                status = EXIT_UNREADABLE
                print(json_text({"file": path, "error": str(e)}) if args.json else f"{path}: error: {e}",
                      flush=True)
        for path, recognition in zip(readable, recognise(predictor, inputs, args.iteration)):
            record = as_record(path, recognition)
            print(json_text(record) if args.json else as_text(record, recognition.verdict.guess), flush=True)
            if args.explain and recognition.image is not None:
                from .core.inside import save_explanations

                if stems[path] != Path(path).stem:
                    print(f"{path}: its maps are named {stems[path]}-iteration<N>-... ({Path(path).stem} was taken "
                          "by an earlier file)", file=sys.stderr)
                try:
                    save_explanations(predictor, recognition.image, args.explain, stems[path])
                except MnistDesktopError as e:
                    print(f"error: {e}", file=sys.stderr)
                    return EXIT_UNREADABLE
    return status


if __name__ == "__main__":
    sys.exit(main())
