"""``weights/metrics.json`` and the README's accuracy table, both computed by evaluating the shipped weights."""
from __future__ import annotations

import json
import re
from pathlib import Path

from .iterations import ITERATIONS
from .paths import shipped_weights_dir

TABLE_START, TABLE_END = "<!-- accuracy-table:start -->", "<!-- accuracy-table:end -->"


def read_metrics(weights_dir: Path | None = None) -> dict[int, dict]:
    """The shipped weights' metrics by iteration; empty if the file is absent or unreadable."""
    try:
        metrics = json.loads(((weights_dir or shipped_weights_dir()) / "metrics.json").read_text())
        return {int(k): v for k, v in metrics["iterations"].items()}
    except (OSError, ValueError, KeyError):
        return {}


def accuracy_table(metrics: dict[int, dict]) -> str:
    lines = [
        "| iteration | what it tried | parameters | epochs | study's figure (60k *training* images) "
        "| measured test accuracy (10k test images) | test loss |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for number, it in ITERATIONS.items():
        m = metrics[number]
        lines.append(f"| {number} | {it.summary} | {it.params:,} | {it.recipe.epochs} | {it.study_accuracy:g}% "
                     f"| **{m['test_accuracy']:.2f}%** | {m['test_loss']:.4f} |")
    return "\n".join(lines)


def write_report(data_dir: str | None, readme: Path, weights_dir: Path | None = None) -> list[str]:
    """Evaluate every shipped checkpoint on the 10k test set; rewrite metrics.json and the README table."""
    import torch

    from .checkpoint import load_model, read_checkpoint
    from .data import load_mnist
    from .evaluation import evaluate

    weights_dir = weights_dir or shipped_weights_dir()
    images, labels = load_mnist("test", data_dir)
    metrics, lines = {}, []
    for number in ITERATIONS:
        path = weights_dir / f"iteration{number}.pt"
        checkpoint = read_checkpoint(path)
        result = evaluate(load_model(number, path), images, labels)
        metrics[str(number)] = {
            "test_accuracy": round(result.accuracy, 2), "test_loss": round(result.loss, 4),
            "per_class_accuracy": [round(a, 2) for a in result.per_class_accuracy],
            "misclassified": len(result.misclassified), "epochs": checkpoint["epochs"], "seed": checkpoint["seed"],
            "train_seconds": round(checkpoint["seconds"], 1), "train_device": checkpoint["device"],
        }
        lines.append(f"iteration {number}: {result.accuracy:.2f}% test accuracy, loss {result.loss:.4f}")
    payload = {"evaluated_on": "MNIST 10k test set", "command": "mnist-train report",
               "torch_version": str(torch.__version__), "iterations": metrics}
    (weights_dir / "metrics.json").write_text(json.dumps(payload, indent=1) + "\n")
    text = readme.read_text()
    table = accuracy_table({int(k): v for k, v in metrics.items()})
    pattern = re.compile(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {TABLE_START} ... {TABLE_END} markers for the table")
    readme.write_text(pattern.sub(lambda _: f"{TABLE_START}\n{table}\n{TABLE_END}", text))
    lines.append(f"wrote {weights_dir / 'metrics.json'} and the table in {readme}")
    return lines
