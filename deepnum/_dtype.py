"""dtypes and PyTorch's type-promotion rules.

deepnum's dtypes are NumPy dtypes, so ``x.dtype == deepnum.float32`` and
``x.numpy().dtype == deepnum.float32`` both hold.
"""

from __future__ import annotations

import builtins

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001 - PyTorch's name

_default_float = float32


def get_default_dtype() -> np.dtype:
    """The dtype of floating tensors made from Python numbers (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype (float32 or float64), as ``torch.set_default_dtype``."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default_float = dtype


def to_dtype(dtype) -> np.dtype:
    """Normalise anything dtype-like (deepnum/NumPy dtype, Python type, string) to a NumPy dtype."""
    if dtype is None:
        return None
    if dtype is builtins.float:
        return _default_float
    if dtype is builtins.int:
        return int64
    return np.dtype(dtype)


def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point: PyTorch promotes across categories upward."""
    kind = dtype.kind
    if kind == "b":
        return 0
    if kind in "iu":
        return 1
    return 2


def infer_dtype(data) -> np.dtype:
    """dtype that ``deepnum.tensor(data)`` gives: default float for Python floats, int64 for ints."""
    arr = np.asarray(data)
    if arr.dtype.kind == "f" and not isinstance(data, np.ndarray):
        return _default_float
    if arr.dtype.kind in "iu" and not isinstance(data, np.ndarray):
        return int64
    return arr.dtype


def promote(a_dtype: np.dtype, a_ndim: int, b_dtype: np.dtype, b_ndim: int) -> np.dtype:
    """Result dtype of a binary op between two tensors, following PyTorch.

    A higher category (bool < int < float) always wins. Within a category, a 0-d tensor does
    not promote a dimensioned one (float32 tensor + float64 scalar tensor stays float32).
    """
    if a_dtype == b_dtype:
        return a_dtype
    ca, cb = category(a_dtype), category(b_dtype)
    if ca != cb:
        return a_dtype if ca > cb else b_dtype
    if (a_ndim == 0) != (b_ndim == 0):
        return b_dtype if a_ndim == 0 else a_dtype
    return np.promote_types(a_dtype, b_dtype)


def promote_scalar(t_dtype: np.dtype, scalar) -> np.dtype:
    """Result dtype of tensor (op) Python scalar: the scalar only lifts the category."""
    if isinstance(scalar, (builtins.bool, np.bool_)):
        return t_dtype
    if isinstance(scalar, (builtins.float, np.floating)):
        return t_dtype if t_dtype.kind in "fc" else _default_float
    if isinstance(scalar, complex):
        raise TypeError("deepnum does not support complex numbers")
    return int64 if t_dtype.kind == "b" else t_dtype
