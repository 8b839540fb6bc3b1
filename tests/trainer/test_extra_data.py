"""The drawings ZIP as training data: its format, its bad inputs, the held-out split, and the CLI fine-tune."""
import zipfile

import numpy as np
import pytest

from trainer.cli import main
from trainer.data import IMAGES_MAGIC, LABELS_MAGIC, load_mnist, read_idx
from trainer.extra_data import (IDX_IMAGES, IDX_LABELS, LABELS_CSV, DrawingsError, DrawingsMix, image_png,
                                read_zip, write_zip)
from trainer.runs import RunStore


@pytest.fixture
def digits(mnist_dir):
    """Ten MNIST test images standing in for drawings: uint8 [10, 28, 28] and their labels."""
    images, labels = load_mnist("test", mnist_dir)
    return images[:10].numpy(), labels[:10].tolist()


def write(path, images, labels):
    ids = [f"d{i}" for i in range(len(labels))]
    return write_zip(path, ids, images, labels, [{"id": i, "label": l} for i, l in zip(ids, labels)])


def test_a_zip_round_trips_and_its_idx_files_read_like_mnist(tmp_path, digits):
    images, labels = digits
    path = write(tmp_path / "mine.zip", images, labels)
    data = read_zip(path)
    assert data.ids == [f"d{i}" for i in range(10)] and data.problems == []
    assert np.array_equal(data.images, images) and data.labels.tolist() == labels
    assert data.records["d3"]["label"] == labels[3]
    with zipfile.ZipFile(path) as archive:
        archive.extract(IDX_IMAGES, tmp_path)
        archive.extract(IDX_LABELS, tmp_path)
    assert np.array_equal(read_idx(tmp_path / IDX_IMAGES, IMAGES_MAGIC, 10), images)  # MNIST's own reader
    assert read_idx(tmp_path / IDX_LABELS, LABELS_MAGIC, 10).tolist() == labels


def test_each_broken_row_is_one_sentence_and_the_rest_is_kept(tmp_path, digits):
    images, labels = digits
    path = write(tmp_path / "mine.zip", images[:3], labels[:3])
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("images/garbage.png", b"not a png")
        archive.writestr("images/big.png", image_png(np.zeros((30, 30), np.uint8)))
        rows = archive.read(LABELS_CSV).decode() + ("x1,12,images/d0.png\nx2,7,images/garbage.png\n"
                                                     "x3,7,images/big.png\nx4,7,images/absent.png\n")
    rewritten = tmp_path / "edited.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for name in source.namelist():
            target.writestr(name, rows if name == LABELS_CSV else source.read(name))
    data = read_zip(rewritten)
    assert data.ids == ["d0", "d1", "d2"]
    assert len(data.problems) == 4
    assert "Row 5 of labels.csv in edited.zip was left out: a label must be one digit from 0 to 9, not '12'." \
        == data.problems[0]
    assert "garbage.png cannot be opened as an image" in data.problems[1] and "30x30 pixels, not 28x28" in data.problems[2]
    assert "'images/absent.png' is missing" in data.problems[3]


@pytest.mark.parametrize("content, message", [
    (b"PK but not really a zip", "is not a ZIP file, or it is damaged"),
    (None, "is a ZIP but not an export of \"Your drawings\": it has no labels.csv"),
])
def test_a_foreign_or_corrupt_zip_is_refused_in_one_sentence(tmp_path, content, message):
    path = tmp_path / "other.zip"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "something else")
    else:
        path.write_bytes(content)
    with pytest.raises(DrawingsError, match=message):
        read_zip(path)


def test_a_fifth_is_held_out_by_the_seed(tmp_path, digits):
    images, labels = digits
    data = read_zip(write(tmp_path / "mine.zip", images, labels))
    train, held = data.split(seed=0)
    assert len(held) == 2 and len(train) == 8 and set(train) | set(held) == set(range(10))
    assert [a.tolist() for a in data.split(seed=0)] == [train.tolist(), held.tolist()]
    assert any(data.split(seed=s)[1].tolist() != held.tolist() for s in range(1, 5))


def test_the_drawings_join_each_batch_without_touching_its_mnist_part(tmp_path, digits):
    import torch

    images, labels = digits
    mix = DrawingsMix(write(tmp_path / "mine.zip", images, labels), seed=0, per_batch=8, device="cpu")
    x, y = torch.zeros(64, 1, 28, 28), torch.zeros(64, dtype=torch.long)
    joined_x, joined_y = mix.join(x, y, augmented=True)
    assert joined_x.shape == (72, 1, 28, 28) and torch.equal(joined_x[:64], x) and torch.equal(joined_y[:64], y)
    held = set(map(tuple, mix.held_images.flatten(1).tolist()))
    assert set(joined_y[64:].tolist()) <= set(mix.labels.tolist())
    assert not held & set(map(tuple, mix.images.flatten(1).tolist()))  # the held-out fifth is never trained on
    with pytest.raises(DrawingsError, match="needs at least 2"):
        DrawingsMix(write(tmp_path / "one.zip", images[:1], labels[:1]), seed=0, per_batch=8, device="cpu")


def test_the_cli_fine_tunes_and_shows_both_figures_before_and_after(tmp_path, digits, mnist_dir, capsys):
    images, labels = digits
    path = write(tmp_path / "mine.zip", images, labels)
    code = main(["train", "5", "--extra-data", str(path), "--train-limit", "256", "--epochs", "1",
                 "--device", "cpu", "--data-dir", str(mnist_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert "lr 0.0002" in out  # a tenth of the recipe's rate
    assert "fine-tuned from" in out and "iteration5.pt" in out
    assert "MNIST test accuracy" in out and "your 2 held-out drawings" in out
    run = RunStore().list_runs()[0]
    assert run.iteration == 5 and run.epochs == 1


def test_the_cli_refuses_a_bad_zip_with_exit_code_2(tmp_path, mnist_dir, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"garbage")
    assert main(["train", "5", "--extra-data", str(bad), "--device", "cpu", "--data-dir", str(mnist_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == 'error: bad.zip is not a ZIP file, or it is damaged. Choose a ZIP exported from "Your drawings".'
    assert RunStore().list_runs() == []
