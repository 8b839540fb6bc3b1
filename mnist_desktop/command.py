"""The ``mnist-desktop`` command. Imports no Qt: ``predict`` runs without it (tests/app/test_predict_cli.py
checks), ``bench`` measures the app, and without a command the window opens."""
from __future__ import annotations

import argparse
import logging
import sys

from trainer.errors import MnistDesktopError

from . import bench, drawings_model, gate_cli, predict_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnist-desktop", description="Draw a digit; see what seven CNNs think.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", help="without one: open the window")
    predict_cli.add_arguments(commands.add_parser("predict", help="recognise image files without a window "
                                                                  "(see mnist-desktop predict --help)"))
    bench.add_arguments(commands.add_parser("bench", help="measure the app: drawing under load, latency, "
                                                          "start-up, soak"))
    drawings_model.add_arguments(commands.add_parser(
        "drawings-model", help="train the model made for drawings (iteration 5's network on MNIST and digits "
                               "drawn as strokes) and measure it beside iteration 5"))
    gate_cli.add_arguments(commands.add_parser("gate", help="make the corpus, train the \"not a digit\" gate "
                                                            "and write weights/gate.pt"))
    return parser


def launch(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["predict"]:  # its own parser, with its own exit status for bad files
        try:
            return predict_cli.main(argv[1:])
        except KeyboardInterrupt:  # Ctrl-C: quiet, as in mnist-train
            print("interrupted", file=sys.stderr)
            return 130
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "bench":
        try:
            bench.run_benchmarks(args)
        except MnistDesktopError as e:  # a bad --json or --data-dir: one sentence, as everywhere
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    if args.command == "drawings-model":
        try:
            drawings_model.run(args)
        except MnistDesktopError as e:  # no MNIST or UNIPEN, an output that cannot be written: one sentence
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    if args.command == "gate":
        return gate_cli.run(args)
    from ._qt.app import main

    return main()
