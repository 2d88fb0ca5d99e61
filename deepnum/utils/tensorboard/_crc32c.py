"""CRC-32C (Castagnoli), the checksum of TFRecord files, and TensorFlow's masked form of it.

CRC-32C is the reflected CRC with polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF
(RFC 3720, section B.4). It is computed a byte at a time with a 256-entry table: entry ``b`` is
the remainder of the byte ``b`` alone, so each step folds one input byte into the running value.

TFRecords store the CRC *masked* (rotated right by 15 bits, plus a constant), because a CRC
computed over data that itself contains CRCs is weak.
"""

from __future__ import annotations

__all__ = ["crc32c", "masked_crc32c"]

_POLYNOMIAL = 0x82F63B78  # 0x1EDC6F41 with its bits reversed (the reflected form)
_MASK_DELTA = 0xA282EAD8
_UINT32 = 0xFFFFFFFF


def _remainder_of_byte(byte: int) -> int:
    """The CRC remainder of one byte: eight shift-and-subtract steps of the polynomial."""
    crc = byte
    for _ in range(8):
        crc = (crc >> 1) ^ _POLYNOMIAL if crc & 1 else crc >> 1
    return crc


_TABLE = tuple(_remainder_of_byte(byte) for byte in range(256))


def crc32c(data: bytes, crc: int = 0) -> int:
    """The CRC-32C of ``data``; pass a previous result as ``crc`` to continue over more data.

    Examples:
        >>> hex(crc32c(b"123456789"))
        '0xe3069283'
        >>> crc32c(b"6789", crc32c(b"12345")) == crc32c(b"123456789")
        True
    """
    table = _TABLE
    crc ^= _UINT32
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _UINT32


def masked_crc32c(data: bytes) -> int:
    """The CRC-32C of ``data`` as TFRecords store it: rotated right 15 bits, plus a constant.

    Examples:
        >>> hex(masked_crc32c(b""))
        '0xa282ead8'
    """
    crc = crc32c(data)
    rotated = ((crc >> 15) | (crc << 17)) & _UINT32
    return (rotated + _MASK_DELTA) & _UINT32
