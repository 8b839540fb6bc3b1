"""``mnist-train``: train, evaluate, bench, report. The one front end that may print."""
from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import Callable, NoReturn

from .checks import path_text
from .checkpoint import CheckpointInfo, load_model, save_checkpoint
from .data import default_download_dir, download_mnist, has_all_files, load_mnist
from .errors import ConfigError, MnistDesktopError, WriteError
from .evaluation import evaluate
from .extra_data import FINE_TUNE_EPOCHS, FINE_TUNE_LR_FACTOR, fine_tune_defaults, fine_tune_summary
from .files import check_save_path, json_text
from .iterations import DEFAULT_DEVICE, DEVICES, ITERATIONS
from .paths import STUDY_RESULTS_FILE, shipped_weights_path, user_study_dir
from .runs import RunStore, accuracy_in_use, keep_run
from .training import BatchProgress, EpochEnd, Finished, Stopped, TrainConfig, train


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = round(width * done / total)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def cmd_train(args: argparse.Namespace) -> int:
    store = RunStore()
    fine_tune = {}
    if args.extra_data:  # a fine-tune of the weights the app uses now, unless --epochs/--lr say otherwise
        fine_tune = fine_tune_defaults(ITERATIONS[args.iteration].recipe) | {
            "init_from": str(store.active_path(args.iteration) or shipped_weights_path(args.iteration))}
    # "is None", not "or": --epochs 0 must reach TrainConfig's check, not become the recipe's default.
    config = TrainConfig(iteration=args.iteration,
                         epochs=fine_tune.get("epochs") if args.epochs is None else args.epochs,
                         lr=fine_tune.get("lr") if args.lr is None else args.lr, batch_size=args.batch_size,
                         augment=False if args.no_augment else None, seed=args.seed, device=args.device,
                         data_dir=args.data_dir, train_limit=args.train_limit, extra_data=args.extra_data,
                         init_from=fine_tune.get("init_from"))
    output = None if args.output is None else check_save_path(args.output)
    recipe = config.recipe()
    print(f"iteration {args.iteration}: {recipe.epochs} epochs, lr {recipe.lr:g}, batch {recipe.batch_size}, "
          f"augment {'on' if recipe.augment else 'off'}, seed {args.seed}")
    line_open = False  # a progress line without its newline yet
    try:
        for event in train(config):
            if isinstance(event, BatchProgress):
                print(f"\repoch {event.epoch}/{event.epochs} {progress_bar(event.batch, event.batches)} "
                      f"loss {event.loss:.4f} {event.images_per_s:,.0f} img/s", end="", flush=True)
                line_open = True
            elif isinstance(event, EpochEnd):
                print(f"\repoch {event.epoch}/{event.epochs} train loss {event.train_loss:.4f} "
                      f"acc {event.train_accuracy:.2f}% | test loss {event.test_loss:.4f} "
                      f"acc {event.test_accuracy:.2f}% | lr {event.lr:g} | {event.seconds:.1f} s "
                      f"{event.images_per_s:,.0f} img/s"
                      + (f" | your held-out drawings {event.extra_accuracy:.1f}%" if args.extra_data else ""))
                line_open = False
            elif isinstance(event, Finished):
                return keep_finished_run(event, store, output, args.use, config.init_from)
            elif isinstance(event, Stopped):
                print("\nstopped; nothing saved")
    except KeyboardInterrupt:
        print("\ninterrupted; nothing saved")
        return 130
    except MnistDesktopError:
        if line_open:
            print()
        raise
    return 0


def keep_finished_run(event: Finished, store: RunStore, output: Path | None, use: bool,
                      fine_tuned_from: str | None) -> int:
    """Save the run where it was asked (``output``, else the run store); if that fails, keep it elsewhere and
    say where (WriteError). A run in the store is put in use only if it is no worse than the weights in use,
    or the person says so (--use, or yes on a terminal), as the window asks."""
    checkpoint, info = event.checkpoint, CheckpointInfo.of(event.checkpoint)
    if event.problem:
        print(f"warning: {event.problem}", file=sys.stderr)
    current = accuracy_in_use(store, info.iteration)
    try:
        path = save_checkpoint(checkpoint, output) if output else store.save(checkpoint, activate=False)
    except WriteError as e:
        raise keep_run(checkpoint, e, store) from e
    print(f"saved {path} (test accuracy {info.test_accuracy:.2f}%, {info.seconds:.1f} s)")
    if fine_tuned_from:
        print(f"fine-tuned from {fine_tuned_from}: {fine_tune_summary(checkpoint)}")
        for problem in info.extra["fine_tune"]["problems"]:
            print(f"warning: {problem}")
    if output is None:
        if use or should_use(info, current):
            store.activate(info.iteration, path)
            print(f"iteration {info.iteration} now uses it")
        else:
            in_use = "the model in use" + ("" if current is None else f" ({current:.2f}%)")
            print(f"kept as a past run; {in_use} stays in use (--use, or Past runs in the window's Train tab, puts "
                  "such a run in use)")
    return 0


def should_use(info: CheckpointInfo, current: float | None) -> bool:
    """Put a new run in use? Yes if it is no worse than the weights in use; a worse run or a fine-tune (which
    MNIST's figure alone cannot judge) only if the person answers yes on a terminal."""
    fine_tuned = "fine_tune" in info.extra
    if not fine_tuned and (current is None or info.test_accuracy >= current):
        return True
    if not sys.stdin.isatty():
        return False
    if fine_tuned:
        question = f"Put the fine-tuned iteration {info.iteration} in use? [y/N] "
    else:
        question = (f"This run has {info.test_accuracy:.2f}% test accuracy; iteration {info.iteration} now uses "
                    f"{current:.2f}%. Put the worse run in use? [y/N] ")
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = load_model(args.iteration, args.checkpoint)  # a bad file is reported before MNIST is read
    images, labels = load_mnist("test", args.data_dir)
    result = evaluate(model, images, labels)
    if args.json:
        print(json_text(vars(result) | {"predictions": None}))
        return 0
    print(f"iteration {args.iteration} ({args.checkpoint or shipped_weights_path(args.iteration)})")
    print(f"test accuracy {result.accuracy:.2f}%  mean loss {result.loss:.4f}  "
          f"misclassified {len(result.misclassified)} of {len(labels)}")
    print("per class: " + "  ".join(f"{d}:{a:.1f}" for d, a in enumerate(result.per_class_accuracy)))
    print("confusion (rows: true digit, columns: predicted)")
    print("     " + "".join(f"{d:>6}" for d in range(10)))
    for digit, row in enumerate(result.confusion):
        print(f"{digit:>5}" + "".join(f"{n:>6}" for n in row))
    print("misclassified indices: " + " ".join(map(str, result.misclassified[:40]))
          + (" ..." if len(result.misclassified) > 40 else ""))
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    target = Path(args.data_dir) if args.data_dir else default_download_dir()
    if has_all_files(target):
        print(f"MNIST is already in {target}")
        return 0
    print(f"downloading MNIST (four files, about 11 MB) into {target}")
    download_mnist(target, lambda done, total: print(f"{done} of {total} files"), timeout_s=args.timeout)
    print(f"done: MNIST is in {target}" + (f"; pass --data-dir {target} or set MNIST_DATA_DIR={target} to use it"
                                           if args.data_dir else ""))
    return 0


def positive_seconds(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(text)
    return value


positive_seconds.__name__ = "number of seconds above 0"  # what argparse names in its message


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    for line in write_report(args.data_dir, Path(args.readme)):
        print(line)
    return 0


def parse_iterations(text: str) -> tuple[int, ...]:
    """'1-7', '3,5,6' or '1-3,6' -> (1, 2, 3, 6); argparse turns the ValueError into one sentence. Each end
    of a range is checked before the range is made, so '1-99999999999' costs nothing."""
    numbers: set[int] = set()
    for part in text.split(",", len(ITERATIONS) * 2):
        low, _, high = part.strip().partition("-")
        low, high = int(low), int(high or low)
        if low not in ITERATIONS or high not in ITERATIONS or high < low:
            raise ValueError(text)
        numbers.update(range(low, high + 1))
    return tuple(sorted(numbers))


parse_iterations.__name__ = "iterations (such as 1-7 or 3,5,6)"  # what argparse names in its message


def cmd_study(args: argparse.Namespace) -> int:
    from .study import StudyPlan, pending_pairs, run_study

    plan = StudyPlan(args.iterations, tuple(range(args.seeds)), Path(args.output or user_study_dir()),
                     args.device, args.data_dir, args.train_limit)
    todo = pending_pairs(plan)
    print(f"study: iterations {', '.join(map(str, plan.iterations))} x seeds 0-{args.seeds - 1}: "
          f"{len(plan.pairs()) - len(todo)} pairs already done, {len(todo)} to train, {args.jobs} at a time; "
          f"results in {plan.output}")
    try:
        results = run_study(plan, args.jobs, lambda line: print(f"\r{line:<70}", end="", flush=True))
    except KeyboardInterrupt:
        print("\ninterrupted; the finished pairs are kept and the next run goes on from there")
        return 130
    except MnistDesktopError:
        print()  # after the progress line
        raise
    print()
    for number, it in results["iterations"].items():
        spread = f" ± {it['std']:.2f}" if it["std"] is not None else ""
        print(f"iteration {number}: {it['mean']:.2f}%{spread} test accuracy over {len(it['seeds'])} seeds "
              f"(study's way, augmented training images: {it['train_set_mean']:.2f}%)")
    for row in results["pairwise"]:
        if row["exceeds_noise"]:
            a, b = row["iterations"]
            print(f"iteration {b} vs {a}: {row['difference']:+.2f} points, beyond the seed noise "
                  f"(Holm-corrected p = {row['p_holm']:.3g})")
    print(f"wrote {plan.output / STUDY_RESULTS_FILE}")
    return 0


def whole_number(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type for a whole number from ``low`` to ``high``; argparse names ``what`` in its sentence."""
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    parse.__name__ = f"{what} (a whole number from {low} to {high:,})"
    return parse




def cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibration import calibrate_file

    folder = Path(args.weights_dir) if args.weights_dir else None
    for path in args.checkpoints or [shipped_weights_path(n, folder) for n in ITERATIONS]:
        print(f"calibrated {calibrate_file(path, args.data_dir)}")
    return 0


def cmd_shapes(args: argparse.Namespace) -> int:
    from .digit_shapes import shapes_path, write_shapes

    path = check_save_path(shapes_path(Path(args.weights_dir) if args.weights_dir else None))  # before the fit
    print(f"wrote {write_shapes(path, args.data_dir)}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_benchmarks

    json_path = check_save_path(args.json)  # before minutes of benchmarking, not after
    run_benchmarks(args.data_dir, json_path, seconds=args.seconds, skip_reference=args.skip_reference)
    return 0


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises ConfigError instead of exiting, so every bad argument ends like every other user
    error: one sentence on stderr and exit code 2, from main."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message[:1].upper()}{message[1:]} (see {self.prog} --help).")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="mnist-train", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    iterations = sorted(ITERATIONS)

    p = sub.add_parser("train", help="train one iteration under its recipe")
    p.add_argument("iteration", type=int, choices=iterations)
    p.add_argument("--epochs", type=int, help="default: the recipe's")
    p.add_argument("--lr", type=float, help="default: the recipe's")
    p.add_argument("--batch-size", type=int, help="default: the recipe's (64)")
    p.add_argument("--no-augment", action="store_true", help="train without rotation and zoom")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=DEVICES, default=DEFAULT_DEVICE)
    p.add_argument("--train-limit", type=int, help="use only the first N training images")
    p.add_argument("--output", type=path_text,
                   help="checkpoint path (default: a new run in the per-user data folder, which the app then uses "
                        "if it is no worse than the weights in use)")
    p.add_argument("--use", action="store_true",
                   help="put the new run in use even if it is worse than the weights in use, or a fine-tune "
                        "(without it, a terminal asks)")
    p.add_argument("--extra-data", metavar="ZIP", type=path_text,
                   help="fine-tune the weights the app uses on MNIST plus your drawings (a ZIP exported from "
                        "\"Your drawings\"); a fifth of them is held out and measured. Default then: "
                        f"{FINE_TUNE_EPOCHS} epochs at {FINE_TUNE_LR_FACTOR:g} x the recipe's learning rate")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="accuracy, loss, per-class accuracy, confusion matrix on the 10k test set")
    p.add_argument("iteration", type=int, choices=iterations)
    p.add_argument("--checkpoint", type=path_text, help="default: the shipped weights")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("report", help="evaluate the shipped weights; rewrite weights/metrics.json and the README table")
    p.add_argument("--readme", type=path_text, default="README.md")
    p.set_defaults(func=cmd_report)

    from .study import DEFAULT_JOBS, DEFAULT_SEEDS, MAX_JOBS, MAX_SEEDS

    p = sub.add_parser("study", help="train every iteration over several seeds; statistics in study.json")
    p.add_argument("--iterations", type=parse_iterations, default=tuple(iterations), help="default: 1-7")
    p.add_argument("--seeds", type=whole_number(1, MAX_SEEDS, "number of seeds"), default=DEFAULT_SEEDS, help="seeds 0..N-1 (default %(default)s)")
    p.add_argument("--device", choices=DEVICES, default=DEFAULT_DEVICE)
    p.add_argument("--jobs", type=whole_number(1, MAX_JOBS, "number of jobs"), default=DEFAULT_JOBS,
                   help="pairs trained at once, one process each (default: one per CPU core, measured faster)")
    p.add_argument("--train-limit", type=int, help="use only the first N training images")
    p.add_argument("--output", type=path_text, help="folder for the pairs and study.json (default: the per-user data folder's "
                                    "study/; the shipped study is in weights/)")
    p.set_defaults(func=cmd_study)

    p = sub.add_parser("calibrate", help="add the statistics of the \"not a digit\" verdict to existing checkpoints "
                                         "(weights unchanged)")
    p.add_argument("checkpoints", nargs="*", type=path_text, help="checkpoint files (default: the seven in --weights-dir)")
    p.add_argument("--weights-dir", type=path_text, help="default: the shipped weights")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("shapes", help="fit the pixel model of MNIST's training digits that the \"not a digit\" "
                                      "verdict uses beside the seven (digit_shapes.pt)")
    p.add_argument("--weights-dir", type=path_text, help="where to write it (default: the shipped weights)")
    p.set_defaults(func=cmd_shapes)

    p = sub.add_parser("bench", help="training throughput against the study's pipeline (the app's figures: "
                                     "mnist-desktop bench)")
    p.add_argument("--json", type=path_text, default="bench.json", help="where to write the figures")
    p.add_argument("--seconds", type=positive_seconds, default=20.0, help="measuring time per training figure")
    p.add_argument("--skip-reference", action="store_true", help="skip the study's DataLoader pipeline")
    p.set_defaults(func=cmd_bench)

    for p in sub.choices.values():
        p.add_argument("--data-dir", type=path_text, help="folder with the four MNIST files (default: $MNIST_DATA_DIR, "
                                          "then the per-user data folder; mnist-train download fetches them)")

    p = sub.add_parser("download", help="download the four MNIST files (11 MB); nothing else downloads them")
    p.add_argument("--data-dir", type=path_text, help="where to put them (default: the per-user data folder)")
    p.add_argument("--timeout", type=positive_seconds, default=30.0,
                   help="seconds a silent connection may wait before the download fails (default %(default)g)")
    p.set_defaults(func=cmd_download)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except MnistDesktopError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a run (loading data, evaluating): quiet, as inside one
        print("\ninterrupted", file=sys.stderr)
        return 130
