import gzip
import struct

import numpy as np
import pytest
import torch

from trainer import DataNotFoundError, load_mnist
from trainer.data import ALL_FILES, ENV_VAR, IMAGES_MAGIC, LABELS_MAGIC, IdxError, read_idx


def write_idx(path, magic, shape, payload: bytes, compress=False):
    data = struct.pack(">I", magic) + struct.pack(f">{len(shape)}I", *shape) + payload
    (gzip.open if compress else open)(path, "wb").write(data)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_reads_valid_files(tmp_path, compress):
    pixels = np.arange(2 * 28 * 28, dtype=np.uint8)
    path = write_idx(tmp_path / ("i.gz" if compress else "i"), IMAGES_MAGIC, (2, 28, 28), pixels.tobytes(), compress)
    images = read_idx(path, IMAGES_MAGIC, 2)
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images.ravel(), pixels)
    labels = read_idx(write_idx(tmp_path / "l", LABELS_MAGIC, (3,), bytes([7, 1, 9])), LABELS_MAGIC, 3)
    assert labels.tolist() == [7, 1, 9]


def test_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "l", LABELS_MAGIC, (3,), bytes(3))
    with pytest.raises(IdxError, match="magic"):
        read_idx(path, IMAGES_MAGIC, 3)


def test_truncated(tmp_path):
    path = write_idx(tmp_path / "i", IMAGES_MAGIC, (2, 28, 28), bytes(28 * 28 + 5))
    with pytest.raises(IdxError, match="truncated"):
        read_idx(path, IMAGES_MAGIC, 2)


def test_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "i.gz", IMAGES_MAGIC, (2, 28, 28), bytes(2 * 28 * 28), compress=True)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(IdxError, match="cannot be read"):
        read_idx(path, IMAGES_MAGIC, 2)


def test_wrong_count(tmp_path):
    path = write_idx(tmp_path / "l", LABELS_MAGIC, (5,), bytes(5))
    with pytest.raises(IdxError, match="expected"):
        read_idx(path, LABELS_MAGIC, 3)


def test_real_mnist(mnist_dir):
    train_images, train_labels = load_mnist("train", mnist_dir, download=False)
    test_images, test_labels = load_mnist("test", mnist_dir, download=False)
    assert train_images.shape == (60_000, 28, 28) and train_images.dtype == torch.uint8
    assert test_images.shape == (10_000, 28, 28)
    assert train_labels.dtype == torch.int64 and test_labels.shape == (10_000,)
    assert torch.bincount(test_labels).tolist()[:3] == [980, 1135, 1032]  # the known class counts


def test_environment_variable_is_used(mnist_dir, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(mnist_dir))
    assert load_mnist("test", download=False)[0].shape == (10_000, 28, 28)


def test_missing_data_names_files_folder_and_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(DataNotFoundError) as error:
        load_mnist("test", tmp_path / "nowhere", download=False)
    message = str(error.value)
    assert all(name in message for name in ALL_FILES)
    assert str(tmp_path / "nowhere") in message and ENV_VAR in message


def test_corrupt_file_is_reported(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    for name in ALL_FILES:
        (tmp_path / name).write_bytes((mnist_dir / name).read_bytes())
    damaged = tmp_path / "t10k-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:100_000])
    with pytest.raises(DataNotFoundError, match="damaged"):
        load_mnist("test", tmp_path, download=False)
