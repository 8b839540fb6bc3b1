import csv

import numpy as np
import pytest
from PIL import Image

from mnist_desktop.core.preprocess import ImageError, bright_on_dark, load_image, to_mnist


def canvas_with(rect: tuple[int, int, int, int], size=(280, 280)) -> np.ndarray:
    gray = np.zeros(size, np.uint8)
    top, left, bottom, right = rect
    gray[top:bottom, left:right] = 255
    return gray


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    return (ys * image).sum() / image.sum(), (xs * image).sum() / image.sum()


def test_centre_of_mass_is_at_the_centre():
    out = to_mnist(canvas_with((10, 200, 100, 260)))  # a block in the top-right corner
    assert out.shape == (28, 28) and out.dtype == np.float32
    y, x = centre_of_mass(out)
    assert abs(y - 13.5) <= 1.0 and abs(x - 13.5) <= 1.0


def test_longer_side_is_20_and_aspect_ratio_kept():
    out = to_mnist(canvas_with((40, 100, 240, 150)))  # 200 tall, 50 wide
    rows, cols = np.nonzero(out > 0.5)
    assert rows.max() - rows.min() + 1 == 20
    assert cols.max() - cols.min() + 1 == 5


def test_intensity_is_stretched_to_one():
    gray = canvas_with((40, 100, 240, 150)) // 3  # faint ink
    out = to_mnist(gray)
    assert out.max() == pytest.approx(1.0) and out.min() == 0.0


def test_blank_and_speck_give_no_digit():
    assert to_mnist(np.zeros((280, 280), np.uint8)) is None
    assert to_mnist(canvas_with((100, 100, 104, 104))) is None  # a 4-pixel speck on a 280 canvas
    assert to_mnist(np.full((280, 280), 5, np.uint8)) is None  # dark noise


def test_polarity_dark_ink_on_light_paper_is_inverted(tmp_path):
    paper = 255 - canvas_with((20, 12, 60, 20), size=(80, 40))
    Image.fromarray(paper).save(tmp_path / "digit.png")
    gray = load_image(tmp_path / "digit.png")
    assert gray[0, 0] == 0 and gray[30, 15] == 255
    assert np.array_equal(bright_on_dark(canvas_with((20, 12, 60, 20))), canvas_with((20, 12, 60, 20)))


def test_unreadable_image_is_a_clear_error(tmp_path):
    bad = tmp_path / "digit.png"
    bad.write_bytes(b"\x89PNG not really")
    with pytest.raises(ImageError, match="cannot be opened as an image"):
        load_image(bad)


def hwd_as_canvas(path) -> np.ndarray:
    """A hwd1000 drawing (28x28, dark ink on white) as a 280x280 bright-on-dark canvas image."""
    image = Image.open(path).convert("L").resize((280, 280), Image.Resampling.BILINEAR)
    return 255 - np.asarray(image)


def test_hand_drawn_digits_are_recognised(hwd_dir):
    """Evaluation only: 1,000 drawings nobody here made, through to_mnist and the shipped iteration 5."""
    import torch

    from trainer import load_model
    from trainer.augment import normalize

    rows = list(csv.DictReader(open(hwd_dir / "dataset.csv")))
    images = np.stack([to_mnist(hwd_as_canvas(hwd_dir / row["image"])) for row in rows])
    labels = torch.tensor([int(row["label"]) for row in rows])
    with torch.no_grad():
        predicted = load_model(5)(normalize(torch.from_numpy(images))).argmax(1)
    accuracy = (predicted == labels).float().mean().item() * 100
    assert len(rows) == 1000 and accuracy >= 99.5
