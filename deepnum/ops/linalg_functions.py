"""``deepnum.linalg``: norms, inverse, determinants, solves and symmetric decompositions.

These are re-exported by ``deepnum.ops.linalg``, which is what ``deepnum.linalg`` names (as
``torch.linalg``). Gradients (batched over leading dims):

- inverse ``Y = A⁻¹``: ``grad_A = -Yᵀ G Yᵀ``;
- determinant: ``grad_A = g · det(A) · A⁻ᵀ``; log-determinant: ``grad_A = g · A⁻ᵀ``;
- solve ``X = A⁻¹ B``: ``grad_B = A⁻ᵀ G``, ``grad_A = -grad_B Xᵀ``;
- Cholesky ``A = L Lᵀ``: ``grad_A = sym(L⁻ᵀ Φ(Lᵀ G) L⁻¹)``, Φ = lower triangle with the
  diagonal halved (Murray, "Differentiation of the Cholesky decomposition", 2016);
- symmetric eigendecomposition ``A = V diag(λ) Vᵀ``:
  ``grad_A = V (diag(g_λ) + F ∘ Vᵀ G_V) Vᵀ``, ``F_ij = 1 / (λ_j - λ_i)`` (Giles, 2008).

All but the eigen- and singular-value ones are written with differentiable operations and so
have second derivatives too (003 §2.5 Newton steps need ``solve`` and Hessians).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, binary_operands, normalize_dim, sum_to
from deepnum.ops.elementwise import _float_input
from deepnum.tensor import Tensor

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
qr_result = namedtuple("qr", ["Q", "R"])


def _mT(x):
    return x.swapaxes(-1, -2)


def _square(op: str, A: Tensor) -> Tensor:
    A = _float_input(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.{op}: A must be batches of square matrices, but they are {tuple(A.shape)}"
        )
    return A


class Inv(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.linalg.inv(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return -(_mT(y) @ grad @ _mT(y))  # d(A⁻¹) = -A⁻¹ dA A⁻¹


def inv(A) -> Tensor:
    """Inverse of (batches of) square matrices."""
    return Inv.apply(_square("inv", as_tensor_arg(A)))


class SLogDet(Function):
    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return np.asarray(sign, dtype=a.dtype), np.asarray(logabs, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad_sign, grad_logabs):
        (a,) = ctx.saved_tensors
        return grad_logabs[..., None, None] * _mT(Inv.apply(a))  # d ln|det A| = tr(A⁻¹ dA)


def slogdet(A):
    """``(sign, log|det A|)``: the determinant without overflow."""
    sign, logabs = SLogDet.apply(_square("slogdet", as_tensor_arg(A)))
    return slogdet_result(sign.detach(), logabs)


def det(A) -> Tensor:
    """Determinant ``sign · exp(log|det A|)``."""
    from deepnum.ops.elementwise import exp

    sign, logabs = slogdet(A)
    return sign * exp(logabs)


def logdet(A) -> Tensor:
    """``log det A``: NaN for a negative determinant, -inf for a singular matrix (as PyTorch)."""
    sign, logabs = slogdet(A)
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.log(sign.array)
    return logabs + Tensor._make(shift, False, None, 0)


class Solve(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        x = np.linalg.solve(np.broadcast_to(a, batch + a.shape[-2:]),
                            np.broadcast_to(b, batch + b.shape[-2:]))
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        grad_b = Solve.apply(_mT(a), grad)  # A⁻ᵀ G
        grad_a = sum_to(-(grad_b @ _mT(x)), shape_a) if need_a else None
        return grad_a, sum_to(grad_b, shape_b) if need_b else None


def solve(A, B, *, left: bool = True) -> Tensor:
    """``X = A⁻¹ B``, the solution of ``A X = B`` (``B`` a vector or batch of vectors too)."""
    from deepnum.ops.shape import unsqueeze

    if not left:
        raise NotImplementedError(
            "linalg.solve(left=False) is not supported; solve with Aᵀ instead"
        )
    a, b = binary_operands(_square("solve", as_tensor_arg(A)), _float_input(B))
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and tuple(b.shape) == tuple(a.shape[:-1]))
    if vector:
        b = unsqueeze(b, -1)
    if b.shape[-2] != a.shape[-1]:
        raise RuntimeError(
            f"linalg.solve: incompatible shapes of A {tuple(a.shape)} and B {tuple(B.shape)}"
        )
    x = Solve.apply(a, b)
    return x.squeeze(-1) if vector else x


def _tril_mask(n: int, dtype) -> np.ndarray:
    return (np.tril(np.ones((n, n))) - 0.5 * np.eye(n)).astype(dtype)


class Cholesky(Function):
    @staticmethod
    def forward(ctx, a):
        try:
            low = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise RuntimeError("linalg.cholesky: the input is not positive-definite") from None
        ctx.save_for_backward(low)
        return low

    @staticmethod
    def backward(ctx, grad):
        (low,) = ctx.saved_tensors
        linv = Inv.apply(low)
        phi = (_mT(low) @ grad) * _tril_mask(low.shape[-1], grad.dtype)
        s = _mT(linv) @ phi @ linv
        return 0.5 * (s + _mT(s))


def cholesky(A, *, upper: bool = False) -> Tensor:
    """Lower-triangular ``L`` with ``A = L Lᵀ`` (``Lᵀ`` when ``upper``) for positive-definite A."""
    low = Cholesky.apply(_square("cholesky", as_tensor_arg(A)))
    return _mT(low) if upper else low


class Eigh(Function):
    @staticmethod
    def forward(ctx, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.w, ctx.v = w, v
        return w, v

    @staticmethod
    def backward(ctx, grad_w, grad_v):
        if ctx.graph_mode:
            raise RuntimeError("linalg.eigh: second derivatives are not supported")
        w, v = ctx.w, ctx.v
        gap = w[..., None, :] - w[..., :, None]  # λ_j - λ_i
        with np.errstate(divide="ignore"):
            f = np.where(gap == 0, 0, 1 / np.where(gap == 0, 1, gap))
        inner = np.einsum("...ij,...i->...ij", np.eye(w.shape[-1]), grad_w) + f * (_mT(v) @ grad_v)
        return (v @ inner @ _mT(v)).astype(grad_w.dtype, copy=False), None


def eigh(A, UPLO: str = "L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices."""
    return eigh_result(*Eigh.apply(_square("eigh", as_tensor_arg(A)), UPLO))


def eigvalsh(A, UPLO: str = "L") -> Tensor:
    """Eigenvalues (ascending) of symmetric matrices."""
    return eigh(A, UPLO).eigenvalues


class SvdVals(Function):
    @staticmethod
    def forward(ctx, a):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        ctx.u, ctx.vh = u, vh
        return s

    @staticmethod
    def backward(ctx, grad):
        if ctx.graph_mode:
            raise RuntimeError("linalg.svdvals: second derivatives are not supported")
        return (ctx.u * grad[..., None, :]) @ ctx.vh  # dσ_k = u_kᵀ dA v_k


def svdvals(A) -> Tensor:
    """Singular values, in descending order."""
    a = _float_input(as_tensor_arg(A))
    return SvdVals.apply(a)


class _QR(Function):
    @staticmethod
    def forward(ctx, a, mode):
        q, r = np.linalg.qr(a, mode=mode)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        raise RuntimeError("linalg.qr: gradients are not supported")


def qr(A, mode: str = "reduced"):
    """``A = Q R`` with orthonormal ``Q`` and upper-triangular ``R`` (no gradient)."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"linalg.qr: mode must be 'reduced' or 'complete', got {mode!r}")
    return qr_result(*_QR.apply(_float_input(as_tensor_arg(A)), mode))


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``(Σ |x|^ord)^(1/ord)`` over ``dim`` (all elements when None)."""
    from deepnum.ops.reduce import norm as _norm

    return _norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """Frobenius, nuclear, 1, inf (max column/row abs sum) or 2 (largest singular value) norm."""
    from deepnum.ops.elementwise import abs as _abs
    from deepnum.ops.minmax import amax, amin
    from deepnum.ops.reduce import norm as _norm
    from deepnum.ops.reduce import sum as _sum

    a = as_tensor_arg(A)
    d0, d1 = (normalize_dim(d, a.ndim, "matrix_norm") for d in dim)
    if ord == "fro":
        return _norm(a, "fro", (d0, d1), keepdim, dtype)
    if ord in (1, -1, float("inf"), float("-inf")):
        summed, other = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = _sum(_abs(a), summed, keepdim=True)
        pick = amax if ord > 0 else amin
        out = pick(sums, other, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    moved = a.movedim((d0, d1), (-2, -1)) if (d0, d1) != (a.ndim - 2, a.ndim - 1) else a
    s = svdvals(moved)
    if ord == "nuc":
        out = s.sum(-1)
    elif ord in (2, -2):
        out = s[..., 0] if ord == 2 else s[..., -1]
    else:
        raise RuntimeError(f"linalg.matrix_norm: order {ord!r} not supported")
    if keepdim:
        out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
    return out


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``linalg.norm``: vector norm of 1-D inputs or over one dim, matrix norm of 2-D or two dims."""
    a = as_tensor_arg(A)
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
    if ord is None:
        return vector_norm(a, 2, dim, keepdim, dtype=dtype)
    if (dim is None and a.ndim == 2) or (isinstance(dim, tuple) and len(dim) == 2):
        return matrix_norm(a, ord, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    if dim is None and a.ndim != 1:
        raise RuntimeError(
            "linalg.norm: input must be 1-D or 2-D when ord is given and dim is None, got "
            f"{a.ndim}-D"
        )
    return vector_norm(a, ord, dim, keepdim, dtype=dtype)


def matrix_power(A, n: int) -> Tensor:
    """``A^n`` by repeated squaring (``n < 0`` uses the inverse)."""
    from deepnum.ops.creation import eye

    a = _square("matrix_power", as_tensor_arg(A))
    if n < 0:
        a, n = inv(a), -n
    result = None
    base = a
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is None:
        identity = eye(a.shape[-1], dtype=a.dtype)
        return identity.expand(*a.shape) if a.ndim > 2 else identity
    return result


_TAYLOR_DEGREE = 18


def matrix_exp(A) -> Tensor:
    """``exp(A) = Σ_j A^j / j!`` of (batches of) square matrices, by scaling and squaring.

    ``exp(A) = exp(A / 2^s)^(2^s)`` with s the smallest integer making ``‖A / 2^s‖₁ ≤ 1``;
    there the Taylor polynomial of degree 18 (Horner's rule) is exact to float64 precision
    (remainder < 1/19! ≈ 8e-18), and s squarings follow. Only products and sums are used,
    so its derivatives, to any order, come from them.
    """
    from deepnum.ops.creation import eye

    a = _square("matrix_exp", as_tensor_arg(A))
    largest_norm = float(np.abs(a.array).sum(axis=-2).max()) if a.array.size else 0.0
    squarings = int(np.ceil(np.log2(largest_norm))) if largest_norm > 1 else 0
    b = a / 2.0**squarings
    identity = eye(a.shape[-1], dtype=a.dtype)
    result = identity + b / _TAYLOR_DEGREE
    for j in range(_TAYLOR_DEGREE - 1, 0, -1):
        result = identity + (b @ result) / j
    for _ in range(squarings):
        result = result @ result
    return result


def multi_dot(tensors) -> Tensor:
    """Product of a chain of matrices (first and last may be vectors)."""
    from deepnum.ops.linalg import matmul

    ts = list(tensors)
    out = ts[0]
    for t in ts[1:]:
        out = matmul(out, t)
    return out


def vecdot(x, y, *, dim: int = -1) -> Tensor:
    """``Σ x_i y_i`` over ``dim``, with broadcasting."""
    from deepnum.ops.elementwise import mul

    return mul(x, y).sum(dim)


def linalg_cross(input, other, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default the last)."""
    from deepnum.ops.matrix import cross

    return cross(input, other, dim=dim)


def linalg_diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    from deepnum.ops.matrix import diagonal as _diagonal

    return _diagonal(A, offset, dim1, dim2)
