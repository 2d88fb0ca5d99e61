"""The protocol-buffer wire format, encoding side only: what TensorBoard's event files need.

A message is a concatenation of fields. Each field starts with a key, the varint
``(field_number << 3) | wire_type``, followed by its payload:

* wire type 0 (VARINT): an integer, 7 bits a byte, least significant first, the high bit set on
  every byte but the last; negative ``int64`` values are their 64-bit two's complement;
* wire type 1 (I64): a little-endian ``double``;
* wire type 2 (LEN): a varint byte count, then the bytes (strings, bytes, embedded messages, and
  packed repeated numbers);
* wire type 5 (I32): a little-endian ``float``.

Fields are written in field-number order, as the protobuf library does. Two presence rules
decide whether a field is written at all: a proto3 field *without* presence is left out when it
holds its default (0, empty) -- :func:`implicit`; a field *with* presence (a ``oneof`` member, an
embedded message) is written whenever it is set, even to its default -- :func:`optional`.
"""

from __future__ import annotations

import math
import struct

import numpy as np

VARINT, I64, LEN, I32 = 0, 1, 2, 5


def varint(value: int) -> bytes:
    """``value`` as a base-128 varint (negative values as their 64-bit two's complement).

    Examples:
        >>> varint(1).hex(), varint(150).hex(), varint(-1).hex()
        ('01', '9601', 'ffffffffffffffffff01')
    """
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    """The key that starts a field: field number and wire type in one varint."""
    return varint((number << 3) | wire_type)


def int_field(number: int, value: int) -> bytes:
    """An ``int32``/``int64``/``enum`` field.

    Examples:
        >>> int_field(1, 150).hex()
        '089601'
    """
    return key(number, VARINT) + varint(int(value))


def double_field(number: int, value: float) -> bytes:
    """A ``double`` field."""
    return key(number, I64) + struct.pack("<d", value)


def float_field(number: int, value: float) -> bytes:
    """A ``float`` field: ``value`` rounded to single precision (too large: infinity)."""
    with np.errstate(over="ignore"):
        single = np.array(value, dtype=np.float64).astype("<f4")
    return key(number, I32) + single.tobytes()


def bytes_field(number: int, data: bytes) -> bytes:
    """A length-delimited field: ``bytes``, or an embedded message given encoded."""
    return key(number, LEN) + varint(len(data)) + bytes(data)


message_field = bytes_field  # an embedded message is written as its encoded bytes


def string_field(number: int, text: str) -> bytes:
    """A ``string`` field (UTF-8).

    Examples:
        >>> string_field(2, "testing").hex()
        '120774657374696e67'
    """
    return bytes_field(number, text.encode("utf-8"))


def packed_doubles(number: int, values) -> bytes:
    """A packed ``repeated double`` field; nothing at all when there are no values."""
    array = np.asarray(values, dtype="<f8").reshape(-1)
    return bytes_field(number, array.tobytes()) if array.size else b""


def packed_floats(number: int, values) -> bytes:
    """A packed ``repeated float`` field; nothing at all when there are no values."""
    with np.errstate(over="ignore"):
        array = np.asarray(values, dtype=np.float64).astype("<f4").reshape(-1)
    return bytes_field(number, array.tobytes()) if array.size else b""


def is_default(value) -> bool:
    """Whether proto3 considers ``value`` the default: zero (but not ``-0.0``) or empty."""
    if isinstance(value, float):
        return value == 0.0 and math.copysign(1.0, value) > 0
    if isinstance(value, (bytes, str)):
        return len(value) == 0
    return value == 0


def implicit(encode, number: int, value) -> bytes:
    """``encode(number, value)`` for a field without presence: nothing when it holds its default.

    Examples:
        >>> implicit(int_field, 2, 0), implicit(int_field, 2, 3).hex()
        (b'', '1003')
    """
    return b"" if is_default(value) else encode(number, value)


def optional(encode, number: int, value) -> bytes:
    """``encode(number, value)`` for a field with presence: nothing only when ``value`` is None.

    Examples:
        >>> optional(float_field, 2, None), optional(float_field, 2, 0.0).hex()
        (b'', '1500000000')
    """
    return b"" if value is None else encode(number, value)
