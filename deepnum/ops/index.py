"""Indexing: ``x[idx]``, gather, scatter, scatter_add, index_select, masked_fill, index_fill.

Reading elements and adding into zeros are each other's adjoints: the gradient of
``x[idx]`` (or ``gather``, ``index_select``) scatters-and-adds the incoming gradient back to
where the elements came from, and the gradient of that scatter reads them again. Writing
both as Functions keeps every backward differentiable.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, cast, normalize_dim
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
        out._view_of = (x, idx)  # a view, as in PyTorch: in-place ops on it reach x (ops/inplace.py)
    return out


# ------------------------------------------------------------------- gather / scatter
def _along(idx: np.ndarray, axis: int) -> tuple:
    """Full advanced index that reads ``a[..., idx[i, j, k], ...]`` at position (i, j, k)."""
    grids = list(np.ogrid[tuple(slice(0, s) for s in idx.shape)])
    grids[axis] = idx
    return tuple(grids)


def _leading(shape) -> tuple:
    return tuple(slice(0, s) for s in shape)


class Gather(Function):
    @staticmethod
    def forward(ctx, x, axis, idx):
        ctx.in_shape, ctx.axis, ctx.idx = x.shape, axis, idx
        return x[_along(idx, axis)]

    @staticmethod
    def backward(ctx, grad):
        return ScatterAddInto.apply(grad, ctx.in_shape, ctx.axis, ctx.idx), None, None


class ScatterAddInto(Function):
    @staticmethod
    def forward(ctx, values, shape, axis, idx):
        ctx.axis, ctx.idx = axis, idx
        out = np.zeros(shape, dtype=values.dtype)
        add_at(out, _along(idx, axis), values)
        return out

    @staticmethod
    def backward(ctx, grad):
        return Gather.apply(grad, ctx.axis, ctx.idx), None, None, None


def _check_gather_index(op: str, x: Tensor, dim: int, index, src_shape=None) -> tuple:
    index = as_tensor_arg(index)
    if index.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype}")
    if index.ndim != x.ndim and not (max(index.ndim, 1) == max(x.ndim, 1)):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as input tensor "
            f"(index shape {tuple(index.shape)}, input shape {tuple(x.shape)})"
        )
    axis = normalize_dim(dim, x.ndim, op)
    xs, ids = (x.shape or (1,)), (index.shape or (1,))
    for d, (i, s) in enumerate(zip(ids, xs)):
        if d != axis and i > s:
            raise RuntimeError(
                f"{op}(): Size does not match at dimension {d}: expected index "
                f"{list(index.shape)} "
                f"to be no larger than self {list(x.shape)} apart from dimension {axis}"
            )
        if src_shape is not None and i > (src_shape or (1,))[d]:
            raise RuntimeError(
                f"{op}(): Expected index {list(index.shape)} to be no larger than src "
                f"{list(src_shape)} at dimension {d}"
            )
    idx = index.array.reshape(ids)
    if idx.size and ((idx >= xs[axis]) | (idx < -xs[axis])).any():
        bad = idx[(idx >= xs[axis]) | (idx < -xs[axis])].flat[0]
        raise RuntimeError(
            f"{op}(): index {bad} is out of bounds for dimension {axis} with size {xs[axis]}"
        )
    return axis, idx % max(xs[axis], 1)


def _as_nd(x: Tensor) -> Tensor:
    return x.reshape(1) if x.ndim == 0 else x


def gather(input, dim: int, index, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` (``dim=1``); out has ``index``'s shape.

    Args:
        input: the source tensor.
        dim: the axis along which to index.
        index: int64 tensor with ``input``'s number of dims, no larger than ``input`` in the
            other dims (only their leading part is read).

    Examples:
        >>> deepnum.gather(deepnum.tensor([[1, 2], [3, 4]]), 1, deepnum.tensor([[0, 0], [1, 0]]))
        tensor([[1, 1],
                [4, 3]])
    """
    x = as_tensor_arg(input)
    axis, idx = _check_gather_index("gather", x, dim, index)
    xn = _as_nd(x)
    if idx.shape != xn.shape:  # only the leading part of the other dims is read
        xn = xn[tuple(slice(None) if d == axis else slice(0, s) for d, s in enumerate(idx.shape))]
    out = Gather.apply(xn, axis, idx)
    return out.reshape(as_tensor_arg(index).shape)


class Scatter(Function):
    """``out = input`` with ``out[..., index[i, j], ...] = src[i, j]`` written along ``axis``."""

    @staticmethod
    def forward(ctx, x, src, axis, idx):
        ctx.axis, ctx.idx, ctx.src_shape = axis, idx, np.shape(src)
        where = _along(idx, axis)
        out = x.copy()
        out[where] = src[_leading(idx.shape)] if np.ndim(src) else src
        ctx.overwritten = np.zeros(x.shape, dtype=bool)
        ctx.overwritten[where] = True
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_src = ctx.needs_input_grad[:2]
        grad_x = grad * ~ctx.overwritten if need_x else None
        grad_src = None
        if need_src:
            grad_src = Gather.apply(grad, ctx.axis, ctx.idx)
            if grad_src.shape != ctx.src_shape:
                grad_src = IndexAddInto.apply(grad_src, ctx.src_shape, _leading(ctx.idx.shape))
        return grad_x, grad_src, None, None


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:
    """Write ``src`` (a tensor, or the number ``value``) into a copy of ``input`` at ``index``."""
    if reduce is not None:
        if reduce == "add":
            return scatter_add(input, dim, index, src if src is not None else value)
        raise NotImplementedError(
            f"scatter: reduce={reduce!r} is not supported; use scatter_add or scatter_reduce"
        )
    if src is None:
        src = value
    x = _as_nd(as_tensor_arg(input))
    if isinstance(src, Tensor):
        src = _as_nd(cast(src, x.dtype))
        axis, idx = _check_gather_index("scatter", x, dim, index, src.shape)
    else:
        axis, idx = _check_gather_index("scatter", x, dim, index)
        src = np.asarray(src, dtype=x.dtype)
    return Scatter.apply(x, src, axis, idx).reshape(as_tensor_arg(input).shape)


def scatter_add(input, dim: int, index, src) -> Tensor:
    """``input`` plus ``src`` added at ``index`` along ``dim`` (repeated indices accumulate)."""
    from deepnum.ops.elementwise import add

    x = _as_nd(as_tensor_arg(input))
    src = _as_nd(cast(as_tensor_arg(src), x.dtype))
    axis, idx = _check_gather_index("scatter_add", x, dim, index, src.shape)
    if src.shape != idx.shape:
        src = src[_leading(idx.shape)]
    out = add(x, ScatterAddInto.apply(src, x.shape, axis, idx))
    return out.reshape(as_tensor_arg(input).shape)


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, axis, idx):
        ctx.axis, ctx.idx, ctx.size = axis, idx, x.shape[axis]
        return np.take(x, idx, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return IndexAddAlong.apply(grad, ctx.axis, ctx.idx, ctx.size), None, None


class IndexAddAlong(Function):
    """Rows of ``values`` added into zeros at ``idx`` along ``axis`` (the adjoint of take)."""

    @staticmethod
    def forward(ctx, values, axis, idx, size):
        ctx.axis, ctx.idx = axis, idx
        shape = values.shape[:axis] + (size,) + values.shape[axis + 1:]
        out = np.zeros(shape, dtype=values.dtype)
        add_at(out, (slice(None),) * axis + (idx,), values)
        return out

    @staticmethod
    def backward(ctx, grad):
        return IndexSelect.apply(grad, ctx.axis, ctx.idx), None, None, None


def index_select(input, dim: int, index) -> Tensor:
    """The slices of ``input`` at positions ``index`` (1-D integers) along ``dim``."""
    x = as_tensor_arg(input)
    index = as_tensor_arg(index)
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise IndexError(
            f"index_select(): index must be a 1-D integer tensor, got shape {tuple(index.shape)} "
            f"and dtype {index.dtype}"
        )
    axis = normalize_dim(dim, x.ndim, "index_select")
    xn = _as_nd(x)
    idx = index.array.reshape(-1)
    size = xn.shape[axis]
    if idx.size and ((idx >= size) | (idx < -size)).any():
        raise IndexError(
            f"index_select(): index out of range in self (dimension {axis} has size {size})"
        )
    out = IndexSelect.apply(xn, axis, idx % max(size, 1))
    return out.reshape(()) if x.ndim == 0 else out


def masked_fill(input, mask, value) -> Tensor:
    """``value`` where ``mask`` is True, ``input`` elsewhere (``value`` a number or 0-d tensor)."""
    from deepnum.ops.elementwise import Where

    x = as_tensor_arg(input)
    mask = as_tensor_arg(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype}"
        )
    try:
        np.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: the mask of shape {tuple(mask.shape)} does not broadcast to the "
            f"input's shape {tuple(x.shape)}"
        ) from None
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        value = cast(value, x.dtype)
    else:
        value = np.asarray(value, dtype=x.dtype)
    return Where.apply(mask.array, value, x)


def index_fill(input, dim: int, index, value) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    x = as_tensor_arg(input)
    axis = normalize_dim(dim, x.ndim, "index_fill")
    mask = np.zeros(x.shape or (1,), dtype=bool)
    mask[(slice(None),) * axis + (as_tensor_arg(index).array.reshape(-1),)] = True
    return masked_fill(x, Tensor._make(mask.reshape(x.shape), False, None, 0), value)


TENSOR_METHODS = {
    "__getitem__": getitem, "gather": gather, "scatter": scatter, "scatter_add": scatter_add,
    "index_select": index_select, "masked_fill": masked_fill, "index_fill": index_fill,
}
