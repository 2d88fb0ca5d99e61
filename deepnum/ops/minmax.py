"""Extremes: max, min, amax, amin, argmax, argmin.

Two gradient rules, both PyTorch's. ``max(x, dim)`` returns ``(values, indices)`` and the
gradient goes to the element at the returned index only. ``amax``/``amin`` and the full
reductions ``max(x)``/``min(x)`` split the gradient evenly among tied extremes.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, normalize_dim, normalize_dims
from deepnum.ops.elementwise import maximum, minimum
from deepnum.ops.gather_scatter import Gather
from deepnum.ops.reduce import _expand_back
from deepnum.tensor import Tensor

return_max = namedtuple("max", ["values", "indices"])
return_min = namedtuple("min", ["values", "indices"])


class Extreme(Function):
    """max or min over ``axes``; ties share the gradient equally (PyTorch's amax rule)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        y = (np.max if largest else np.min)(x, axis=axes, keepdims=True)
        hits = (x == y) | (np.isnan(y) & np.isnan(x)) if x.dtype.kind == "f" else x == y
        ctx.share = hits / hits.sum(axis=axes, keepdims=True).astype(x.dtype)
        return y if keepdim else y.reshape(_squeezed(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        g = _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim)
        return g * ctx.share.astype(g.dtype), None, None, None


def _squeezed(shape, axes):
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _extreme(name, largest, input, dim, keepdim):
    x = as_tensor_arg(input)
    if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) == 0:
        dim = None
    axes = normalize_dims(dim, x.ndim, name)
    axes = tuple(range(x.ndim)) if axes is None else axes
    for a in axes:
        if x.shape[a] == 0:
            if dim is None:
                raise RuntimeError(
                    f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                    "Specify the reduction dim with the 'dim' argument."
                )
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")
    return Extreme.apply(x, axes, bool(keepdim), largest)


def amax(input, dim=(), keepdim=False) -> Tensor:
    """Largest value over ``dim`` (all dims when empty); tied maxima share the gradient."""
    return _extreme("amax", True, input, dim, keepdim)


def amin(input, dim=(), keepdim=False) -> Tensor:
    """Smallest value over ``dim`` (all dims when empty); tied minima share the gradient."""
    return _extreme("amin", False, input, dim, keepdim)


def _arg_extreme(name, largest, x: Tensor, dim, keepdim):
    """Index of the first extreme along ``dim`` (NaN counts as the extreme, as in PyTorch)."""
    fn = np.argmax if largest else np.argmin
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        idx = np.asarray(fn(x.array.reshape(-1)), dtype=np.int64)
        return idx.reshape((1,) * x.ndim) if keepdim else idx
    axis = normalize_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return np.zeros((), dtype=np.int64)
    if x.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    idx = fn(x.array, axis=axis, keepdims=True).astype(np.int64)
    return idx if keepdim else idx.reshape(_squeezed(x.shape, (axis,)))


def argmax(input, dim=None, keepdim=False) -> Tensor:
    """Index of the (first) largest element along ``dim``, or of the flattened tensor."""
    x = as_tensor_arg(input)
    return Tensor._make(_arg_extreme("argmax", True, x, dim, keepdim), False, None, 0)


def argmin(input, dim=None, keepdim=False) -> Tensor:
    """Index of the (first) smallest element along ``dim``, or of the flattened tensor."""
    x = as_tensor_arg(input)
    return Tensor._make(_arg_extreme("argmin", False, x, dim, keepdim), False, None, 0)


def _reduce_with_indices(name, largest, x: Tensor, dim, keepdim):
    axis = normalize_dim(dim, x.ndim, name)
    if x.ndim == 0:
        index = Tensor._make(np.zeros((), np.int64), False, None, 0)
        return (return_max if largest else return_min)(x.reshape(()), index)
    idx = _arg_extreme(name, largest, x, axis, True)
    values = Gather.apply(x, axis, idx)  # the gradient goes to the returned index only
    if not keepdim:
        values = values.reshape(_squeezed(x.shape, (axis,)))
        idx = idx.reshape(_squeezed(x.shape, (axis,)))
    result = return_max if largest else return_min
    return result(values, Tensor._make(idx, False, None, 0))


def max(input, dim=None, keepdim=False):
    """``max(x)``: the largest element; ``max(x, dim)``: ``(values, indices)``; ``max(x, y)``.

    ``max(x)`` shares the gradient evenly among tied maxima; ``max(x, dim)`` sends it to the
    returned index (the first maximum); ``max(x, y)`` is ``maximum(x, y)``.

    Examples:
        >>> deepnum.max(deepnum.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
        max(values=tensor([5., 7.]), indices=tensor([1, 0]))
    """
    x = as_tensor_arg(input)
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    if dim is None:
        return _extreme("max", True, x, None, False)
    return _reduce_with_indices("max", True, x, dim, keepdim)


def min(input, dim=None, keepdim=False):
    """``min(x)``: the smallest element; ``min(x, dim)``: ``(values, indices)``; ``min(x, y)``.

    ``min(x, y)`` is ``minimum(x, y)``.
    """
    x = as_tensor_arg(input)
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    if dim is None:
        return _extreme("min", False, x, None, False)
    return _reduce_with_indices("min", False, x, dim, keepdim)


return_cummax = namedtuple("cummax", ["values", "indices"])
return_cummin = namedtuple("cummin", ["values", "indices"])


def _cumulative_extreme(name, largest, input, dim):
    """Running max/min along ``dim``; each index is the latest position holding the extreme."""
    x = as_tensor_arg(input)
    axis = normalize_dim(dim, x.ndim, name)
    xn = x.reshape(1) if x.ndim == 0 else x
    a = xn.array
    running = (np.maximum if largest else np.minimum).accumulate(a, axis=axis)
    positions = np.arange(a.shape[axis]).reshape((-1,) + (1,) * (a.ndim - axis - 1))
    hits = np.where(a == running, positions, 0)  # a new extreme, or a tie with it
    idx = np.maximum.accumulate(hits, axis=axis).astype(np.int64)
    values = Gather.apply(xn, axis, idx)
    result = return_cummax if largest else return_cummin
    if x.ndim == 0:
        return result(values.reshape(()), Tensor._make(idx.reshape(()), False, None, 0))
    return result(values, Tensor._make(idx, False, None, 0))


def cummax(input, dim: int):
    """Running maximum along ``dim`` with the index of each; the gradient goes to that index."""
    return _cumulative_extreme("cummax", True, input, dim)


def cummin(input, dim: int):
    """Running minimum along ``dim`` with the index of each; the gradient goes to that index."""
    return _cumulative_extreme("cummin", False, input, dim)


def aminmax(input, *, dim=None, keepdim=False):
    dims = () if dim is None else dim
    return amin(input, dims, keepdim), amax(input, dims, keepdim)


TENSOR_METHODS = {
    "max": max, "min": min, "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin,
    "aminmax": aminmax, "cummax": cummax, "cummin": cummin,
}
__all__ = ["max", "min", "amax", "amin", "argmax", "argmin", "aminmax", "cummax", "cummin"]
