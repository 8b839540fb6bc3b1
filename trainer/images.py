"""The project's one image decoder: a picture file or bytes -> grey levels, float32 [H, W] in [0, 1].

Every picture the project reads goes through decode_image: one opened in the window, `mnist-desktop predict`'s
files, the drawings' PNGs and the images of a drawings ZIP. What it guarantees:
- only a regular file is opened, up to MAX_FILE_BYTES; the pixel count is checked from the header, before
  anything is decoded (a 1 kB PNG can declare 20000x20000);
- 8-bit images keep their levels (/255); 16- and 32-bit integer and floating-point images are scaled by their
  real range (0 stays black, the brightest pixel becomes white; with negative values the darkest becomes
  black), not clipped to 8 bits, which turned them white or black; floats already within 0-1 are kept;
- transparent pixels are paper (white); palette, CMYK and the like go grey as Pillow converts them; a photo
  is turned upright as its EXIF orientation says; an animation is read at its first frame;
- anything else that cannot be read raises ImageError with one sentence.
"""
from __future__ import annotations

import io
import os
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError, UnreadableFileError
from .files import read_bounded

MAX_PIXELS = 40_000_000  # 40 MP: any photo of a digit
MAX_FILE_BYTES = 512 << 20  # a 40 MP uncompressed float TIFF in colour is 480 MB
WIDE_MODES = {"I", "F"}  # 32-bit integer and float grey; "I;16*" are the 16-bit ones
DAMAGED = (OSError, ValueError, SyntaxError, struct.error, EOFError, IndexError)  # what Pillow raises on bad data


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float grey levels in [0, 1] (or a uint8 image) as uint8 0-255."""
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    return np.ascontiguousarray(np.clip(np.round(image * 255), 0, 255).astype(np.uint8))


def _amount(pixels: int) -> str:
    return f"{pixels // 1_000_000} megapixels" if pixels >= 1_000_000 else f"{pixels:,} pixels"


def _too_large(name: str, max_pixels: int, size: tuple[int, int] | None = None) -> ImageError:
    dimensions = f" ({size[0]:,} x {size[1]:,} pixels)" if size else ""
    return ImageError(f"{name} is too large{dimensions}: images up to {_amount(max_pixels)} are read.")


def _scaled(levels: np.ndarray, name: str) -> np.ndarray:
    """Wide grey levels (16/32-bit integers, floats) -> [0, 1] by their real range."""
    floats, levels = levels.dtype.kind == "f", levels.astype(np.float32)
    if not np.isfinite(levels).all():
        raise ImageError(f"{name} holds pixel values that are not numbers (NaN or infinite).")
    low, high = float(levels.min(initial=0)), float(levels.max(initial=0))
    if floats and low >= 0 and high <= 1:
        return levels
    if low >= 0:
        return levels / high if high > 0 else levels
    return (levels - low) / (high - low)


def _grey(image: Image.Image, name: str) -> np.ndarray:
    if image.mode in WIDE_MODES or image.mode.startswith("I;16"):
        return _scaled(np.asarray(image), name)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)  # transparent is paper
    return np.asarray(image.convert("L"), np.float32) / 255


def decode_image(source: str | os.PathLike | bytes, name: str | None = None,
                 max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A picture (a path, or the file's bytes) as float32 grey levels [H, W] in [0, 1], ink as it was drawn
    (dark on light stays so); ImageError, one sentence naming ``name`` (default: the path), if it cannot be."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "the image"
        if len(source) > MAX_FILE_BYTES:
            raise ImageError(f"{name} is {len(source):,} bytes; images up to {MAX_FILE_BYTES:,} are read.")
    else:
        name = name or os.fspath(source)
        try:
            source = read_bounded(source, MAX_FILE_BYTES, "The image")  # a pipe or device is never opened
        except UnreadableFileError as e:
            raise ImageError(str(e)) from e
    with io.BytesIO(source) as file:
        try:
            # Pillow warns between 89 and 179 MP and raises above: both refused, like anything over max_pixels.
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                opened = Image.open(file)  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise _too_large(name, max_pixels) from e
        except UnidentifiedImageError as e:  # its own text names a BytesIO object
            raise ImageError(f"{name} cannot be opened as an image (it is in no format that can be read).") from e
        except DAMAGED as e:
            raise ImageError(f"{name} cannot be opened as an image ({e}).") from e
        with opened as image:
            if image.width * image.height > max_pixels:
                raise _too_large(name, max_pixels, image.size)
            try:
                image.load()  # the first frame of an animation
                return _grey(ImageOps.exif_transpose(image), name)  # a photo taken sideways reads as shown
            except DAMAGED as e:
                raise ImageError(f"{name} cannot be read as an image ({e}).") from e
