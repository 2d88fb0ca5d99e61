"""Names PyTorch programs use outside the tensor API, with PyTorch's meaning on the CPU.

Legacy tensor types (``deepnum.FloatTensor([1, 2])``, ``x.type(deepnum.LongTensor)``,
``isinstance(x, deepnum.FloatTensor)``), the constants ``pi e inf nan``, ``finfo``/``iinfo``,
``dtype``, thread and determinism settings, and ``compile`` (the identity: deepnum has no
compiler, and the compiled program computes the same function).

    >>> import deepnum as torch
    >>> torch.LongTensor([1, 2]).dtype == torch.long
    True
    >>> isinstance(torch.zeros(2), torch.FloatTensor)
    True
"""

from __future__ import annotations

import math
import os

import numpy as np

from deepnum import _dtype
from deepnum.tensor import Size, Tensor

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan

dtype = np.dtype
"""The class of ``deepnum.float32`` etc.: ``isinstance(x.dtype, deepnum.dtype)`` holds."""


def finfo(type=None) -> np.finfo:
    """Machine limits of a floating dtype (``eps``, ``max``, ``min``, ``tiny``), default float32."""
    return np.finfo(_dtype.get_default_dtype() if type is None else _dtype.to_dtype(type))


def iinfo(type) -> np.iinfo:
    """Machine limits of an integer dtype (``max``, ``min``, ``bits``)."""
    return np.iinfo(_dtype.to_dtype(type))


class _TensorTypeMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args):
        """``T(2, 3)``: a tensor of that shape (zeros); ``T(data)``: the data as this dtype."""
        from deepnum.ops.creation import tensor

        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, Size):
                return Tensor._make(np.zeros(tuple(data), dtype=cls.dtype), False, None, 0)
            return tensor(data, dtype=cls.dtype)
        if not all(isinstance(a, (int, np.integer)) for a in args):
            raise TypeError(
                f"{cls.__name__}(): expected sizes (ints) or one sequence of data, got {args!r}"
            )
        return Tensor._make(np.zeros(tuple(int(a) for a in args), dtype=cls.dtype), False, None, 0)

    def __repr__(cls) -> str:
        return f"<class 'deepnum.{cls.__name__}'>"


def _tensor_type(name: str, dt: np.dtype):
    return _TensorTypeMeta(
        name, (), {"dtype": dt, "__doc__": f"Legacy name for tensors of dtype {dt}."}
    )


FloatTensor = _tensor_type("FloatTensor", _dtype.float32)
DoubleTensor = _tensor_type("DoubleTensor", _dtype.float64)
HalfTensor = _tensor_type("HalfTensor", _dtype.float16)
LongTensor = _tensor_type("LongTensor", _dtype.int64)
IntTensor = _tensor_type("IntTensor", _dtype.int32)
ShortTensor = _tensor_type("ShortTensor", _dtype.int16)
ByteTensor = _tensor_type("ByteTensor", _dtype.uint8)
CharTensor = _tensor_type("CharTensor", _dtype.int8)
BoolTensor = _tensor_type("BoolTensor", _dtype.bool)

TENSOR_TYPES = {
    t.__name__: t
    for t in (
        FloatTensor,
        DoubleTensor,
        HalfTensor,
        LongTensor,
        IntTensor,
        ShortTensor,
        ByteTensor,
        CharTensor,
        BoolTensor,
    )
}


def tensor_type_dtype(name: str):
    """``'torch.LongTensor'`` / ``'deepnum.LongTensor'`` / ``'LongTensor'`` -> int64, else None."""
    t = TENSOR_TYPES.get(name.rsplit(".", 1)[-1])
    return None if t is None else t.dtype


_threads = [os.cpu_count() or 1]


def set_num_threads(n: int) -> None:
    """Record the intra-op thread count that ``get_num_threads`` reports.

    deepnum computes with NumPy: its BLAS picks its thread count when NumPy loads (set
    ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` before importing deepnum to change it).
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    _threads[0] = n


def get_num_threads() -> int:
    """The value last given to ``set_num_threads`` (the number of CPUs by default)."""
    return _threads[0]


_deterministic = [False]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted: every deepnum op is already deterministic on the CPU (same seed, same run)."""
    _deterministic[0] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic[0]


_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
) -> None:
    """How tensors print, as ``torch.set_printoptions``.

    Args:
        precision: digits after the decimal point (4).
        threshold: more elements than this print only the edges (1000).
        edgeitems: entries shown at each edge of a summarised dimension (3).
        linewidth: characters per line (80).
        profile: ``'default'``, ``'short'`` or ``'full'`` presets, applied first.
        sci_mode: True forces scientific notation, False forbids it, None chooses (default).
    """
    from deepnum.tensor import PRINT_OPTIONS

    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(
                f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}"
            )
        PRINT_OPTIONS.update(_PROFILES[profile])
    for name, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            PRINT_OPTIONS[name] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode


def compile(model=None, **kwargs):
    """``torch.compile``: returns ``model`` itself (deepnum runs eagerly; results are the same).

    Works as ``compile(model)``, ``@compile`` and ``@compile(mode=...)``.
    """
    if model is None:
        return lambda fn: fn
    return model


__all__ = [
    "pi",
    "e",
    "inf",
    "nan",
    "dtype",
    "finfo",
    "iinfo",
    "set_num_threads",
    "get_num_threads",
    "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
    "compile",
    "set_printoptions",
    *TENSOR_TYPES,
]
