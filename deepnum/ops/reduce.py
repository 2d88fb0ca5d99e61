"""Reductions over dimensions with PyTorch's ``dim`` / ``keepdim`` semantics."""

from __future__ import annotations

import numpy as np

from deepnum import _dtype
from deepnum.autograd.function import Function
from deepnum.ops._util import BroadcastTo, as_tensor_arg, cast, normalize_dims
from deepnum.tensor import Tensor


def _dims(dim, axis, ndim, op):
    if axis is not None:
        dim = axis
    if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) == 0:
        dim = None  # PyTorch: an empty dim list reduces over everything
    return normalize_dims(dim, ndim, op)


def _keep(keepdim, keepdims):
    return bool(keepdims) if keepdims is not None else bool(keepdim)


def _expand_back(grad, in_shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes."""
    if not keepdim and axes:
        kept = list(in_shape)
        for a in axes:
            kept[a] = 1
        grad = grad.reshape(tuple(kept))
    return BroadcastTo.apply(grad, in_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # d(sum x)/dx_i = 1: the gradient is copied to every summed element
        return _expand_back(grad, ctx.in_shape, ctx.axes or tuple(range(len(ctx.in_shape))), ctx.keepdim), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        y = np.mean(x, axis=axes, keepdims=keepdim)
        ctx.count = x.size // max(y.size, 1) if x.size else 0
        return y

    @staticmethod
    def backward(ctx, grad):
        axes = ctx.axes or tuple(range(len(ctx.in_shape)))
        return _expand_back(grad / ctx.count, ctx.in_shape, axes, ctx.keepdim), None, None


def _accumulating_dtype(x: Tensor, dtype):
    if dtype is not None:
        return cast(x, _dtype.to_dtype(dtype))
    if x.array.dtype.kind in "biu":
        return cast(x, _dtype.int64)
    return x


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Sum over ``dim`` (all dims when None); integers and bools sum as int64."""
    x = _accumulating_dtype(as_tensor_arg(input), dtype)
    axes = _dims(dim, axis, x.ndim, "sum")
    return Sum.apply(x, axes, _keep(keepdim, keepdims))


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Arithmetic mean over ``dim``; like PyTorch, only for floating tensors."""
    x = as_tensor_arg(input)
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    if x.array.dtype.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, "
            f"got {x.array.dtype}; use .float() first"
        )
    axes = _dims(dim, axis, x.ndim, "mean")
    return Mean.apply(x, axes, _keep(keepdim, keepdims))


TENSOR_METHODS = {"sum": sum, "mean": mean}
