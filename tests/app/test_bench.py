"""The app's benchmark functions run (tiny sizes); the figures themselves are printed by the benchmark."""
from mnist_desktop import bench


def test_the_nine_is_one_long_stroke_inside_the_canvas():
    points = bench.nine_stroke(300)
    assert len(points) == 300
    assert all(0 < x < 1 and 0 < y < 1 for x, y in points)


def test_a_replayed_stroke_reaches_the_canvas_and_is_predicted(window):
    replay = bench.replay_stroke(window, bench.nine_stroke(40))
    assert 2 <= replay.delivered <= 40 and len(replay.move_ms) == replay.delivered - 1
    assert replay.recorded == len(window.canvas.drawing.strokes[-1].points) == replay.delivered
    assert replay.prediction is not None
    assert replay.answer_ms >= 0 and window.answers.settled


def test_a_tiny_soak_reports_memory_and_the_count_of_none(window):
    result = bench.soak(window, strokes=4, clear_every=2)
    assert [s["strokes"] for s in result["samples"]] == [0, 2, 4]
    assert all(s["rss_kib"] > 0 and s["none_refcount"] > 0 for s in result["samples"])
    assert result["strokes_recorded"] == 4  # every stroke's real mouse events reached the drawing
    assert window.canvas.drawing.blank and window.answers.settled  # cleared after the fourth, and answered


def test_the_reference_runs_the_same_seven_forward_passes_as_recognition():
    """The verdict's cost is timed against a reference that must do the recognition's work without the
    verdict: the same rendered drawing through the same seven models, giving the same answers."""
    import numpy as np
    import torch

    from mnist_desktop.core.predictor import Predictor
    from mnist_desktop.core.strokes import Drawing, Stroke

    predictor = Predictor()
    predictor.load_all()
    with_verdict, without_verdict = bench.recognition_workloads(
        predictor, Drawing(strokes=(Stroke(tuple(bench.nine_stroke()), width=0.07),)))
    recognition, logits = with_verdict(), without_verdict()
    assert sorted(logits) == sorted(recognition.probabilities) == sorted(predictor.available())
    for n, p in recognition.probabilities.items():
        assert np.allclose(torch.softmax(logits[n].double(), 1)[0].numpy(), p, atol=1e-5)
    assert recognition.verdict.digit == 9
