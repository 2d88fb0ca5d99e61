"""IDX files (the format of the original MNIST distribution): read, write, verify by SHA-256.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
uint32 dimension sizes, then the values in C order, big-endian. Files ending in ``.gz`` are
gzip-compressed. Reading checks the magic number and that the data has exactly the size the
header promises, so a truncated or corrupt file is refused with one clear sentence instead of
producing a wrong array.

References:
    Y. LeCun, C. Cortes, C. Burges, "The MNIST database of handwritten digits", 1998
    (file format described at http://yann.lecun.com/exdb/mnist/).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "write_idx", "sha256sum", "verify_sha256", "DatasetFileError"]

# IDX type code -> big-endian NumPy dtype
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_TYPES.items()}


class DatasetFileError(ValueError):
    """A dataset file is missing, truncated, corrupt or fails its checksum."""


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DatasetFileError(f"dataset file {path} does not exist")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise DatasetFileError(f"dataset file {path} is corrupt and cannot be read ({err})") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX (optionally gzipped) file into a native-endian NumPy array.

    Args:
        path: the file; a ``.gz`` suffix means gzip compression.

    Raises:
        DatasetFileError: the file is missing, has a wrong magic number, or its size does not
            match its header.

    Examples:
        >>> import tempfile, numpy as np
        >>> p = tempfile.mkdtemp() + "/x-idx1-ubyte"
        >>> write_idx(p, np.arange(3, dtype=np.uint8))
        >>> read_idx(p)
        array([0, 1, 2], dtype=uint8)
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DatasetFileError(f"dataset file {path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetFileError(f"dataset file {path} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DatasetFileError(
            f"dataset file {path} has {len(raw)} bytes but its header {shape} promises {expected}; "
            "it is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``)."""
    array = np.asarray(array)
    code = _TYPE_CODES.get(array.dtype)
    if code is None:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(_IDX_TYPES[code]).tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(payload)


def sha256sum(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str | os.PathLike, expected: str) -> None:
    """Raise ``DatasetFileError`` unless the file's SHA-256 digest equals ``expected``."""
    actual = sha256sum(path)
    if actual != expected:
        raise DatasetFileError(
            f"dataset file {path} fails its SHA-256 check (expected {expected[:12]}..., got {actual[:12]}...); "
            "delete it and download again"
        )
