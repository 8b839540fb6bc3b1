"""Hostile files made in the tests: pictures that lie about their size or depth, ZIP members patched to be
encrypted or packed with a method zipfile cannot unpack. Each is small, so no test waits on it."""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def digit(side: int = 28, shift: int = 0) -> np.ndarray:
    """A "1" with an anti-aliased edge, bright on dark, uint8 [side, side]."""
    image = np.zeros((side, side), np.uint8)
    s = side // 28
    image[6 * s:22 * s, 12 * s:16 * s] = 255
    image[6 * s:22 * s, 16 * s:17 * s] = 128
    return np.roll(image, shift, axis=1)


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A 28x28 PNG whose header declares width x height: a few hundred bytes that would decode to gigabytes."""
    data = bytearray(png_bytes(digit()))
    data[16:24] = struct.pack(">II", width, height)  # IHDR's width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # IHDR's checksum
    return bytes(data)


def patch_member(path: Path, member: str, *, flag: int = 0, method: int | None = None) -> None:
    """Set a general-purpose flag (1: encrypted) or the compression method of ``member``, in its local and
    central headers, as another tool would have written them."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(member).header_offset
    central = next(m.start() for m in re.finditer(b"PK\x01\x02", data)
                   if data[m.start() + 46:m.start() + 46 + len(member)] == member.encode())
    for offset, flags_at in ((local, 6), (central, 8)):
        (flags,) = struct.unpack_from("<H", data, offset + flags_at)
        struct.pack_into("<H", data, offset + flags_at, flags | flag)
        if method is not None:
            struct.pack_into("<H", data, offset + flags_at + 2, method)
    path.write_bytes(bytes(data))
