"""Matrix helpers built from differentiable primitives: diagonals, fused products, distances.

diag, diagonal, trace, addmm, baddbmm, addmv, tensordot, cross, cdist, dist, cumprod,
meshgrid.
"""

from __future__ import annotations

import warnings

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, binary_operands, normalize_dim
from deepnum.ops.elementwise import add, mul, sub
from deepnum.ops.gather_scatter import IndexSelect
from deepnum.ops.index import GetItem
from deepnum.ops.linalg import bmm, matmul, mm
from deepnum.ops.reduce import ReverseCumSum
from deepnum.ops.shape import expand, permute, reshape
from deepnum.tensor import Tensor


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of the (dim1, dim2) planes, as a new last dimension."""
    x = as_tensor_arg(input)
    d1, d2 = normalize_dim(dim1, x.ndim, "diagonal"), normalize_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: dimensions cannot be identical {dim1}, {dim2}")
    rest = [d for d in range(x.ndim) if d not in (d1, d2)]
    y = permute(x, rest + [d1, d2])
    rows, cols = y.shape[-2:]
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(min(rows - start_r, cols - start_c), 0)
    i = np.arange(n)
    return GetItem.apply(y, (Ellipsis, i + start_r, i + start_c))


def diag(input, diagonal: int = 0) -> Tensor:
    """A vector put on the ``diagonal``-th diagonal of a square matrix, or a matrix's diagonal."""
    from deepnum.ops.index_put import index_put

    x = as_tensor_arg(input)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x.ndim != 1:
        raise RuntimeError(
            f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D (shape {tuple(x.shape)})"
        )
    n = x.shape[0] + abs(diagonal)
    i = np.arange(x.shape[0])
    rows, cols = (i, i + diagonal) if diagonal >= 0 else (i - diagonal, i)
    zeros = Tensor._make(np.zeros((n, n), dtype=x.dtype), False, None, 0)
    return index_put(zeros, (rows, cols), x)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each last-dim vector of ``input`` placed on the diagonal of a matrix (dims -2, -1 only)."""
    from deepnum.ops.index_put import index_put

    x = as_tensor_arg(input)
    if (dim1, dim2) != (-2, -1):
        raise NotImplementedError("diag_embed: only dim1=-2, dim2=-1 are supported")
    k = x.shape[-1]
    n = k + abs(offset)
    i = np.arange(k)
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    zeros = Tensor._make(np.zeros(tuple(x.shape[:-1]) + (n, n), dtype=x.dtype), False, None, 0)
    return index_put(zeros, (Ellipsis, rows, cols), x)


def trace(input) -> Tensor:
    """Sum of the main diagonal of a matrix."""
    x = as_tensor_arg(input)
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return diagonal(x).sum()


def _fused(product, name):
    def op(input, a, b, *, beta=1, alpha=1) -> Tensor:
        prod = product(a, b)
        if alpha != 1:
            prod = mul(prod, alpha)
        if beta == 0:  # PyTorch ignores input (even NaN) when beta is 0
            return prod
        return add(mul(input, beta) if beta != 1 else input, prod)

    op.__name__ = name
    op.__doc__ = f"``beta * input + alpha * ({product.__name__} of the other two)``."
    return op


addmm = _fused(mm, "addmm")
baddbmm = _fused(bmm, "baddbmm")
addmv = _fused(matmul, "addmv")


def tensordot(a, b, dims=2) -> Tensor:
    """Contract the last ``dims`` dims of ``a`` with the first of ``b``, or the listed pairs."""
    from deepnum.ops.einsum import einsum

    a, b = as_tensor_arg(a), as_tensor_arg(b)
    if isinstance(dims, (int, np.integer)):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [normalize_dim(d, a.ndim, "tensordot") for d in da]
    db = [normalize_dim(d, b.ndim, "tensordot") for d in db]
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    la = [next(letters) for _ in range(a.ndim)]
    lb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size {a.shape[i]} "
                f"in dim {i} and second has size {b.shape[j]} in dim {j}"
            )
        lb[j] = la[i]
    out = [c for k, c in enumerate(la) if k not in da]
    out += [c for k, c in enumerate(lb) if k not in db]
    return einsum("".join(la) + "," + "".join(lb) + "->" + "".join(out), a, b)


def cross(input, other, dim=None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (the first dim of size 3 when None)."""
    a, b = binary_operands(as_tensor_arg(input), as_tensor_arg(other))
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.",
            UserWarning, 2
        )
        shape = np.broadcast_shapes(a.shape, b.shape)
        dim = next((d for d, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(
                f"cross: no dimension of size 3 in input (shapes {tuple(a.shape)}, "
                f"{tuple(b.shape)})"
            )
    d = normalize_dim(dim, max(a.ndim, b.ndim), "cross")
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(
            f"cross: inputs dimension {dim} must have length 3 (shapes {tuple(a.shape)}, "
            f"{tuple(b.shape)})"
        )
    i1, i2 = np.array([1, 2, 0]), np.array([2, 0, 1])
    return sub(mul(IndexSelect.apply(a, d, i1), IndexSelect.apply(b, d, i2)),
               mul(IndexSelect.apply(a, d, i2), IndexSelect.apply(b, d, i1)))


def cdist(x1, x2, p: float = 2.0, compute_mode=None) -> Tensor:
    """Pairwise p-norm distances between the rows of ``x1`` (…, P, M) and ``x2`` (…, R, M)."""
    from deepnum.ops.reduce import norm
    from deepnum.ops.shape import unsqueeze

    a, b = as_tensor_arg(x1), as_tensor_arg(x2)
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"cdist: X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: "
            f"{b.shape[-1]}"
        )
    return norm(sub(unsqueeze(a, -2), unsqueeze(b, -3)), p, dim=-1)


def dist(input, other, p: float = 2) -> Tensor:
    """``‖input - other‖_p`` over all elements."""
    from deepnum.ops.reduce import norm

    return norm(sub(input, other), p)


class CumProd(Function):
    """Running product; gradient ``Σ_{j>=i} g_j y_j / x_i`` (inputs must be non-zero)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        y = np.cumprod(x, axis=axis)
        ctx.save_for_backward(x, y)
        ctx.has_zero = bool((x == 0).any())
        return y

    @staticmethod
    def backward(ctx, grad):
        if ctx.has_zero:
            raise RuntimeError(
                "cumprod: the gradient of a running product containing zeros is not supported"
            )
        x, y = ctx.saved_tensors
        return ReverseCumSum.apply(grad * y, ctx.axis) / x, None


def cumprod(input, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim``: ``y_j = Π_{i<=j} x_i``."""
    from deepnum.ops.reduce import _accumulating_dtype

    x = _accumulating_dtype(as_tensor_arg(input), dtype)
    axis = normalize_dim(dim, x.ndim, "cumprod")
    if x.ndim == 0:
        return reshape(CumProd.apply(reshape(x, 1), 0), ())
    return CumProd.apply(x, axis)


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors (``indexing='ij'`` matrix, ``'xy'`` Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [as_tensor_arg(t).reshape(-1) for t in tensors]
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    grids = []
    for k, t in enumerate(ts):
        view = [1] * len(ts)
        view[k] = shape[k]
        grids.append(expand(reshape(t, tuple(view)), shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


TENSOR_METHODS = {
    "diagonal": diagonal, "diag": diag, "diag_embed": diag_embed, "trace": trace,
    "addmm": addmm, "baddbmm": baddbmm, "addmv": addmv, "cross": cross, "dist": dist,
    "cumprod": cumprod,
}
