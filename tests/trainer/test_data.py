import gzip
import os
import shutil
import struct
import tracemalloc
import urllib.error
import zlib

import numpy as np
import pytest
import torch

from trainer import DataNotFoundError, load_mnist
from trainer.data import (ALL_FILES, ENV_VAR, IMAGES_MAGIC, LABELS_MAGIC, IdxError, download_mnist, find_mnist,
                          read_idx)


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
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError) as error:
        load_mnist("test", tmp_path / "empty")
    message = str(error.value)
    assert all(name in message for name in ALL_FILES)
    assert str(tmp_path / "empty") in message and ENV_VAR in message and "mnist-train download" in message


def test_a_named_folder_that_does_not_exist_is_not_replaced(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(mnist_dir))  # would have the files, but the user named another folder
    with pytest.raises(DataNotFoundError, match="The MNIST folder .*nowhere does not exist; choose the folder"):
        load_mnist("test", tmp_path / "nowhere")


# One row per damaged header: (file name, magic, bytes in the file, words of the message). Each is found
# before the body is read, and none reaches struct.error.
SHORT_HEADERS = [
    ("t10k-images-idx3-ubyte", IMAGES_MAGIC, struct.pack(">IH", IMAGES_MAGIC, 1), "header is 6 bytes, not 16"),
    ("t10k-images-idx3-ubyte.gz", IMAGES_MAGIC, struct.pack(">IH", IMAGES_MAGIC, 1), "header is 6 bytes"),
    ("t10k-labels-idx1-ubyte", LABELS_MAGIC, struct.pack(">I", LABELS_MAGIC), "header is 4 bytes, not 8"),
    ("t10k-images-idx3-ubyte", IMAGES_MAGIC, b"\x00\x00", "wrong magic number"),
    ("t10k-images-idx3-ubyte", IMAGES_MAGIC, b"", "wrong magic number"),
    ("t10k-images-idx3-ubyte.gz", IMAGES_MAGIC, None, "cannot be read"),  # not gzip at all
]


@pytest.mark.parametrize("name, magic, content, words", SHORT_HEADERS)
def test_short_headers_are_a_sentence(tmp_path, mnist_dir, monkeypatch, name, magic, content, words):
    monkeypatch.delenv(ENV_VAR, raising=False)
    for real in ALL_FILES:
        shutil.copy(mnist_dir / real, tmp_path / real)
    (tmp_path / f"{name.removesuffix('.gz')}.gz").unlink()
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"not gzip")
    else:
        (gzip.open if name.endswith(".gz") else open)(path, "wb").write(content)
    with pytest.raises(IdxError, match=words):
        read_idx(path, magic, 10_000)
    with pytest.raises(DataNotFoundError, match=f"MNIST in .* is damaged: .*{words}"):
        load_mnist("test", tmp_path)


def test_a_label_above_9_is_found_when_reading(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    for real in ALL_FILES:
        shutil.copy(mnist_dir / real, tmp_path / real)
    labels = bytearray(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    labels[8 + 1234] = 12
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))
    with pytest.raises(DataNotFoundError, match="holds the label 12, but MNIST labels are the digits 0-9"):
        load_mnist("test", tmp_path)


def test_a_gzip_bomb_is_stopped_at_the_size_its_header_announces(tmp_path):
    """100 MB of zeros behind a header that announces 10,000 labels: reading stops after 10,001 bytes."""
    compressor = zlib.compressobj(wbits=31)  # gzip framing
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with open(path, "wb") as f:
        f.write(compressor.compress(struct.pack(">II", LABELS_MAGIC, 10_000)))
        chunk = bytes(1 << 20)
        for _ in range(100):
            f.write(compressor.compress(chunk))
        f.write(compressor.flush())
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(IdxError, match=r"more data than its header announces \(10000 bytes"):
            read_idx(path, LABELS_MAGIC, 10_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # the whole stream would be 100 MB


def fake_download(source, calls):
    """Stands in for torchvision's download_url: copies the real files instead of fetching them."""
    def download_url(url, root, filename, md5):
        calls.append(url)
        shutil.copy(source / filename, f"{root}/{filename}")
    return download_url


def test_nothing_is_downloaded_unless_asked(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    calls = []
    monkeypatch.setattr("torchvision.datasets.utils.download_url", fake_download(tmp_path, calls))
    with pytest.raises(DataNotFoundError, match="MNIST was not found"):
        find_mnist()
    with pytest.raises(DataNotFoundError):
        load_mnist("test")
    assert calls == []


def test_download_fills_the_folder_and_reports_progress(tmp_path, mnist_dir, monkeypatch):
    calls, progress = [], []
    monkeypatch.setattr("torchvision.datasets.utils.download_url", fake_download(mnist_dir, calls))
    folder = download_mnist(tmp_path / "mnist", progress=lambda done, total: progress.append((done, total)))
    assert folder == tmp_path / "mnist" and sorted(p.name for p in folder.iterdir()) == sorted(ALL_FILES)
    assert progress == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)] and len(calls) == 4
    assert load_mnist("test", folder)[0].shape == (10_000, 28, 28)


def test_a_failed_download_is_one_sentence_and_leaves_nothing(tmp_path, monkeypatch):
    def unreachable(url, root, filename, md5):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("torchvision.datasets.utils.download_url", unreachable)
    with pytest.raises(DataNotFoundError) as error:
        download_mnist(tmp_path / "mnist")
    message = str(error.value)
    assert message.startswith("Downloading MNIST failed at train-images-idx3-ubyte.gz (")
    assert "name resolution" in message and "check the internet connection" in message
    assert "yann.lecun.com" in str(error.value.__cause__)  # every mirror's error, for a Details view
    assert list((tmp_path / "mnist").iterdir()) == []


def test_a_cancelled_download_keeps_nothing(tmp_path, mnist_dir, monkeypatch):
    calls = []
    monkeypatch.setattr("torchvision.datasets.utils.download_url", fake_download(mnist_dir, calls))
    with pytest.raises(DataNotFoundError, match="cancelled"):
        download_mnist(tmp_path / "mnist", cancelled=lambda: len(calls) == 2)
    assert len(calls) == 2 and list((tmp_path / "mnist").iterdir()) == []


def test_corrupt_file_is_reported(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    for name in ALL_FILES:
        (tmp_path / name).write_bytes((mnist_dir / name).read_bytes())
    damaged = tmp_path / "t10k-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:100_000])
    with pytest.raises(DataNotFoundError, match="damaged"):
        load_mnist("test", tmp_path, download=False)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_pipe_named_like_an_mnist_file_is_never_opened(tmp_path, mnist_dir, monkeypatch):
    """Opening a FIFO for reading blocks until a writer comes: this test would hang if it were opened."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    for real in ALL_FILES:
        shutil.copy(mnist_dir / real, tmp_path / real)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    os.mkfifo(tmp_path / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(DataNotFoundError, match="lacks t10k-images-idx3-ubyte.gz"):
        load_mnist("test", tmp_path)
