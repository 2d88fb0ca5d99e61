"""Ops that rearrange elements without changing them.

reshape, view, flatten, squeeze, unsqueeze, transpose, permute, expand, flip, roll, narrow,
and the triangle masks tril / triu. Each backward is the inverse rearrangement.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import BroadcastTo, as_tensor_arg, normalize_dim
from deepnum.ops.inplace import register_view
from deepnum.tensor import Tensor


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class ShapeView:
    """How a view that holds all of its base's elements (a reshape or a permutation of its
    dims) maps back onto the base, for in-place ops recorded on the view (ops/inplace.py)."""

    def __init__(self, base_shape, view_shape=None, axes=None) -> None:
        self.base_shape, self.view_shape, self.axes = base_shape, view_shape, axes

    def put(self, view: Tensor) -> Tensor:
        """The base's value given the view's, as a differentiable op."""
        if self.axes is not None:
            return Permute.apply(view, tuple(int(a) for a in np.argsort(self.axes)))
        return Reshape.apply(view, self.base_shape)

    def of(self, base: Tensor) -> Tensor:
        """The view of a base tensor, as a differentiable op."""
        if self.axes is not None:
            return Permute.apply(base, self.axes)
        return Reshape.apply(base, self.view_shape)


def _as_view(out: Tensor, base: Tensor, index=None, view_shape=None, axes=None) -> Tensor:
    """Mark ``out`` as a view of ``base`` (``base[index]``, or a ``ShapeView`` of it) when its
    array shares the base's memory (as PyTorch's reshape, which copies only when the
    elements cannot be viewed)."""
    if out is not base and np.may_share_memory(out.array, base.array):
        how = index if index is not None else ShapeView(base.shape, view_shape, axes)
        register_view(out, base, how)
    return out


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def reshape(input, *shape) -> Tensor:
    """The same elements in a new shape (one dimension may be -1)."""
    x = as_tensor_arg(input)
    shape = _shape_arg(shape)
    try:
        target = np.empty(x.shape, dtype=np.bool_).reshape(shape).shape if -1 in shape else shape
    except ValueError:
        target = None
    if target is None or int(np.prod(target)) != x.array.size:
        raise RuntimeError(
            f"reshape: shape {list(shape)} is invalid for input of size {x.array.size} (shape "
            f"{tuple(x.shape)})"
        )
    if tuple(target) == x.shape:
        return x
    return _as_view(Reshape.apply(x, tuple(target)), x, view_shape=tuple(target))


def view(input, *shape) -> Tensor:
    """As ``reshape`` (deepnum tensors are always contiguous enough to view)."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        from deepnum.ops._util import cast

        return cast(as_tensor_arg(input), shape[0])
    return reshape(input, *shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return Permute.apply(grad, tuple(np.argsort(ctx.axes))), None


def permute(input, *args, dims=None) -> Tensor:
    """Reorder dimensions: output dim i is input dim ``dims[i]``."""
    x = as_tensor_arg(input)
    dims = _shape_arg(args if dims is None else (dims,))
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: number of dims {len(dims)} does not match the tensor's {x.ndim} dims "
            f"(shape {tuple(x.shape)})"
        )
    axes = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"permute: repeated dim in {list(dims)}")
    return _as_view(Permute.apply(x, axes), x, axes=axes)


def transpose(input, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    x = as_tensor_arg(input)
    if x.ndim < 2:
        normalize_dim(dim0, x.ndim, "transpose")
        normalize_dim(dim1, x.ndim, "transpose")
        return x
    axes = list(range(x.ndim))
    d0, d1 = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return _as_view(Permute.apply(x, tuple(axes)), x, axes=tuple(axes))


swapaxes = swapdims = transpose


def t(input) -> Tensor:
    """Transpose of a matrix (tensors of at most 2 dims)."""
    x = as_tensor_arg(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def expand(input, *sizes) -> Tensor:
    """Broadcast to ``sizes`` (-1 keeps a dimension); no data is copied."""
    x = as_tensor_arg(input)
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({x.ndim})"
        )
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(x.shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({shape[lead + i]}) must match the "
                f"existing size ({s}) at non-singleton dimension {lead + i}. Target sizes: "
                f"{list(sizes)}. Tensor sizes: {list(x.shape)}"
            )
    if shape == x.shape:
        return x
    return BroadcastTo.apply(x, shape)


def squeeze(input, dim=None) -> Tensor:
    """Remove dimensions of size 1 (only ``dim`` when given)."""
    x = as_tensor_arg(input)
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = {normalize_dim(d, x.ndim, "squeeze") for d in dims}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1))
    return reshape(x, shape)


def unsqueeze(input, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    x = as_tensor_arg(input)
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    shape = x.shape[:d] + (1,) + x.shape[d:]
    return _as_view(Reshape.apply(x, shape), x, view_shape=shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return reshape(x, (1,))
    s = normalize_dim(start_dim, x.ndim, "flatten")
    e = normalize_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    merged = int(np.prod(x.shape[s : e + 1]))
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1 :])


class Flip(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.axes), None


def flip(input, *args, dims=None) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    x = as_tensor_arg(input)
    dims = _shape_arg(args if dims is None else (dims,))
    axes = tuple(normalize_dim(d, x.ndim, "flip") for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip: dims {list(dims)} has duplicates")
    if x.ndim == 0 or not axes:
        return Flip.apply(x, ())
    return Flip.apply(x, axes)


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.axes), None, None


def roll(input, shifts, dims=None) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (the flattened tensor when None)."""
    x = as_tensor_arg(input)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(
                f"roll: shifts {list(shifts)} given without dims; expected one shift"
            )
        return reshape(Roll.apply(reshape(x, -1), shifts, (0,)), x.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    axes = tuple(normalize_dim(d, x.ndim, "roll") for d in dims)
    return Roll.apply(x, tuple(int(s) for s in shifts), axes)


def narrow(input, dim: int, start: int, length: int) -> Tensor:
    """The ``length`` elements from ``start`` along ``dim`` (a view in PyTorch)."""
    x = as_tensor_arg(input)
    d = normalize_dim(dim, x.ndim, "narrow")
    size = x.shape[d]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start ({start}) out of range for dimension {d} of size {size}")
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    from deepnum.ops.index import GetItem

    index = (slice(None),) * d + (slice(start, start + length),)
    return _as_view(GetItem.apply(x, index), x, index=index)


def _triangle(name, keep):
    def op(input, diagonal: int = 0) -> Tensor:
        from deepnum.ops.elementwise import Where

        x = as_tensor_arg(input)
        if x.ndim < 2:
            raise RuntimeError(
                f"{name}: input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}"
            )
        rows, cols = x.shape[-2:]
        mask = keep(np.arange(rows)[:, None] + diagonal, np.arange(cols)[None, :])
        # a select, not a product with the mask: -inf above the diagonal must become 0, not nan
        return Where.apply(mask, x, np.zeros((), dtype=x.dtype))

    op.__name__ = name
    side = "below" if name == "tril" else "above"
    op.__doc__ = f"``{name}``: the elements on and {side} the ``diagonal``-th diagonal, else 0."
    return op


tril = _triangle("tril", np.greater_equal)
triu = _triangle("triu", np.less_equal)


def _T(self) -> Tensor:
    return permute(self, tuple(reversed(range(self.ndim))))


TENSOR_METHODS = {
    "reshape": reshape, "view": view, "permute": permute, "transpose": transpose,
    "swapaxes": swapaxes, "swapdims": swapaxes, "t": t, "expand": expand, "squeeze": squeeze,
    "unsqueeze": unsqueeze, "flatten": flatten, "flip": flip, "roll": roll, "narrow": narrow,
    "tril": tril, "triu": triu,
    "T": property(_T), "mT": property(lambda self: transpose(self, -2, -1)),
    "view_as": lambda self, other: reshape(self, other.shape),
    "reshape_as": lambda self, other: reshape(self, other.shape),
    "expand_as": lambda self, other: expand(self, other.shape),
}
