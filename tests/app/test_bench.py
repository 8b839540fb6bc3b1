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
    assert replay.answer_ms >= 0 and window.prediction_settled


def test_a_tiny_soak_reports_memory_and_the_count_of_none(window):
    result = bench.soak(window, strokes=4, clear_every=2)
    assert [s["strokes"] for s in result["samples"]] == [0, 2, 4]
    assert all(s["rss_kib"] > 0 and s["none_refcount"] > 0 for s in result["samples"])
    assert window.canvas.drawing.blank  # cleared after the fourth stroke


def test_recognition_is_timed_with_and_without_the_verdict():
    figures = bench.recognition_latency()
    medians = [figures[f"drawing_to_seven_{kind}_verdict_ms"][0] for kind in ("with", "without")]
    assert figures["verdict_over_without"] == medians[0] / medians[1] > 0
