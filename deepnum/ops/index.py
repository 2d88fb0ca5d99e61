"""Indexing: ``x[idx]`` with ints, slices, None, ``...``, integer tensors/lists and masks.

Reading elements and adding into zeros are each other's adjoints: the gradient of ``x[idx]``
scatters-and-adds the incoming gradient back to where the elements came from
(``IndexAddInto``), and the gradient of that scatter reads them again. Writing both as
Functions keeps every backward differentiable. ``add_at`` is the fast scatter-add that
``gather``, ``index_select`` (ops/gather_scatter.py) and ``index_put`` share.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops.inplace import register_view
from deepnum.tensor import Tensor

_INDEX_ITEMS = (int, np.integer, slice, type(None), type(Ellipsis))


# ----------------------------------------------------------------------- x[index]
def _index_item(item):
    if isinstance(item, Tensor):
        item = item.array
    elif isinstance(item, list):
        item = np.asarray([i.array if isinstance(i, Tensor) else i for i in item])
        if item.size == 0:
            item = item.astype(np.int64)
    elif isinstance(item, (bool, np.bool_)):
        item = np.asarray(item)
    if isinstance(item, slice) and item.step is not None and int(item.step) <= 0:
        raise ValueError("step must be greater than zero")
    if isinstance(item, np.ndarray) and item.dtype.kind not in "biu":
        raise IndexError(
            f"tensors used as indices must be long, int, byte or bool tensors, got {item.dtype}"
        )
    return item


def _index_arrays(index):
    """The NumPy index for a PyTorch index (tensors and lists become arrays)."""
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, _INDEX_ITEMS) for i in items)


def _width(item) -> int:
    """How many dimensions of the tensor an index item consumes."""
    if item is None or item is Ellipsis:
        return 0
    return item.ndim if isinstance(item, np.ndarray) and item.dtype == bool else 1


def _check_index(x: Tensor, index, op: str = "index") -> None:
    """PyTorch's IndexError messages for integers and masks that do not fit the tensor."""
    items = index if isinstance(index, tuple) else (index,)
    consumed = [_width(i) for i in items]
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise IndexError(f"{op}: an index can only have a single ellipsis ('...')")
    if sum(consumed) > x.ndim:
        raise IndexError(
            f"too many indices for tensor of dimension {x.ndim} (index has "
            f"{sum(consumed)} entries)"
        )
    dim = 0
    for item, n in zip(items, consumed):
        if item is Ellipsis:
            dim += x.ndim - sum(consumed)
            continue
        if isinstance(item, (int, np.integer)):
            size = x.shape[dim]
            if not -size <= item < size:
                raise IndexError(
                    f"index {item} is out of bounds for dimension {dim} with size {size}"
                )
        elif isinstance(item, np.ndarray) and item.dtype == bool:
            if item.shape != x.shape[dim : dim + n]:
                raise IndexError(
                    f"The shape of the mask {list(item.shape)} at index {dim} does not match the "
                    f"shape of the indexed tensor {list(x.shape)} at index {dim}"
                )
        elif isinstance(item, np.ndarray) and item.size:
            size = x.shape[dim]
            bad = (item >= size) | (item < -size)
            if bad.any():
                raise IndexError(
                    f"index {int(item[bad].flat[0])} is out of bounds for dimension {dim} with "
                    f"size {size}"
                )
        dim += n



def add_at(out: np.ndarray, index, values) -> None:
    """``out[index] += values`` where repeated positions accumulate (``np.add.at``, but fast).

    Floating outputs go through ``np.bincount`` on flat positions, an order of magnitude
    faster than ``np.add.at`` for row-wise scatters (embedding and index_select gradients).
    """
    items = index if isinstance(index, tuple) else (index,)
    arrays = [k for k, i in enumerate(items) if isinstance(i, np.ndarray)]
    if (len(arrays) == 1 and items[arrays[0]].ndim == 1 and items[arrays[0]].dtype.kind in "iu"
            and all(i == slice(None) for k, i in enumerate(items) if k != arrays[0])):
        _add_rows(out, arrays[0], items[arrays[0]], values)
        return
    if out.dtype.kind != "f" or out.size >= 2**31:
        np.add.at(out, index, values)
        return
    positions = np.arange(out.size, dtype=np.intp).reshape(out.shape)[index]
    weights = np.broadcast_to(values, positions.shape)
    total = np.bincount(positions.reshape(-1), weights=weights.reshape(-1), minlength=out.size)
    out += total.reshape(out.shape).astype(out.dtype, copy=False)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return IndexAddInto.apply(grad, ctx.in_shape, ctx.index), None


class IndexAddInto(Function):
    """Add ``values`` into zeros of ``shape`` at ``index`` (repeats add up): x[index]'s adjoint."""

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.index = index
        out = np.zeros(shape, dtype=values.dtype)
        if _is_basic(index):
            out[index] = values
        else:
            add_at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None


def _add_rows(out: np.ndarray, axis: int, idx: np.ndarray, values) -> None:
    """``out[..., idx, ...] += values`` along ``axis``: sort the rows, sum runs of equal index."""
    n = out.shape[axis]
    idx = np.where(idx < 0, idx + n, idx)
    values = np.broadcast_to(values, out.shape[:axis] + idx.shape + out.shape[axis + 1:])
    order = np.argsort(idx, kind="stable")
    rows, starts = np.unique(idx[order], return_index=True)
    if rows.size == 0:
        return
    if rows.size == idx.size:  # no repeats: a plain fancy-indexed add
        target = np.moveaxis(out, axis, 0)
        target[idx] += np.moveaxis(values, axis, 0)
        return
    sums = np.add.reduceat(np.take(values, order, axis=axis), starts, axis=axis)
    target = np.moveaxis(out, axis, 0)
    target[rows] += np.moveaxis(sums, axis, 0)


def _masks_to_positions(index):
    """Bool masks as integer positions, which ``np.add.at`` accepts (the meaning is the same)."""
    items = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(i, np.ndarray) and i.dtype == bool for i in items):
        return index
    out = []
    for i in items:
        if isinstance(i, np.ndarray) and i.dtype == bool and i.ndim:
            out.extend(np.nonzero(i))
        else:
            out.append(i)
    return tuple(out)


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]``: ints, slices (positive steps), None, ``...``, integer tensors/lists, masks."""
    idx = _index_arrays(index)
    _check_index(x, idx)
    items = idx if isinstance(idx, tuple) else (idx,)
    if any(isinstance(i, np.ndarray) and i.dtype == bool and i.ndim > 0 for i in items):
        idx = _masks_to_positions(idx)
    out = GetItem.apply(x, idx)
    if _is_basic(idx) and out.array.base is not None:
        register_view(out, x, idx)  # a view, as in PyTorch: in-place ops on it reach x and back
    return out


TENSOR_METHODS = {"__getitem__": getitem}
