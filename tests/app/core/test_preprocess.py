import csv
import os

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


# --- input validation: bad images generated here, one row each -------------------------------------------
def png_claiming(tmp_path, width: int, height: int):
    """A tiny PNG whose header claims ``width`` x ``height``: what a decompression bomb looks like before decoding."""
    import struct
    import zlib

    path = tmp_path / f"claims-{width}x{height}.png"
    Image.new("L", (8, 8)).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", width, height)  # IHDR's width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # IHDR's checksum
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("width, height", [(12_000, 12_000), (10_000, 10_000), (20_000, 20_000), (40_001, 1_000)])
def test_images_above_40_megapixels_are_refused_before_decoding(tmp_path, width, height, recwarn):
    """12000x12000 is ours to refuse; 10000x10000 makes Pillow warn and 20000x20000 makes it raise."""
    with pytest.raises(ImageError, match="is too large.*up to 40 megapixels are read"):
        load_image(png_claiming(tmp_path, width, height))
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_pipes_and_folders_are_never_opened(tmp_path):
    os.mkfifo(tmp_path / "digit.png")  # opening it would block until a writer came
    for path in (tmp_path / "digit.png", tmp_path):
        with pytest.raises(ImageError, match="is not a regular file"):
            load_image(path)
    with pytest.raises(ImageError, match="cannot be opened"):
        load_image(tmp_path / "absent.png")


def test_a_truncated_image_is_a_clear_error(tmp_path):
    path = tmp_path / "digit.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ImageError, match="cannot be read as an image"):
        load_image(path)


def test_exif_orientation_is_applied(tmp_path):
    """An upright 1 (80 tall, 40 wide) stored sideways with EXIF orientation 6, as phones save it."""
    upright = 255 - canvas_with((10, 16, 70, 24), size=(80, 40))
    stored = Image.fromarray(upright).rotate(90, expand=True)  # 40 tall, 80 wide on disk
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    stored.save(tmp_path / "photo.jpg", exif=exif, quality=95)
    gray = load_image(tmp_path / "photo.jpg")
    assert gray.shape == (80, 40)
    rows, cols = np.nonzero(gray > 128)
    assert rows.max() - rows.min() > 3 * (cols.max() - cols.min())  # the stroke stands upright


BAR = canvas_with((40, 100, 240, 150))

# Inputs to_mnist converts: each gives the same digit as the uint8 image.
SAME_AS_UINT8 = {
    "bool": BAR > 0,
    "float 0-1": BAR / 255.0,
    "float32 0-1": (BAR / 255).astype(np.float32),
    "int64 0-255": BAR.astype(np.int64),
    "uint16 0-255": BAR.astype(np.uint16),
}


@pytest.mark.parametrize("case", sorted(SAME_AS_UINT8))
def test_to_mnist_converts_other_grey_types(case):
    assert np.array_equal(to_mnist(SAME_AS_UINT8[case]), to_mnist(BAR))


# Inputs to_mnist refuses: each with one sentence.
NOT_GREY_IMAGES = {
    "a list": (BAR.tolist(), "must be a NumPy array, not a list"),
    "None": (None, "must be a NumPy array, not a NoneType"),
    "RGB": (np.stack([BAR] * 3, axis=-1), r"two dimensions \(rows, columns\), not the shape \(280, 280, 3\)"),
    "1-D": (BAR.ravel(), "two dimensions"),
    "NaN": (np.where(BAR > 0, np.nan, 0.0), "NaN or infinite"),
    "inf": (np.where(BAR > 0, np.inf, 0.0), "NaN or infinite"),
    "float 0-255": (BAR.astype(np.float64), "within 0-1, not 0-255"),
    "negative int": (BAR.astype(np.int32) - 1, "within 0-255, not -1-254"),
    "int above 255": (BAR.astype(np.int32) * 2, "within 0-255"),
    "object": (BAR.astype(object), "Pixels of type object are not grey levels"),
    "complex": (BAR.astype(np.complex64), "Pixels of type complex64"),
    "text": (BAR.astype(str), "are not grey levels"),
}


@pytest.mark.parametrize("case", sorted(NOT_GREY_IMAGES))
def test_to_mnist_refuses_what_is_not_a_grey_image(case):
    image, message = NOT_GREY_IMAGES[case]
    with pytest.raises(ImageError, match=message):
        to_mnist(image)


def test_an_empty_image_holds_no_digit():
    assert to_mnist(np.zeros((0, 0), np.float32)) is None
