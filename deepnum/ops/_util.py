"""Helpers shared by all ops: turning arguments into tensors, dtype promotion, un-broadcasting."""

from __future__ import annotations

import numbers

import numpy as np

from deepnum import _dtype
from deepnum.autograd.function import Function
from deepnum.tensor import Tensor


def as_tensor_arg(x) -> Tensor:
    """A tensor for ``x``: tensors pass through, arrays and numbers become constants."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x, False, None, 0)
    return Tensor._make(np.asarray(x, dtype=_dtype.infer_dtype(x)), False, None, 0)


def is_scalar(x) -> bool:
    return isinstance(x, (numbers.Number, np.bool_)) and not isinstance(x, np.ndarray)


def binary_operands(a, b):
    """Bring the two operands of a binary op to PyTorch's common dtype.

    Python numbers stay numbers (NumPy keeps the tensor's dtype for them), which saves an
    array allocation per op; arrays become constant tensors.
    """
    a_t = isinstance(a, Tensor)
    b_t = isinstance(b, Tensor)
    if a_t and b_t:
        da, db = a.array.dtype, b.array.dtype
        if da is db or da == db:
            return a, b
        dt = _dtype.promote(da, a.array.ndim, db, b.array.ndim)
        return cast(a, dt), cast(b, dt)
    if a_t and is_scalar(b):
        dt = _dtype.promote_scalar(a.array.dtype, b)
        return cast(a, dt), b
    if b_t and is_scalar(a):
        dt = _dtype.promote_scalar(b.array.dtype, a)
        return a, cast(b, dt)
    if not a_t and not b_t and (is_scalar(a) or is_scalar(b)):
        # both raw: happens inside a backward pass running on arrays
        return a, b
    return binary_operands(as_tensor_arg(a) if not is_scalar(a) else a, as_tensor_arg(b) if not is_scalar(b) else b)


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` as ``dtype`` (no copy when already so); differentiable between float dtypes."""
    dtype = np.dtype(dtype)
    if x.array.dtype == dtype:
        return x
    return Cast.apply(x, dtype)


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        if ctx.in_dtype.kind not in "fc":
            return None, None
        return Cast.apply(grad, ctx.in_dtype), None  # the gradient goes back in the input's dtype


class SumTo(Function):
    """Sum a broadcast gradient back down to ``shape``: undoes broadcasting in one place."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        if lead:
            y = y.reshape(shape)
        return y

    @staticmethod
    def backward(ctx, grad):
        return BroadcastTo.apply(grad, ctx.in_shape), None


class BroadcastTo(Function):
    """``expand``: a read-only broadcast view; its gradient sums back (SumTo)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return SumTo.apply(grad, ctx.in_shape), None


def sum_to(grad, shape):
    """``grad`` summed over broadcast dimensions so that it has ``shape``."""
    if grad.shape == shape:
        return grad
    return SumTo.apply(grad, tuple(shape))


def normalize_dim(dim: int, ndim: int, op: str = "op") -> int:
    """A dimension index in ``[0, ndim)``; PyTorch treats a 0-d tensor as having one dim."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})"
        )
    return dim % n


def normalize_dims(dim, ndim: int, op: str = "op"):
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative axes, or None."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    axes = tuple(sorted({normalize_dim(d, ndim, op) for d in dim}))
    if ndim == 0:
        return ()
    return axes
