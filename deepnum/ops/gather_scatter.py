"""Indexing along one dimension: gather, scatter, scatter_add, index_select; and filling
by mask or by index: masked_fill, index_fill.

As for ``x[idx]`` (ops/index.py), reading and adding-into-zeros are each other's adjoints:
``gather``'s gradient is ``ScatterAddInto`` and back, ``index_select``'s is ``IndexAddAlong``
and back, so every backward stays differentiable.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, cast, normalize_dim
from deepnum.ops.index import IndexAddInto, add_at
from deepnum.tensor import Tensor


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
    "gather": gather, "scatter": scatter, "scatter_add": scatter_add,
    "index_select": index_select, "masked_fill": masked_fill, "index_fill": index_fill,
}
