"""``save`` / ``load``: checkpoints that never run code, are checksummed and written atomically.

A file is an uncompressed zip archive (so ``unzip -l`` shows what is inside)::

    deepnum/header.json       {"format": "deepnum", "version": 1, "arrays": [...], "object": tree}
    deepnum/arrays/<k>.npy    one NumPy .npy file per array, written with allow_pickle=False
    archive comment           "deepnum-sha256:" + SHA-256 (hex) of every byte before it

``tree`` is the JSON description of the saved object (see ``deepnum.serialization``).
The checksum covers the whole file except itself, so ``load`` refuses any truncation or
changed byte before it parses or builds anything: a damaged file raises, it never
half-loads. The archive is assembled in memory (checkpoints here are small) and then
written in one go; writing to a path goes to a temporary file in the same directory, which
is flushed, fsync'ed and renamed over the target (``os.replace`` is atomic), so a crash or
an error mid-write leaves any previous file intact.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import zipfile

import numpy as np

from deepnum import serialization

__all__ = ["save", "load"]

_FORMAT, _VERSION = "deepnum", 1
_HEADER = "deepnum/header.json"
_MARK = b"deepnum-sha256:"
_TRAILER = len(_MARK) + 64  # the archive comment: marker + hex digest


def _array_name(k: int) -> str:
    return f"deepnum/arrays/{k}.npy"


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _archive(tree, arrays) -> bytes:
    """The complete file: zip archive whose comment is the SHA-256 of all bytes before it."""
    header = json.dumps(
        {"format": _FORMAT, "version": _VERSION,
         "arrays": [_array_name(k) for k in range(len(arrays))], "object": tree},
        separators=(",", ":"),
    ).encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_HEADER, header)
        for k, array in enumerate(arrays):
            zf.writestr(_array_name(k), _npy_bytes(array))
        # a placeholder of the final length: the comment's length is part of the hashed bytes
        zf.comment = _MARK + b"0" * 64
    data = buf.getbuffer()
    digest = hashlib.sha256(data[:-64]).hexdigest().encode("ascii")
    data[-64:] = digest
    return bytes(data)


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms where directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 honours the umask, so the file gets the usual permissions
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def save(obj, f, pickle_module=None, pickle_protocol=None,
         _use_new_zipfile_serialization=True) -> None:
    """Save ``obj`` (tensors, arrays, scalars, strings and containers of them, or a whole
    ``Module``) to the path or binary file object ``f``. Never uses pickle.

    Args:
        obj: what to save. ``requires_grad``, dtype, ``Parameter``-ness, container types and
            dict key types are kept; an object referenced twice is stored once.
        f: a path (``str`` / ``os.PathLike``; written atomically) or a writable binary file.
        pickle_module, pickle_protocol, _use_new_zipfile_serialization: accepted for
            compatibility with ``torch.save`` and ignored.

    Examples:
        >>> import io, deepnum
        >>> buf = io.BytesIO()
        >>> deepnum.save({"w": deepnum.ones(2), "step": 3}, buf)
        >>> _ = buf.seek(0)
        >>> deepnum.load(buf)
        {'w': tensor([1., 1.]), 'step': 3}
    """
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise TypeError(
            f"deepnum.save: f must be a path or a binary file object, got {type(f).__name__}"
        )
    tree, arrays = serialization.encode(obj)
    data = _archive(tree, arrays)  # any failure happens before the file is touched
    if isinstance(f, (str, os.PathLike)):
        # through a symlink, replace its target rather than the link itself
        _atomic_write(os.path.realpath(os.fspath(f)), data)
    else:
        f.write(data)


def _corrupt(name: str, why: str) -> RuntimeError:
    return RuntimeError(f"deepnum.load: file '{name}' is corrupt or truncated ({why})")


def _read_verified(data: bytes, name: str):
    """Header dict and the raw .npy members, after every integrity check has passed."""
    if not data.startswith(b"PK"):
        raise RuntimeError(
            f"deepnum.load: file '{name}' is not a deepnum file (it is not a zip archive); "
            "deepnum only reads files written by deepnum.save"
        )
    if len(data) < _TRAILER or data[-_TRAILER:-64] != _MARK:
        if _is_torch_checkpoint(data):
            raise RuntimeError(
                f"deepnum.load: file '{name}' is a PyTorch pickle checkpoint; deepnum never "
                "unpickles. Re-save its state_dict from PyTorch as NumPy arrays (numpy.savez) "
                "and copy those into the model with load_state_dict"
            )
        raise _corrupt(name, "no checksum at the end of the file")
    if hashlib.sha256(data[:-64]).hexdigest().encode("ascii") != data[-64:]:
        raise _corrupt(name, "checksum mismatch")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            header = json.loads(zf.read(_HEADER))
            members = header["arrays"]
            blobs = [zf.read(m) for m in members]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as e:
        raise _corrupt(name, f"damaged archive: {e}") from None
    if header.get("format") != _FORMAT or not isinstance(header.get("version"), int):
        raise _corrupt(name, "not a deepnum header")
    if header["version"] > _VERSION:
        raise RuntimeError(
            f"deepnum.load: file '{name}' has format version {header['version']}; this deepnum "
            f"reads up to version {_VERSION}; upgrade deepnum"
        )
    return header, blobs


def _is_torch_checkpoint(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return any(n.endswith("data.pkl") for n in zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return False


def _check_map_location(map_location) -> None:
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return
    if str(map_location).split(":")[0] != "cpu":
        raise RuntimeError(
            f"deepnum.load: map_location={map_location!r}: deepnum runs on the CPU only; "
            "use map_location='cpu' or leave it out"
        )


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load an object saved by ``deepnum.save`` from a path or binary file object.

    Checks the SHA-256 before building anything; a corrupt or truncated file raises
    ``RuntimeError`` and returns nothing. Modules and other objects are rebuilt (without
    calling ``__init__``) only when their class is deepnum's own or allowed with
    ``deepnum.serialization.safe_globals([...])``; any other raises
    ``deepnum.serialization.UnpicklingError`` naming the class.

    Args:
        f: a path or a readable binary file object.
        map_location: ``None``, ``'cpu'`` or a CPU device (deepnum has no other device).
        weights_only: accepted for compatibility; since no file can run code, ``True``
            and ``False`` load the same way.
        pickle_module, mmap, **pickle_load_args: accepted for compatibility and ignored.
    """
    _check_map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    elif hasattr(f, "read"):
        name = getattr(f, "name", None) or "<file object>"
        data = f.read()
    else:
        raise TypeError(
            f"deepnum.load: f must be a path or a binary file object, got {type(f).__name__}"
        )
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(
            "deepnum.load: the file object must be opened in binary mode ('rb'); its read() "
            f"returned {type(data).__name__}"
        )
    header, blobs = _read_verified(bytes(data), str(name))
    try:
        arrays = [np.lib.format.read_array(io.BytesIO(b), allow_pickle=False) for b in blobs]
    except ValueError as e:
        raise _corrupt(str(name), f"bad array data: {e}") from None
    return serialization.decode(header["object"], arrays)
