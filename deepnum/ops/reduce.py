"""Reductions over dimensions with PyTorch's ``dim`` / ``keepdim`` semantics.

sum, mean, var, std, prod, cumsum and norm. Every backward broadcasts the reduced gradient
back over the reduced axes (``_expand_back``) and is written with differentiable operations,
so second derivatives flow through it.
"""

from __future__ import annotations

import warnings

import numpy as np

from deepnum import _dtype
from deepnum.autograd.function import Function
from deepnum.ops._util import BroadcastTo, as_tensor_arg, cast, normalize_dim, normalize_dims
from deepnum.tensor import Tensor


def _dims(dim, axis, ndim, op):
    if axis is not None:
        dim = axis
    if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) == 0:
        dim = None  # PyTorch: an empty dim list reduces over everything
    return normalize_dims(dim, ndim, op)


def _keep(keepdim, keepdims):
    return bool(keepdims) if keepdims is not None else bool(keepdim)


def _kept_shape(in_shape, axes):
    axes = range(len(in_shape)) if axes is None else axes
    return tuple(1 if i in axes else s for i, s in enumerate(in_shape))


def _expand_back(grad, in_shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes."""
    if not keepdim:
        grad = grad.reshape(_kept_shape(in_shape, axes))
    return BroadcastTo.apply(grad, in_shape)


def _count(in_shape, axes) -> int:
    axes = range(len(in_shape)) if axes is None else axes
    return int(np.prod([in_shape[a] for a in axes]))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # d(sum x)/dx_i = 1: the gradient is copied to every summed element
        return _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.count = _count(x.shape, axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.mean(x, axis=axes, keepdims=keepdim) if x.size else
                              np.sum(x, axis=axes, keepdims=keepdim) / ctx.count, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        g = _expand_back(grad / max(ctx.count, 1), ctx.in_shape, ctx.axes, ctx.keepdim)
        return g, None, None


def _accumulating_dtype(x: Tensor, dtype):
    if dtype is not None:
        return cast(x, _dtype.to_dtype(dtype))
    if x.array.dtype.kind in "biu":
        return cast(x, _dtype.int64)
    return x


def _require_float(x: Tensor, op: str) -> None:
    if x.array.dtype.kind not in "fc":
        raise RuntimeError(
            f"{op}(): could not infer output dtype. Input dtype must be floating point, "
            f"got {x.array.dtype}; use .float() first"
        )


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """``Σ input`` over ``dim`` (all dims when None); integers and bools sum as int64.

    Examples:
        >>> deepnum.tensor([[1, 2], [3, 4]]).sum(dim=0)
        tensor([4, 6])
    """
    x = _accumulating_dtype(as_tensor_arg(input), dtype)
    axes = _dims(dim, axis, x.ndim, "sum")
    return Sum.apply(x, axes, _keep(keepdim, keepdims))


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """``Σ input / N`` over ``dim``; like PyTorch, only for floating tensors."""
    x = as_tensor_arg(input)
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    _require_float(x, "mean")
    axes = _dims(dim, axis, x.ndim, "mean")
    return Mean.apply(x, axes, _keep(keepdim, keepdims))


class Var(Function):
    """``Σ (x - x̄)² / (N - correction)``, computed in two passes for accuracy."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.denom = _count(x.shape, axes) - correction
        ctx.save_for_backward(x)
        if ctx.denom + correction == 0:  # nothing to reduce: NaN, as PyTorch
            return np.full(np.sum(x, axis=axes, keepdims=keepdim).shape, np.nan, x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            d = x - np.mean(x, axis=axes, keepdims=True)
            total = np.sum(d * d, axis=axes, keepdims=keepdim)
            return np.asarray(total / np.asarray(ctx.denom, x.dtype), x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        axes = tuple(range(x.ndim)) if ctx.axes is None else ctx.axes
        centred = x - x.mean(axis=axes, keepdims=True)
        # d var/dx_i = 2 (x_i - x̄) / (N - correction); the Σ(x - x̄) = 0 term vanishes
        g = _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim)
        return g * centred * (2.0 / ctx.denom), None, None, None


def _var_args(dim, unbiased, correction, keepdim):
    if isinstance(dim, bool):  # legacy var(input, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``Σ (x - x̄)² / (N - correction)`` over ``dim``; ``correction=1`` is Bessel's correction.

    ``unbiased`` (legacy) means ``correction=1`` when True, 0 when False.
    """
    x = as_tensor_arg(input)
    _require_float(x, "var")
    dim, correction = _var_args(dim, unbiased, correction, keepdim)
    axes = _dims(dim, None, x.ndim, "var")
    if _count(x.shape, axes) - correction <= 0:
        warnings.warn(
            "var(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).", UserWarning, 2,
        )
    return Var.apply(x, axes, bool(keepdim), correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``sqrt(var)``: standard deviation over ``dim``."""
    from deepnum.ops.elementwise import sqrt

    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


class Prod(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.in_shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        y = np.prod(x, axis=axis, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        ctx.has_zero = bool((x == 0).any())
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        axes = None if ctx.axis is None else (ctx.axis,)
        g = _expand_back(grad, ctx.in_shape, axes, ctx.keepdim)
        if not ctx.has_zero:
            return g * _expand_back(y, ctx.in_shape, axes, ctx.keepdim) / x, None, None
        if ctx.graph_mode:
            raise RuntimeError(
                "prod: second derivatives through a product containing zeros are not supported"
            )
        # with zeros, dΠ/dx_i = Π_{j≠i} x_j: exclusive products from the left and the right
        axis = -1 if ctx.axis is None else ctx.axis
        xs = x.reshape(-1) if ctx.axis is None else x
        ones = np.ones_like(np.take(xs, [0], axis=axis))
        head = range(xs.shape[axis] - 1)
        left = np.cumprod(np.concatenate([ones, np.take(xs, head, axis=axis)], axis), axis)
        rev = np.flip(xs, axis)
        right = np.cumprod(np.concatenate([ones, np.take(rev, head, axis=axis)], axis), axis)
        right = np.flip(right, axis)
        return g * (left * right).reshape(ctx.in_shape), None, None


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """``Π input`` over one ``dim`` (all elements when None); integers multiply as int64."""
    x = _accumulating_dtype(as_tensor_arg(input), dtype)
    axis = None if dim is None else normalize_dim(dim, x.ndim, "prod")
    if x.ndim == 0:
        axis = None
    return Prod.apply(x, axis, bool(keepdim) and dim is not None)


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        # y_j = Σ_{i<=j} x_i, so dL/dx_i = Σ_{j>=i} dL/dy_j: a cumulative sum from the end
        return ReverseCumSum.apply(grad, ctx.axis), None


class ReverseCumSum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis).copy()

    @staticmethod
    def backward(ctx, grad):
        return CumSum.apply(grad, ctx.axis), None


def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``: ``y_j = Σ_{i<=j} x_i``; integers accumulate as int64."""
    x = _accumulating_dtype(as_tensor_arg(input), dtype)
    axis = normalize_dim(dim, x.ndim, "cumsum")
    if x.ndim == 0:
        return Sum.apply(x, None, False)
    return CumSum.apply(x, axis)


class Norm2(Function):
    """Euclidean norm ``sqrt(Σ x²)``; its gradient ``x / ‖x‖`` is taken as 0 at ``x = 0``."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        y = np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        yk = _expand_back(y, ctx.in_shape, ctx.axes, ctx.keepdim)
        g = _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim)
        safe = yk + (_raw(yk) == 0)  # where the norm is 0, x is 0 too and the ratio is 0
        return g * x / safe, None, None


def _raw(x):
    return x.array if isinstance(x, Tensor) else x


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm ``(Σ |x|^p)^(1/p)`` over ``dim`` (all elements when None).

    Args:
        input: floating tensor.
        p: ``'fro'`` or 2 (Euclidean; gradient 0 at 0), 1, ``inf``/``-inf`` (max/min of
            ``|x|``, ties share the gradient), 0 (count of non-zeros) or any other number.
        dim: int or tuple of dims; None for all.
        keepdim: keep reduced dims with size 1.
        dtype: cast ``input`` to this dtype first.

    Examples:
        >>> deepnum.norm(deepnum.tensor([3.0, 4.0]))
        tensor(5.)
    """
    from deepnum.ops import elementwise as ew
    from deepnum.ops.minmax import amax, amin

    x = as_tensor_arg(input)
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"norm(): expected a floating point tensor as input, got {x.dtype}")
    axes = _dims(dim, None, x.ndim, "norm")
    keepdim = bool(keepdim)
    if p is None or p == "fro" or p == 2:
        return Norm2.apply(x, axes, keepdim)
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc') is not supported; use deepnum.linalg")
    if p == 1:
        return sum(ew.abs(x), axes, keepdim)
    if p == float("inf"):
        return amax(ew.abs(x), () if axes is None else axes, keepdim)
    if p == float("-inf"):
        return amin(ew.abs(x), () if axes is None else axes, keepdim)
    if p == 0:
        from deepnum.ops.logic import ne

        return sum(cast(ne(x, 0), x.dtype), axes, keepdim)
    return ew.pow(sum(ew.pow(ew.abs(x), p), axes, keepdim), 1.0 / p)


def _zero_nans(x: Tensor) -> Tensor:
    from deepnum.ops.elementwise import Where

    return Where.apply(np.isnan(x.array), np.zeros((), x.dtype), x)


def nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """``sum`` treating NaN as zero."""
    x = as_tensor_arg(input)
    return sum(_zero_nans(x) if x.dtype.kind == "f" else x, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """``mean`` over the non-NaN elements."""
    from deepnum.ops.elementwise import div

    x = as_tensor_arg(input)
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    _require_float(x, "nanmean")
    count = Tensor._make(~np.isnan(x.array), False, None, 0)
    return div(nansum(x, dim, keepdim), sum(cast(count, x.dtype), dim, keepdim))


TENSOR_METHODS = {
    "nansum": nansum, "nanmean": nanmean,
    "sum": sum, "mean": mean, "var": var, "std": std, "prod": prod, "cumsum": cumsum,
    "norm": norm,
}
