"""Indexing: ``x[idx]`` with ints, slices, None, Ellipsis, integer tensors and bool masks."""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.tensor import Tensor


def _index_arrays(index):
    """The NumPy index for a PyTorch index (tensors become arrays)."""
    if isinstance(index, tuple):
        return tuple(_index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, list):
        return np.asarray([i.array if isinstance(i, Tensor) else i for i in index])
    return index


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.in_dtype, ctx.index = x.shape, x.dtype, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return IndexAddInto.apply(grad, ctx.in_shape, ctx.index), None


class IndexAddInto(Function):
    """Scatter ``values`` into zeros of ``shape`` at ``index`` (adding repeats): x[index]'s adjoint."""

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.index = index
        out = np.zeros(shape, dtype=values.dtype)
        if _is_basic(index):
            out[index] = values
        else:
            np.add.at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None


def _check_bounds(x: Tensor, index) -> None:
    items = index if isinstance(index, tuple) else (index,)
    dim = 0
    for item in items:
        if item is None:
            continue
        if item is Ellipsis:
            dim = x.ndim - sum(1 for i in items[items.index(item) + 1 :] if i is not None)
            continue
        if isinstance(item, (int, np.integer)) and dim < x.ndim:
            size = x.shape[dim]
            if not -size <= item < size:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with size {size}")
        if isinstance(item, np.ndarray) and item.dtype == bool:
            dim += item.ndim
        else:
            dim += 1


def getitem(x: Tensor, index) -> Tensor:
    idx = _index_arrays(index)
    _check_bounds(x, idx)
    return GetItem.apply(x, idx)


TENSOR_METHODS = {"__getitem__": getitem}
