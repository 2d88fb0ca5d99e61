"""A minimal PNG encoder: 8-bit grayscale, grayscale+alpha, RGB and RGBA, no interlacing.

A PNG file is the 8-byte signature followed by chunks, each ``uint32 length (big-endian) | type
(4 ASCII letters) | data | uint32 CRC-32 of type and data``. Three chunks are enough:

* ``IHDR``: width, height, bit depth (8), colour type (0 gray, 4 gray+alpha, 2 RGB, 6 RGBA),
  compression, filter and interlace methods (all 0);
* ``IDAT``: the zlib-compressed scanlines, each row of pixels preceded by its filter type (0:
  the bytes as they are);
* ``IEND``: empty, the end of the file.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPE_BY_CHANNELS = {1: 0, 2: 4, 3: 2, 4: 6}


def _chunk(chunk_type: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(chunk_type + data)
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", checksum)


def encode_png(pixels: np.ndarray, compress_level: int = 6) -> bytes:
    """A PNG file of ``pixels``: a ``uint8`` array (height, width) or (height, width, channels)
    with 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) channels.

    Examples:
        >>> png = encode_png(np.zeros((2, 3, 3), dtype=np.uint8))
        >>> png[:8] == PNG_SIGNATURE, png[12:16]
        (True, b'IHDR')
    """
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise TypeError(f"encode_png expects uint8 pixels, got {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in COLOR_TYPE_BY_CHANNELS:
        raise ValueError(
            f"encode_png expects (H, W) or (H, W, C) pixels with C in 1..4, got {pixels.shape}"
        )
    height, width, channels = pixels.shape
    if height == 0 or width == 0:
        raise ValueError(f"a PNG image needs at least one pixel, got shape {pixels.shape}")
    header = struct.pack(">IIBBBBB", width, height, 8, COLOR_TYPE_BY_CHANNELS[channels], 0, 0, 0)
    rows = pixels.reshape(height, width * channels)
    filter_none = np.zeros((height, 1), dtype=np.uint8)
    scanlines = np.concatenate([filter_none, rows], axis=1).tobytes()
    return b"".join([
        PNG_SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib.compress(scanlines, compress_level)),
        _chunk(b"IEND", b""),
    ])
