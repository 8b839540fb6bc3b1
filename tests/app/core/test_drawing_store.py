"""The user's labelled drawings: kept, reloaded, exported, imported, re-rendered, measured and trained on."""
import json
import zipfile

import numpy as np
import pytest

from mnist_desktop.core.drawing_store import DrawingStore, evaluate_on, to_uint8
from mnist_desktop.core.predictor import Predictor
from mnist_desktop.core.render import render_strokes
from mnist_desktop.core.strokes import Drawing, Stroke
from trainer.extra_data import DrawingsError, fine_tune_defaults
from trainer.iterations import ITERATIONS
from trainer.paths import shipped_weights_path
from trainer.training import EpochEnd, Finished, TrainConfig, train

BRUSH = 20 / 280  # the canvas's default brush, in canvas units


def barred_seven(rng: np.random.Generator) -> tuple[Stroke, ...]:
    """A 7 with a bar through it and a foot at the bottom, as some people write it (jittered): the shipped
    iteration 1 reads every one of these as a 2."""
    def jitter(x: float, y: float) -> tuple[float, float]:
        return x + rng.uniform(-0.03, 0.03), y + rng.uniform(-0.03, 0.03)

    body = (jitter(0.3, 0.25), jitter(0.7, 0.24), jitter(0.42, 0.8), jitter(0.72, 0.8))
    bar = (jitter(0.38, 0.53), jitter(0.68, 0.51))
    return Stroke(body, BRUSH), Stroke(bar, BRUSH)


def keep_sevens(store: DrawingStore, count: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(count):
        strokes = barred_seven(rng)
        store.add(render_strokes(Drawing(strokes=strokes)), strokes, 7, answers={1: 2})


def test_drawings_round_trip_through_the_folder_and_a_zip(tmp_path):
    store = DrawingStore(tmp_path / "a")
    keep_sevens(store, 3)
    drawings, problems = store.load()
    assert problems == [] and len(drawings) == 3
    first = drawings[0]
    assert first.label == 7 and first.answers == {1: 2} and len(first.strokes) == 2
    assert (store.folder / f"{first.id}.json").is_file()
    # The strokes are vectors: rendered again, they give exactly the image the models saw.
    assert np.array_equal(to_uint8(render_strokes(Drawing(strokes=first.strokes))), first.image)

    store.relabel(first, 1)
    store.delete(drawings[1])
    assert sorted(d.label for d in store.load()[0]) == [1, 7]
    assert store.export_zip(tmp_path / "mine.zip") == 2

    other = DrawingStore(tmp_path / "b")
    keep_sevens(other, 1, seed=5)
    result = other.import_zip(tmp_path / "mine.zip")
    assert (result.added, result.duplicates, result.problems) == (2, 0, [])
    again = other.import_zip(tmp_path / "mine.zip")
    assert (again.added, again.duplicates) == (0, 2)  # merged, without duplicates
    assert "0 drawings" in again.summary("mine.zip") and "2 were already kept" in again.summary("mine.zip")
    imported = {d.id: d for d in other.load()[0]}
    for original in store.load()[0]:
        copy = imported[original.id]
        assert (copy.label, copy.strokes, copy.answers, copy.created) == \
               (original.label, original.strokes, original.answers, original.created)
        assert np.array_equal(copy.image, original.image)
    assert len(imported) == 3


@pytest.mark.parametrize("label", [10, -1, "x", None, 7.5, True])
def test_a_label_outside_0_to_9_is_refused_and_nothing_is_written(tmp_path, label):
    store = DrawingStore(tmp_path)
    with pytest.raises(DrawingsError, match="must be one digit from 0 to 9"):
        store.add(np.zeros((28, 28), np.float32), (), label)
    assert store.load() == ([], [])


def test_a_broken_file_in_the_folder_costs_only_itself(tmp_path):
    store = DrawingStore(tmp_path)
    keep_sevens(store, 2)
    good = json.loads(next(store.folder.glob("*.json")).read_text())
    (store.folder / "garbage.json").write_text("{not json")
    (store.folder / "foreign.json").write_text(json.dumps({"format": "something else"}))
    (store.folder / "relabelled-by-hand.json").write_text(json.dumps(good | {"label": 12}))
    (store.folder / "no-image.json").write_text(json.dumps(good | {"image_png": "%%%"}))
    (store.folder / "a-folder.json").mkdir()
    drawings, problems = store.load()
    assert len(drawings) == 2 and len(problems) == 5
    assert all(p.count(". ") == 0 and p.endswith(".") for p in problems)  # one sentence each
    said = "\n".join(problems)
    assert "garbage.json was skipped: it is not readable JSON" in said
    assert "foreign.json was skipped: it is not a drawing saved by MNIST Desktop" in said
    assert "relabelled-by-hand.json was skipped: a label must be one digit from 0 to 9, not 12." in said
    assert "no-image.json was skipped: its image is missing or is not a base64 PNG" in said
    assert "a-folder.json is a folder, so it was not read." in said
    assert (store.folder / "garbage.json").is_file()  # left in place, nothing lost


def test_a_foreign_zip_is_refused_and_the_store_is_unchanged(tmp_path):
    store = DrawingStore(tmp_path / "store")
    keep_sevens(store, 1)
    foreign = tmp_path / "photos.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("holiday.jpg", b"...")
    with pytest.raises(DrawingsError, match="not an export of \"Your drawings\""):
        store.import_zip(foreign)
    assert len(store.load()[0]) == 1


def test_every_iteration_is_measured_on_the_drawings(tmp_path):
    store = DrawingStore(tmp_path)
    keep_sevens(store, 6)
    predictor = Predictor()
    predictor.load_all()
    results = evaluate_on(predictor, store.load()[0])
    assert sorted(results) == list(ITERATIONS)
    assert results[1].accuracy == 0 and results[1].confusion[7][2] == 6  # iteration 1 reads them as 2s
    assert sum(map(sum, results[5].confusion)) == 6


def test_fine_tuning_on_a_dozen_barred_sevens_learns_them_and_keeps_mnist(tmp_path, mnist_dir):
    """Iteration 1's shipped weights, fine-tuned (defaults: epochs, a tenth of the rate) for one epoch on the
    first 2,048 MNIST images plus 12 barred 7s: the held-out 7s go from wrong to right, and MNIST's test
    accuracy stays within 1.5 points of where it was."""
    store = DrawingStore(tmp_path)
    keep_sevens(store, 12)
    store.export_zip(tmp_path / "sevens.zip")
    config = TrainConfig(iteration=1, epochs=1, lr=fine_tune_defaults(ITERATIONS[1].recipe)["lr"],
                         train_limit=2048, device="cpu", data_dir=str(mnist_dir),
                         extra_data=str(tmp_path / "sevens.zip"), init_from=str(shipped_weights_path(1)))
    events = list(train(config))
    end = next(e for e in events if isinstance(e, EpochEnd))
    record = events[-1].checkpoint["fine_tune"] if isinstance(events[-1], Finished) else None
    assert (record["drawings"], record["trained_on"], record["held_out"]) == (12, 10, 2)
    assert record["before"]["extra_accuracy"] == 0
    assert end.extra_accuracy > record["before"]["extra_accuracy"]
    assert end.test_accuracy >= record["before"]["test_accuracy"] - 1.5


def test_a_drawing_restored_is_kept_as_it_was_and_an_import_names_what_it_added(tmp_path):
    store = DrawingStore(tmp_path / "a")
    keep_sevens(store, 2)
    first, second = store.load()[0]
    store.delete(first)
    store.restore(first)
    back = store.load()[0][0]
    assert (back.id, back.label, back.created, back.answers) == (first.id, first.label, first.created, first.answers)
    store.export_zip(tmp_path / "mine.zip")
    other = DrawingStore(tmp_path / "b")
    other.restore(second)
    assert other.import_zip(tmp_path / "mine.zip").ids == [first.id]  # the one already kept is not added
