"""The multi-seed study: statistics checked against values computed here, resuming, and the CLI."""
from __future__ import annotations

import json
import math
import statistics

import pytest
import torch

from trainer.cli import main
from trainer.report import accuracy_table, pairwise_table, read_metrics
from trainer.stats import holm, summarize, t_cdf, t_quantile, welch_p_value
from trainer.paths import STUDY_RESULTS_FILE
from trainer.study import StudyPlan, pending_pairs, run_study

TRAIN_LIMIT = 640  # ten batches an epoch


def test_student_t_against_published_tables():
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-3)
    assert t_quantile(0.975, 4) == pytest.approx(2.7764, abs=1e-4)
    assert t_quantile(0.975, 30) == pytest.approx(2.0423, abs=1e-4)
    assert 2 * (1 - t_cdf(2.0, 10)) == pytest.approx(0.07339, abs=1e-4)
    assert t_cdf(-1.5, 7) == pytest.approx(1 - t_cdf(1.5, 7))


def test_welch_and_holm_against_the_formulas():
    a = [21.0, 21.6, 20.8, 19.0, 19.7, 20.1, 19.5, 20.1, 20.7, 23.2]
    b = [26.6, 25.0, 18.5, 21.7, 23.6, 20.5, 16.1, 26.0, 19.0, 12.1]
    va, vb = statistics.variance(a) / 10, statistics.variance(b) / 10
    t = (statistics.mean(a) - statistics.mean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / 9 + vb ** 2 / 9)
    assert welch_p_value(a, b) == pytest.approx(2 * (1 - t_cdf(abs(t), df)))
    assert 0.0 < welch_p_value(a, b) < welch_p_value(a, a[::-1]) == 1.0
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    summary = summarize([99.1, 99.3, 99.2])
    assert summary.std == pytest.approx(0.1) and summary.ci95[1] - summary.mean == pytest.approx(
        t_quantile(0.975, 2) * 0.1 / math.sqrt(3))
    assert summarize([98.0]).std is None


def test_a_study_of_two_iterations_and_two_seeds_writes_matching_statistics(mnist_dir, tmp_path):
    plan = StudyPlan((1, 2), (0, 1), tmp_path, device="cpu", data_dir=str(mnist_dir), train_limit=TRAIN_LIMIT)
    lines: list[str] = []
    results = run_study(plan, jobs=1, print_line=lines.append)
    assert lines[-1].startswith("pairs 4/4")
    assert results == json.loads((tmp_path / STUDY_RESULTS_FILE).read_text())
    assert pending_pairs(plan) == []
    for number in (1, 2):
        pairs = [torch.load(plan.pair_path(number, seed), weights_only=True) for seed in (0, 1)]
        accuracies = [p["test_accuracy"] for p in pairs]
        it = results["iterations"][str(number)]
        assert it["seeds"] == [0, 1] and it["test_accuracy"] == accuracies
        assert it["mean"] == pytest.approx(statistics.mean(accuracies))
        assert it["std"] == pytest.approx(statistics.stdev(accuracies))
        half = 12.7062 * statistics.stdev(accuracies) / math.sqrt(2)  # t(0.975, 1 degree of freedom)
        assert it["ci95"] == pytest.approx([it["mean"] - half, it["mean"] + half], abs=1e-3)
        assert len(it["curve_mean"]) == {1: 1, 2: 5}[number]
        assert it["curve_mean"][-1] == pytest.approx(it["mean"])
        assert all(0 <= a <= 100 for a in it["train_set_accuracy"])
    assert results["recipe"]["2"]["epochs"] == 5 and results["train_images"] == TRAIN_LIMIT
    (row,) = results["pairwise"]
    assert row["iterations"] == [1, 2]
    assert row["p_value"] == pytest.approx(welch_p_value(results["iterations"]["1"]["test_accuracy"],
                                                         results["iterations"]["2"]["test_accuracy"]))
    # The README's tables are written from these results.
    table = accuracy_table(read_metrics(), results)
    two = results["iterations"]["2"]
    assert "over 2 seeds" in table and f"{two['mean']:.2f} ± {two['std']:.2f}%" in table
    assert "| 3 |" in table and "not run" in table
    assert f"{row['difference']:+.2f}" in pairwise_table(results)


def test_a_study_killed_between_pairs_goes_on_without_redoing_them(mnist_dir, tmp_path):
    plan = StudyPlan((1,), (0, 1, 2), tmp_path, device="cpu", data_dir=str(mnist_dir), train_limit=TRAIN_LIMIT)

    def kill_after_the_first_pair(line: str) -> None:
        if line.startswith("pairs 1/3"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_study(plan, jobs=1, print_line=kill_after_the_first_pair)
    first = plan.pair_path(1, 0)
    kept = first.stat()
    assert pending_pairs(plan) == [(1, 1), (1, 2)]
    lines: list[str] = []
    run_study(plan, jobs=1, print_line=lines.append)
    assert first.stat().st_mtime_ns == kept.st_mtime_ns and first.stat().st_ino == kept.st_ino
    assert not any(line.startswith("pairs 0/") for line in lines)  # it started from one pair done
    assert pending_pairs(plan) == []


def test_a_pair_from_another_training_set_is_trained_again(mnist_dir, tmp_path):
    small = StudyPlan((1,), (0,), tmp_path, device="cpu", data_dir=str(mnist_dir), train_limit=TRAIN_LIMIT)
    run_study(small, jobs=1, print_line=lambda line: None)
    larger = StudyPlan((1,), (0,), tmp_path, device="cpu", data_dir=str(mnist_dir), train_limit=2 * TRAIN_LIMIT)
    assert pending_pairs(larger) == [(1, 0)]


@pytest.mark.parametrize("argument", ["--iterations 0-3", "--iterations 8", "--iterations x", "--seeds 0",
                                      "--jobs 0", "--train-limit -5", "--device tpu"])
def test_the_study_command_refuses_bad_arguments_in_one_sentence(argument, capsys):
    assert main(["study", *argument.split()]) == 2
    (error,) = capsys.readouterr().err.strip().splitlines()
    field = argument.split()[0].lstrip("-").replace("-", " ")  # "train limit"
    assert error.startswith("error: ") and field in error.replace("-", " ")


def test_an_output_that_cannot_be_a_folder_is_refused_before_anything_trains(tmp_path, capsys):
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    assert main(["study", "--iterations", "1", "--seeds", "1", "--output", str(taken)]) == 2
    (error,) = capsys.readouterr().err.strip().splitlines()
    assert error.startswith(f"error: The study cannot write into {taken}")
