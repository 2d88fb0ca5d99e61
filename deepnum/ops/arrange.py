"""More ways to rearrange and select: movedim, unflatten, broadcast_to, tile, select,
masked_select, take, take_along_dim, diff, index_add, unique, bincount.

All differentiable ones are compositions of the primitives in ``shape`` and ``index``.
"""

from __future__ import annotations

import numpy as np

from deepnum.ops._util import as_tensor_arg, normalize_dim
from deepnum.ops.gather_scatter import IndexAddAlong, gather
from deepnum.ops.index import GetItem
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


def ravel(input) -> Tensor:
    return reshape(input, -1)


def fliplr(input) -> Tensor:
    from deepnum.ops.shape import flip

    return flip(input, 1)


def flipud(input) -> Tensor:
    from deepnum.ops.shape import flip

    return flip(input, 0)


def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90° ``k`` times in the plane ``dims`` (from the first towards the second)."""
    from deepnum.ops.shape import flip, transpose

    x = as_tensor_arg(input)
    d0, d1 = dims
    k %= 4
    if k == 1:
        return transpose(flip(x, d1), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return flip(transpose(x, d0, d1), d1)
    return x


def unfold(input, dimension: int, size: int, step: int) -> Tensor:
    """Windows of ``size`` elements, every ``step``, along ``dimension``; a new last dim.

    Examples:
        >>> deepnum.arange(5.0).unfold(0, 2, 2)
        tensor([[0., 1.],
                [2., 3.]])
    """
    x = as_tensor_arg(input)
    d = normalize_dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if size > n or size < 0 or step <= 0:
        raise RuntimeError(
            f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size} (step "
            f"{step})"
        )
    starts = np.arange(0, n - size + 1, step)
    windows = starts[:, None] + np.arange(size)[None, :]  # (n_windows, size)
    y = GetItem.apply(x, (slice(None),) * d + (windows,))  # windows replace dim d
    return movedim(y, d + 1, -1)


def atleast_3d(input) -> Tensor:
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return reshape(x, (1, 1, 1))
    if x.ndim == 1:
        return reshape(x, (1, x.shape[0], 1))
    if x.ndim == 2:
        return reshape(x, tuple(x.shape) + (1,))
    return x


def hsplit(input, sections) -> tuple:
    from deepnum.ops.join import tensor_split

    x = as_tensor_arg(input)
    return tensor_split(x, sections, 1 if x.ndim > 1 else 0)


def vsplit(input, sections) -> tuple:
    from deepnum.ops.join import tensor_split

    return tensor_split(input, sections, 0)


def dstack(tensors) -> Tensor:
    from deepnum.ops.join import cat

    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors) -> Tensor:
    from deepnum.ops.join import cat

    ts = [as_tensor_arg(t) for t in tensors]
    return cat([reshape(t, -1, 1) if t.ndim < 2 else t for t in ts], 1)


def block_diag(*tensors) -> Tensor:
    """Matrices placed along the diagonal of a zero matrix."""
    from deepnum.ops.join import _common_dtype, cat
    from deepnum.ops.pad import pad

    ts = [as_tensor_arg(t) for t in tensors]
    ts = [reshape(t, 1, -1) if t.ndim == 1 else reshape(t, 1, 1) if t.ndim == 0 else t for t in ts]
    dt = _common_dtype(ts)
    width = sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        rows.append(pad(t.to(dt), (left, width - left - t.shape[1])))
        left += t.shape[1]
    return cat(rows, 0)


def cartesian_prod(*tensors) -> Tensor:
    """All combinations of the elements of 1-D tensors, one per row."""
    from deepnum.ops.join import stack
    from deepnum.ops.matrix import meshgrid

    if len(tensors) == 1:
        return as_tensor_arg(tensors[0])
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


def index_copy(input, dim: int, index, source) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` replaced by those of ``source``."""
    from deepnum.ops.index_put import index_put

    x = as_tensor_arg(input)
    d = normalize_dim(dim, x.ndim, "index_copy")
    idx = as_tensor_arg(index).array.reshape(-1)
    return index_put(x, (slice(None),) * d + (idx,), source)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    r, c = np.triu_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(np.int64), False, None, 0)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    r, c = np.tril_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(np.int64), False, None, 0)


def histc(input, bins: int = 100, min=0, max=0) -> Tensor:
    """Histogram of ``bins`` equal bins over ``[min, max]`` (the data's range when equal)."""
    a = as_tensor_arg(input).array
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=bins, range=(lo, hi))
    dtype = a.dtype if a.dtype.kind == "f" else np.float32
    return Tensor._make(counts.astype(dtype), False, None, 0)


def _stride(self, dim=None):
    strides = tuple(s // self.array.itemsize for s in self.array.strides)
    return strides if dim is None else strides[normalize_dim(dim, self.ndim, "stride")]


def _is_nonzero(self) -> bool:
    if self.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with {self.numel()} values is ambiguous")
    return bool(self.array.reshape(-1)[0])


TENSOR_METHODS = {
    "ravel": ravel, "fliplr": fliplr, "flipud": flipud, "rot90": rot90, "unfold": unfold,
    "index_copy": index_copy, "histc": histc, "stride": _stride, "is_nonzero": _is_nonzero,
    "ndimension": lambda self: self.ndim, "is_complex": lambda self: False,
    "absolute": lambda self: self.abs(), "short": lambda self: self.to(np.int16),
    "char": lambda self: self.to(np.int8),
    "movedim": movedim, "moveaxis": movedim, "unflatten": unflatten, "broadcast_to": broadcast_to,
    "tile": tile, "select": select, "masked_select": masked_select, "take": take,
    "take_along_dim": take_along_dim, "diff": diff, "index_add": index_add, "unique": unique,
    "bincount": bincount,
}
