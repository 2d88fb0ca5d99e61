"""Numerically stable log-domain ops: logsumexp, softmax, log_softmax, logmatmulexp.

All rest on the log-sum-exp trick (001 App. A eq. 95): ``ln Σ e^{x_i} = ln Σ e^{x_i - c} + c``
with ``c = max x_i``, so no exponential overflows and the largest term is exactly 1.

References:
    001 App. A eq. 95 (log-sum-exp), eq. 98 (logarithm of a matrix product).
"""

from __future__ import annotations

import warnings

import numpy as np

from deepnum import _dtype
from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, binary_operands, cast, normalize_dim, normalize_dims
from deepnum.ops.reduce import _expand_back, _kept_shape
from deepnum.tensor import Tensor


def _shifted(x, axes):
    """``x - c`` and ``c = max x`` over ``axes`` (keepdims); an all -inf slice uses c = 0."""
    if x.size:
        c = np.max(x, axis=axes, keepdims=True)
    else:
        c = np.zeros(_kept_shape(x.shape, axes), x.dtype)
    c = np.where(np.isfinite(c), c, 0).astype(x.dtype, copy=False)
    return x - c, c


class LogSumExp(Function):
    """``ln Σ exp(x)`` over ``axes`` via 001 eq. 95; its gradient is ``softmax(x)``."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        z, c = _shifted(x, axes)
        with np.errstate(divide="ignore"):
            y = np.log(np.sum(np.exp(z), axis=axes, keepdims=True)) + c
        y = y if keepdim else y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        yk = _expand_back(y, ctx.in_shape, ctx.axes, ctx.keepdim)
        g = _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim)
        return g * np.exp(x - yk), None, None  # d lse/dx_i = e^{x_i - lse} = softmax_i


def _float(x: Tensor, dtype=None) -> Tensor:
    if dtype is not None:
        return cast(x, _dtype.to_dtype(dtype))
    if x.dtype.kind not in "fc":
        return cast(x, _dtype.get_default_dtype())
    return x


def logsumexp(input, dim, keepdim=False) -> Tensor:
    """``ln Σ_i exp(input_i)`` over ``dim``, computed stably (001 App. A eq. 95).

    Examples:
        >>> deepnum.logsumexp(deepnum.tensor([1000.0, 1000.0]), dim=0)
        tensor(1000.6932)
    """
    x = _float(as_tensor_arg(input))
    if not isinstance(dim, (int, np.integer)) and len(dim) == 0:
        dim = None
    axes = normalize_dims(dim, x.ndim, "logsumexp")
    axes = tuple(range(x.ndim)) if axes is None else axes
    return LogSumExp.apply(x, axes, bool(keepdim))


class Softmax(Function):
    """``e^{x_i - c} / Σ_j e^{x_j - c}`` with ``c = max x`` (001 App. A eq. 95)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        z, _ = _shifted(x, (axis,))
        e = np.exp(z)
        y = e / np.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # Jacobian-vector product of softmax: y ⊙ (g - <g, y>)
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True)), None


class LogSoftmax(Function):
    """``x_i - ln Σ_j e^{x_j}``, the log-sum-exp taken stably (001 App. A eq. 95)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        z, _ = _shifted(x, (axis,))
        y = z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        # d log_softmax_i/dx_j = δ_ij - softmax_j
        return grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True), None


def _softmax_dim(name, ndim, dim, stacklevel=3):
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            "include dim=X as an argument.", UserWarning, stacklevel=stacklevel,
        )
        dim = 0 if ndim in (0, 1, 3) else 1
    return normalize_dim(dim, ndim, name)


def softmax(input, dim=None, dtype=None, _stacklevel=3) -> Tensor:
    """``softmax(x)_i = e^{x_i} / Σ_j e^{x_j}`` along ``dim``, stably (001 App. A eq. 95).

    Args:
        input: the tensor.
        dim: dimension along which the entries sum to 1.
        dtype: if given, ``input`` is cast to it first.

    Examples:
        >>> deepnum.softmax(deepnum.tensor([0.0, 1000.0]), dim=0)
        tensor([0., 1.])
    """
    x = _float(as_tensor_arg(input), dtype)
    axis = _softmax_dim("softmax", x.ndim, dim)
    if x.ndim == 0:
        return Softmax.apply(x.reshape(1), 0).reshape(())
    return Softmax.apply(x, axis)


def log_softmax(input, dim=None, dtype=None, _stacklevel=3) -> Tensor:
    """``log_softmax(x)_i = x_i - ln Σ_j e^{x_j}`` along ``dim`` (001 App. A eq. 95)."""
    x = _float(as_tensor_arg(input), dtype)
    axis = _softmax_dim("log_softmax", x.ndim, dim)
    if x.ndim == 0:
        return LogSoftmax.apply(x.reshape(1), 0).reshape(())
    return LogSoftmax.apply(x, axis)


def logmatmulexp(A, B) -> Tensor:
    """``ln(exp(A) @ exp(B))`` in the log domain: ``C_ij = ln Σ_k exp(A_ik + B_kj)`` (001 eq. 98).

    The fast path shifts each row of ``A`` and column of ``B`` by its maximum (001 eq. 95) and
    multiplies with BLAS; if some entry of the shifted product underflows, the result is
    computed instead as a log-sum-exp over ``k`` of ``A_ik + B_kj``, exact for any magnitudes.
    Both paths are compositions of differentiable ops. Batch dimensions broadcast as in
    ``matmul``.

    Args:
        A: ``(*, n, k)`` log-values.
        B: ``(*, k, m)`` log-values.

    Shape:
        Output: ``(*, n, m)``.

    Examples:
        >>> A = deepnum.tensor([[0.0, -1000.0]])
        >>> B = deepnum.tensor([[-1000.0], [0.0]])
        >>> deepnum.logmatmulexp(A, B)
        tensor([[-999.3068]])

    References:
        001 App. A eq. 95 and eq. 98.
    """
    from deepnum.ops import elementwise as ew
    from deepnum.ops.linalg import matmul
    from deepnum.ops.shape import unsqueeze

    a, b = binary_operands(_float(as_tensor_arg(A)), _float(as_tensor_arg(B)))
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(
            f"logmatmulexp: expected tensors with at least 2 dims, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"logmatmulexp: {tuple(a.shape)} and {tuple(b.shape)}: inner dimensions "
            f"{a.shape[-1]} and {b.shape[-2]} differ"
        )
    k = a.shape[-1]
    if k:
        _, ca = _shifted(a.array, (a.ndim - 1,))
        _, cb = _shifted(b.array, (b.ndim - 2,))
        ca_t, cb_t = Tensor._make(ca, False, None, 0), Tensor._make(cb, False, None, 0)
        # the shifts are constants: C = ln(e^{A-a} e^{B-b}) + a + b holds for any a, b
        prod = matmul(ew.exp(a - ca_t), ew.exp(b - cb_t))
        info = np.finfo(a.dtype)
        if prod.array.size == 0 or prod.array.min() > info.tiny / info.eps * k:
            return ew.log(prod) + ca_t + cb_t
    return logsumexp(unsqueeze(a, -1) + unsqueeze(b, -3), dim=-2)


TENSOR_METHODS = {
    "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax,
}
