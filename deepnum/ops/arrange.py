"""More ways to rearrange and select: movedim, unflatten, broadcast_to, tile, select,
masked_select, take, take_along_dim, diff, index_add, unique, bincount.

All differentiable ones are compositions of the primitives in ``shape`` and ``index``.
"""

from __future__ import annotations

import numpy as np

from deepnum.ops._util import as_tensor_arg, normalize_dim
from deepnum.ops.index import GetItem, IndexAddAlong, gather
from deepnum.ops.join import repeat
from deepnum.ops.shape import expand, permute, reshape
from deepnum.tensor import Tensor


def movedim(input, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    x = as_tensor_arg(input)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
            f"same number of dims as destination ({dst} dims)"
        )
    src = [normalize_dim(d, x.ndim, "movedim") for d in src]
    dst = [normalize_dim(d, x.ndim, "movedim") for d in dst]
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, order)


moveaxis = movedim


def unflatten(input, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1)."""
    x = as_tensor_arg(input)
    d = normalize_dim(dim, x.ndim, "unflatten")
    return reshape(x, tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:]))


def broadcast_to(input, size) -> Tensor:
    return expand(input, tuple(size))


def broadcast_tensors(*tensors) -> tuple:
    ts = [as_tensor_arg(t) for t in tensors]
    try:
        shape = np.broadcast_shapes(*[t.shape for t in ts])
    except ValueError:
        raise RuntimeError(
            f"broadcast_tensors: shapes {[tuple(t.shape) for t in ts]} do not broadcast"
        ) from None
    return tuple(expand(t, shape) for t in ts)


def atleast_1d(input) -> Tensor:
    x = as_tensor_arg(input)
    return reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(input) -> Tensor:
    x = as_tensor_arg(input)
    return reshape(x, (1,) * (2 - x.ndim) + tuple(x.shape)) if x.ndim < 2 else x


def tile(input, dims) -> Tensor:
    """``repeat`` with ``dims`` padded by leading 1s when shorter than the tensor's rank."""
    x = as_tensor_arg(input)
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def select(input, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, with that dimension removed."""
    x = as_tensor_arg(input)
    d = normalize_dim(dim, x.ndim, "select")
    size = x.shape[d]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(x.shape)} at "
            f"dimension {d}"
        )
    return GetItem.apply(x, (slice(None),) * d + (int(index),))


def masked_select(input, mask) -> Tensor:
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (both broadcast)."""
    x, m = as_tensor_arg(input), as_tensor_arg(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    shape = np.broadcast_shapes(x.shape, m.shape)
    x = expand(x, shape)
    return GetItem.apply(x, np.nonzero(np.broadcast_to(m.array, shape)))


def take(input, index) -> Tensor:
    """Elements of the flattened ``input`` at ``index``; the result has ``index``'s shape."""
    x = as_tensor_arg(input)
    idx = as_tensor_arg(index).array
    n = x.numel()
    if idx.size and ((idx >= n) | (idx < -n)).any():
        raise IndexError(f"take: index out of range for tensor of {n} elements")
    return GetItem.apply(reshape(x, -1), (idx,))


def take_along_dim(input, indices, dim=None) -> Tensor:
    """``gather`` with ``input`` and ``indices`` broadcast against each other outside ``dim``."""
    x, idx = as_tensor_arg(input), as_tensor_arg(indices)
    if dim is None:
        return gather(reshape(x, -1), 0, reshape(idx, -1))
    d = normalize_dim(dim, x.ndim, "take_along_dim")
    xs, ids = list(x.shape), list(idx.shape)
    xs[d], ids[d] = 1, 1
    common = list(np.broadcast_shapes(tuple(xs), tuple(ids)))
    x_shape, i_shape = common.copy(), common.copy()
    x_shape[d], i_shape[d] = x.shape[d], idx.shape[d]
    return gather(expand(x, tuple(x_shape)), d, expand(idx, tuple(i_shape)))


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """``n``-th forward difference ``x[i+1] - x[i]`` along ``dim``."""
    from deepnum.ops.elementwise import sub
    from deepnum.ops.join import cat

    x = as_tensor_arg(input)
    d = normalize_dim(dim, x.ndim, "diff")
    if prepend is not None or append is not None:
        parts = [as_tensor_arg(p) for p in (prepend, x, append) if p is not None]
        x = cat(parts, d)
    lead = (slice(None),) * d
    for _ in range(n):
        later, earlier = lead + (slice(1, None),), lead + (slice(None, -1),)
        x = sub(GetItem.apply(x, later), GetItem.apply(x, earlier))
    return x


def index_add(input, dim: int, index, source, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source`` slices added at positions ``index`` along ``dim``."""
    from deepnum.ops.elementwise import add, mul

    x = as_tensor_arg(input)
    d = normalize_dim(dim, x.ndim, "index_add")
    src = as_tensor_arg(source)
    if alpha != 1:
        src = mul(src, alpha)
    idx = as_tensor_arg(index).array.reshape(-1)
    return add(x, IndexAddAlong.apply(src, d, idx, x.shape[d]))


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct elements (sorted), optionally with inverse indices and counts."""
    a = as_tensor_arg(input).array
    out = np.unique(a, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    out = out if isinstance(out, tuple) else (out,)
    values = Tensor._make(out[0], False, None, 0)
    extras = []
    for k, o in enumerate(out[1:]):
        inverse = k == 0 and return_inverse and dim is None  # shaped like the input
        o = np.asarray(o, np.int64).reshape(a.shape if inverse else -1)
        extras.append(Tensor._make(o, False, None, 0))
    return values if not extras else (values, *extras)


def bincount(input, weights=None, minlength: int = 0) -> Tensor:
    """Counts of each non-negative integer in a 1-D tensor (weighted sums with ``weights``)."""
    a = as_tensor_arg(input).array
    w = None if weights is None else as_tensor_arg(weights).array
    out = np.bincount(a, weights=w, minlength=minlength)
    if w is not None:
        out = out.astype(w.dtype if w.dtype.kind == "f" else np.float64)
    return Tensor._make(out, False, None, 0)


TENSOR_METHODS = {
    "movedim": movedim, "moveaxis": movedim, "unflatten": unflatten, "broadcast_to": broadcast_to,
    "tile": tile, "select": select, "masked_select": masked_select, "take": take,
    "take_along_dim": take_along_dim, "diff": diff, "index_add": index_add, "unique": unique,
    "bincount": bincount,
}
