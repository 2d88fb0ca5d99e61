"""Order statistics: sort, argsort, topk, kthvalue, median.

Each finds indices with a stable NumPy sort and reads the values with ``gather``, so the
gradient of every returned value goes to the element it came from. NaN sorts as the
largest value, as in PyTorch.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from deepnum.ops._util import as_tensor_arg, normalize_dim
from deepnum.ops.gather_scatter import Gather
from deepnum.ops.minmax import Extreme
from deepnum.tensor import Tensor

return_sort = namedtuple("sort", ["values", "indices"])
return_topk = namedtuple("topk", ["values", "indices"])
return_kthvalue = namedtuple("kthvalue", ["values", "indices"])
return_median = namedtuple("median", ["values", "indices"])


def _order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable sorting permutation along ``axis``; ties keep their original order."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    # ascending sort of the reversed array, reversed again: descending, ties in original order
    return n - 1 - np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)


def _prepare(input, dim, op):
    x = as_tensor_arg(input)
    axis = normalize_dim(dim, x.ndim, op)
    return (x.reshape(1) if x.ndim == 0 else x), axis, x.ndim == 0


def _finish(cls, values, idx, zero_d):
    if zero_d:
        values, idx = values.reshape(()), idx.reshape(())
    return cls(values, Tensor._make(np.ascontiguousarray(idx, dtype=np.int64), False, None, 0))


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """Sorted values along ``dim`` and the indices they came from (ties keep their order)."""
    x, axis, zero_d = _prepare(input, dim, "sort")
    idx = _order(x.array, axis, descending).astype(np.int64)
    return _finish(return_sort, Gather.apply(x, axis, idx), idx, zero_d)


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable).indices


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` with their indices."""
    x, axis, zero_d = _prepare(input, dim, "topk")
    n = x.shape[axis]
    if not 0 <= k <= n:
        raise RuntimeError(
            f"topk: k ({k}) is out of range for dimension {axis} of size {n} (shape "
            f"{tuple(x.shape)})"
        )
    idx = np.take(_order(x.array, axis, largest), np.arange(k), axis=axis).astype(np.int64)
    return _finish(return_topk, Gather.apply(x, axis, idx), idx, zero_d)


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest value (1-based) along ``dim`` and its index."""
    x, axis, zero_d = _prepare(input, dim, "kthvalue")
    n = x.shape[axis]
    if not 1 <= k <= n:
        raise IndexError(
            f"kthvalue(): selected number k ({k}) out of range for dimension {axis} of size {n}"
        )
    idx = np.take(_order(x.array, axis, False), [k - 1], axis=axis).astype(np.int64)
    values = Gather.apply(x, axis, idx)
    if not keepdim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
    return _finish(return_kthvalue, values, idx, zero_d)


def median(input, dim=None, keepdim: bool = False):
    """Lower median: the ``(n - 1) // 2``-th smallest value.

    Without ``dim`` a 0-d tensor whose gradient is shared by all elements equal to it (as
    PyTorch does); with ``dim``, ``(values, indices)`` with the gradient at the index.
    """
    x = as_tensor_arg(input)
    if dim is None:
        if x.numel() == 0:
            return Tensor._make(np.asarray(np.nan, dtype=x.dtype), False, None, 0)
        flat = x.reshape(-1)
        k = (flat.shape[0] - 1) // 2
        value = np.sort(flat.array, kind="stable")[k]
        others = Tensor._make(flat.array != value, False, None, 0)
        # the largest of (ties, and -inf elsewhere) is the median, its gradient shared by the ties
        return Extreme.apply(flat.masked_fill(others, -np.inf), (0,), False, True)
    n = x.shape[normalize_dim(dim, x.ndim, "median")] if x.ndim else 1
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    values, indices = kthvalue(x, (n - 1) // 2 + 1, dim, keepdim)
    return return_median(values, indices)


def quantile(input, q, dim=None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-quantiles along ``dim`` (of all elements when None), interpolating between ranks.

    ``q`` is a number or a 1-D tensor in [0, 1]; a tensor ``q`` adds a leading dimension.
    """
    from deepnum.ops.elementwise import add, mul, sub
    from deepnum.ops.gather_scatter import IndexSelect

    x = as_tensor_arg(input)
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"quantile() input tensor must be either float or double dtype, got {x.dtype}"
        )
    scalar_q = not isinstance(q, Tensor) and np.ndim(q) == 0
    qs = np.atleast_1d(q.array if isinstance(q, Tensor) else np.asarray(q)).astype(np.float64)
    if ((qs < 0) | (qs > 1)).any():
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    if dim is None:
        xs, axis = x.reshape(-1), 0
    else:
        xs, axis, _ = _prepare(x, dim, "quantile")
    values = sort(xs, axis).values
    n = values.shape[axis]
    pos = qs * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.ceil(pos).astype(np.int64)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(pos).astype(np.int64)
    elif interpolation == "midpoint":
        pos = (lo + hi) / 2.0
    elif interpolation != "linear":
        raise ValueError(
            "quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, "
            f"got {interpolation!r}"
        )
    below, above = IndexSelect.apply(values, axis, lo), IndexSelect.apply(values, axis, hi)
    frac = np.asarray(pos - lo, dtype=x.dtype).reshape((-1,) + (1,) * (values.ndim - axis - 1))
    out = add(below, mul(sub(above, below), frac))  # q-axis sits where dim was
    if keepdim:
        if dim is None:
            out = out.reshape((len(qs),) + (1,) * x.ndim)
        else:
            out = out.movedim(axis, 0).unsqueeze(axis + 1)
    else:
        out = out.movedim(axis, 0)
    return out.squeeze(0) if scalar_q else out


def nanquantile(input, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    x = as_tensor_arg(input)
    if np.isnan(x.array).any():
        raise NotImplementedError("nanquantile: inputs containing NaN are not supported")
    return quantile(x, q, dim, keepdim, interpolation=interpolation)


def msort(input) -> Tensor:
    """Sorted along the first dimension."""
    return sort(input, 0).values


TENSOR_METHODS = {
    "quantile": quantile, "nanquantile": nanquantile, "msort": msort,
    "sort": sort, "argsort": argsort, "topk": topk, "kthvalue": kthvalue, "median": median,
}
__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "quantile", "nanquantile", "msort"]
