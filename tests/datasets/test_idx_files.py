"""IDX reader/writer and checksum verification on small files the tests make."""

import gzip

import numpy as np
import pytest

from deepnum.datasets.idx import DatasetFileError, read_idx, sha256sum, verify_sha256, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1])


def test_missing_file(tmp_path):
    with pytest.raises(DatasetFileError, match="does not exist"):
        read_idx(tmp_path / "nothing-idx1-ubyte")


def test_bad_magic(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"PK\x03\x04 not idx at all")
    with pytest.raises(DatasetFileError, match="not an IDX file"):
        read_idx(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    write_idx(path, np.zeros((4, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DatasetFileError, match="truncated or corrupt"):
        read_idx(path)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "images-idx3-ubyte.gz"
    write_idx(path, np.zeros((4, 28, 28), dtype=np.uint8))
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(DatasetFileError, match="corrupt"):
        read_idx(path)


def test_checksum_accepts_and_refuses(tmp_path):
    path = tmp_path / "f.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"hello")
    digest = sha256sum(path)
    verify_sha256(path, digest)
    with pytest.raises(DatasetFileError, match="fails its SHA-256 check"):
        verify_sha256(path, "0" * 64)
