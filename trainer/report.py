"""``weights/metrics.json`` and the README's accuracy table, both computed by evaluating the shipped weights."""
from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import ConfigError, UnreadableFileError
from .files import check_save_path, read_bounded, write_json, write_text
from .iterations import ITERATIONS
from .paths import METRICS_FILE, STUDY_RESULTS_FILE, shipped_weights_dir, shipped_weights_path

TABLE_START, TABLE_END = "<!-- accuracy-table:start -->", "<!-- accuracy-table:end -->"
PAIRWISE_START, PAIRWISE_END = "<!-- pairwise-table:start -->", "<!-- pairwise-table:end -->"
MAX_README_BYTES = 4_000_000  # the project's README is about 60 kB
MAX_JSON_BYTES = 16_000_000  # metrics.json and study.json: a few kB each; a study of many seeds stays far below


def read_metrics(weights_dir: Path | None = None) -> dict[int, dict]:
    """The shipped weights' metrics by iteration; empty if the file is absent or unreadable."""
    try:
        metrics = json.loads(read_bounded((weights_dir or shipped_weights_dir()) / METRICS_FILE, MAX_JSON_BYTES))
        return {int(k): v for k, v in metrics["iterations"].items() if isinstance(v, dict)}
    except (UnreadableFileError, ValueError, KeyError, TypeError, AttributeError):  # absent, damaged, other shape
        return {}


def read_study(weights_dir: Path | None = None) -> dict:
    """``weights/study.json`` (written by ``mnist-train study``); empty if absent or unreadable."""
    try:
        study = json.loads(read_bounded((weights_dir or shipped_weights_dir()) / STUDY_RESULTS_FILE, MAX_JSON_BYTES))
        return study if isinstance(study, dict) and isinstance(study.get("iterations"), dict) else {}
    except (UnreadableFileError, ValueError):
        return {}


def mean_and_spread(entry: dict) -> str:
    """'99.37 ± 0.04%' (mean ± sample std over the seeds), or just the mean for a single seed."""
    spread = f" ± {entry['std']:.2f}" if entry.get("std") is not None else ""
    return f"{entry['mean']:.2f}{spread}%"


def accuracy_table(metrics: dict[int, dict], study: dict) -> str:
    seeds = {len(entry["seeds"]) for entry in study.get("iterations", {}).values()}
    seeds_text = "/".join(map(str, sorted(seeds))) or "no"
    lines = [
        "| iteration | what it tried | parameters | epochs "
        f"| **test accuracy, mean ± std over {seeds_text} seeds** (95% interval) "
        "| shipped weights (seed 0) | study's figure (60k augmented *training* images) "
        "| the study's way, reproduced (mean over the seeds) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for number, it in ITERATIONS.items():
        entry = study.get("iterations", {}).get(str(number))
        if entry:
            interval = f" ({entry['ci95'][0]:.2f}–{entry['ci95'][1]:.2f})" if entry.get("ci95") else ""
            measured, reproduced = f"**{mean_and_spread(entry)}**{interval}", f"{entry['train_set_mean']:.2f}%"
        else:
            measured = reproduced = "not run"
        lines.append(f"| {number} | {it.summary} | {it.params:,} | {it.recipe.epochs} | {measured} "
                     f"| {metrics[number]['test_accuracy']:.2f}% | {it.study_accuracy:g}% | {reproduced} |")
    return "\n".join(lines)


def pairwise_table(study: dict) -> str:
    """Row a, column b: mean(b) - mean(a) in points; bold where it exceeds the seed-to-seed noise."""
    cells = {tuple(row["iterations"]): row for row in study.get("pairwise", [])}
    numbers = sorted({n for pair in cells for n in pair})
    if not numbers:
        return "No study with two or more seeds per iteration has been run (`mnist-train study`)."
    lines = ["| | " + " | ".join(f"vs {b}" for b in numbers[1:]) + " |",
             "| --- |" + " ---: |" * (len(numbers) - 1)]
    for a in numbers[:-1]:
        row = []
        for b in numbers[1:]:
            cell = cells.get((a, b))
            if cell is None:
                row.append("")
                continue
            text = f"{cell['difference']:+.2f} (p {cell['p_holm']:.2g})"
            row.append(f"**{text}**" if cell["exceeds_noise"] else text)
        lines.append(f"| {a} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def replace_between(text: str, start: str, end: str, content: str) -> str:
    """``text`` with what lies between the markers ``start`` and ``end`` (kept) replaced by ``content``."""
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    return pattern.sub(lambda _: f"{start}\n{content}\n{end}", text)


def read_readme(readme: Path) -> str:
    """The README's text, checked before anything is computed or written: a regular UTF-8 file of at most
    MAX_README_BYTES with both tables' markers; else ConfigError (or UnreadableFileError) saying which."""
    raw = read_bounded(readme, MAX_README_BYTES, "The README")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"The README {readme} is not UTF-8 text, so its tables were not rewritten.") from e
    for start, end in ((TABLE_START, TABLE_END), (PAIRWISE_START, PAIRWISE_END)):
        if not re.search(re.escape(start) + ".*?" + re.escape(end), text, re.S):
            raise ConfigError(f"The README {readme} has no {start} ... {end} markers, so nothing was written; "
                              "add the markers where the table goes, or name the project's README with --readme.")
    return text


def write_report(data_dir: str | None, readme: Path, weights_dir: Path | None = None) -> list[str]:
    """Evaluate every shipped checkpoint on the 10k test set; rewrite metrics.json and the README tables.

    Everything is read, checked and computed first; then both files are written atomically, so a failure
    leaves each either as it was or complete."""
    import torch

    from .checkpoint import model_from_checkpoint, read_checkpoint
    from .data import load_mnist
    from .evaluation import evaluate

    text = read_readme(readme)
    weights_dir = weights_dir or shipped_weights_dir()
    for path in (readme, weights_dir / METRICS_FILE):  # both writable, or neither is written
        check_save_path(path)
    images, labels = load_mnist("test", data_dir)
    metrics, lines = {}, []
    for number in ITERATIONS:
        path = shipped_weights_path(number, weights_dir)
        checkpoint = read_checkpoint(path)
        info = checkpoint.info
        result = evaluate(model_from_checkpoint(checkpoint, number, str(path)), images, labels)
        metrics[str(number)] = {
            "test_accuracy": round(result.accuracy, 2), "test_loss": round(result.loss, 4),
            "per_class_accuracy": [round(a, 2) for a in result.per_class_accuracy],
            "misclassified": len(result.misclassified), "epochs": info.epochs, "seed": info.seed,
            "train_seconds": round(info.seconds, 1), "train_device": info.device,
        }
        lines.append(f"iteration {number}: {result.accuracy:.2f}% test accuracy, loss {result.loss:.4f}")
    payload = {"evaluated_on": "MNIST 10k test set", "command": "mnist-train report",
               "torch_version": str(torch.__version__), "iterations": metrics}
    study = read_study(weights_dir)
    text = replace_between(text, TABLE_START, TABLE_END, accuracy_table({int(k): v for k, v in metrics.items()}, study))
    text = replace_between(text, PAIRWISE_START, PAIRWISE_END, pairwise_table(study))
    write_json(weights_dir / METRICS_FILE, payload)
    write_text(readme, text)
    lines.append(f"wrote {weights_dir / METRICS_FILE} and the tables in {readme}")
    return lines
