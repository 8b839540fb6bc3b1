"""The one image decoder: every picture the project reads, scaled to [0, 1] by its real range, bounded before
it is decoded, one sentence when it cannot be read."""
import io
import os

import numpy as np
import pytest
from PIL import Image

from tests.hostile import digit, png_bytes, png_claiming
from trainer.errors import ImageError
from trainer.images import decode_image


def ink_on_paper(dtype, paper, ink) -> np.ndarray:
    """A dark "1" on light paper, 40x30, at the given levels."""
    image = np.full((40, 30), paper, dtype)
    image[5:35, 12:16] = ink
    return image


@pytest.mark.parametrize("levels, paper, ink", [
    (ink_on_paper(np.uint8, 255, 51), 1.0, 0.2),
    (ink_on_paper(np.uint16, 60000, 12000), 1.0, 0.2),  # 16-bit: clipped to 8 bits it was all white
    (ink_on_paper(np.uint16, 4000, 800), 1.0, 0.2),  # 12 bits in a 16-bit PNG
    (ink_on_paper(np.int32, 250000, 50000), 1.0, 0.2),  # 32-bit TIFF
    (ink_on_paper(np.float32, 1.0, 0.2), 1.0, 0.2),  # float within 0-1: as it is (clipped it was 0 or 1)
    (ink_on_paper(np.float32, 40.0, 8.0), 1.0, 0.2),  # float above 1: by its brightest pixel
    (ink_on_paper(np.float32, 10.0, -10.0), 1.0, 0.0),  # negative: darkest black, brightest white
])
def test_wide_images_are_scaled_by_their_real_range_not_clipped(tmp_path, levels, paper, ink):
    path = tmp_path / ("digit.png" if levels.dtype.kind == "u" else "digit.tiff")
    Image.fromarray(levels).save(path)
    grey = decode_image(path)
    assert grey.dtype == np.float32 and grey.shape == (40, 30)
    assert grey[0, 0] == pytest.approx(paper) and grey[20, 13] == pytest.approx(ink, abs=1e-6)


def photo(mode: str, **save) -> bytes:
    """A dark "1" on white, 56x56, saved in ``mode``."""
    buffer = io.BytesIO()
    Image.fromarray(255 - digit(56)).convert(mode).save(buffer, save.pop("format", "PNG"), **save)
    return buffer.getvalue()


@pytest.mark.parametrize("mode, save", [
    ("1", {}), ("P", {}), ("RGB", {}), ("CMYK", {"format": "JPEG", "quality": 95}),
    ("RGBA", {}), ("LA", {}),
])
def test_every_colour_mode_reads_as_the_same_grey(mode, save):
    grey = decode_image(photo(mode, **save))
    assert grey.shape == (56, 56)
    assert grey[2, 2] > 0.95 and grey[25, 26] < 0.1  # paper white, ink dark


def test_transparent_pixels_are_paper_and_an_animation_is_read_at_its_first_frame(tmp_path):
    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent black: paper
    rgba[5:15, 8:12] = (0, 0, 0, 255)  # an opaque black stroke
    assert decode_image(png_bytes(rgba))[0, 0] == 1.0 and decode_image(png_bytes(rgba))[10, 10] == 0.0
    first, second = Image.fromarray(255 - digit(56)), Image.new("L", (56, 56), 255)
    first.save(tmp_path / "a.gif", save_all=True, append_images=[second])
    assert decode_image(tmp_path / "a.gif").min() < 0.1  # the blank second frame is not what is read


def test_exif_orientation_turns_a_sideways_photo_upright(tmp_path):
    stored = Image.fromarray(ink_on_paper(np.uint16, 60000, 12000)).rotate(90, expand=True)  # 30 tall, 40 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display", as phones save it
    stored.save(tmp_path / "photo.tiff", exif=exif)
    assert decode_image(tmp_path / "photo.tiff").shape == (40, 30)


def nan_tiff(path):
    Image.fromarray(np.full((4, 4), np.nan, np.float32)).save(path)


# Each hostile picture: how it is made, and the one sentence it gives. None of them is decoded: a pixel bomb
# is refused from its header, a pipe is never opened.
HOSTILE = {
    "a 1 kB PNG declaring 20000x20000": (lambda p: p.write_bytes(png_claiming(20_000, 20_000)),
                                         r"is too large: images up to 40 megapixels are read\.$"),
    "a PNG declaring 8000x8000": (lambda p: p.write_bytes(png_claiming(8_000, 8_000)),
                                    r"is too large \(8,000 x 8,000 pixels\): images up to 40 megapixels"),
    "text named .png": (lambda p: p.write_text("not an image"),
                        r"cannot be opened as an image \(it is in no format that can be read\)\.$"),
    "a truncated PNG": (lambda p: p.write_bytes(png_bytes(digit(280))[:100]), r"cannot be read as an image"),
    "NaN in a float TIFF": (nan_tiff, r"holds pixel values that are not numbers \(NaN or infinite\)\.$"),
    "a pipe": (lambda p: os.mkfifo(p), r"is not a regular file \(a pipe, socket or device\), so it was not read\.$"),
    "a link to /dev/zero": (lambda p: p.symlink_to("/dev/zero"), r"is not a regular file"),
    "a folder": (lambda p: p.mkdir(), r"is a folder, so it was not read\.$"),
    "a missing file": (lambda p: None, r"does not exist\.$"),
}


@pytest.mark.parametrize("make, sentence", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_picture_is_one_sentence(tmp_path, make, sentence, recwarn):
    path = tmp_path / "digit.tiff"
    make(path)
    with pytest.raises(ImageError, match=sentence) as raised:
        decode_image(path)
    assert str(path) in str(raised.value) and str(raised.value).count(". ") == 0
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_bytes_are_named_as_the_caller_says_and_bounded_by_its_pixel_limit():
    with pytest.raises(ImageError, match=r"^images/x\.png is too large \(30 x 30 pixels\): images up to 784 pixels"):
        decode_image(png_bytes(digit(30)), "images/x.png", max_pixels=784)
    assert decode_image(png_bytes(digit())).max() == 1.0
