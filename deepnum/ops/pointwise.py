"""More element-wise ops: clamp, rounding, rsqrt, erf, and the fused ``addcmul`` family.

Ops with a piecewise-constant result (``floor``, ``ceil``, ``round``, ``trunc``, ``sign``)
have a zero gradient, as in PyTorch: their output still joins the graph, so ``backward``
through them gives zeros rather than an error.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum import _dtype
from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, binary_operands, cast, sum_to
from deepnum.ops.elementwise import _float_input, add, div, mul, sub
from deepnum.tensor import Tensor


def _raw(x):
    return x.array if isinstance(x, Tensor) else x


def _shape(x):
    return np.shape(x) if not isinstance(x, Tensor) else x.shape


# ----------------------------------------------------------------------------- clamp
class Clamp(Function):
    """min(max(x, lo), hi); PyTorch's rule sends the gradient to whichever argument is returned."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        y = x
        has_lo, has_hi = lo is not None, hi is not None
        if has_lo:
            y = np.maximum(y, lo)
        if has_hi:
            y = np.minimum(y, hi)
        ctx.shapes = (x.shape, _shape(lo), _shape(hi))
        # masks follow PyTorch's clamp_backward and clamp_backward_min_max
        keep = np.ones(np.shape(y), dtype=bool)
        if has_lo:
            keep = keep & (x >= lo)
        if has_hi:
            keep = keep & (x <= hi)
        ctx.keep_x = keep
        if has_lo:
            ctx.to_lo = (x < lo) & (lo < hi) if has_hi else (x < lo)
        if has_hi:
            ctx.to_hi = (x > hi) | (hi < lo) if has_lo else (x > hi)
        return np.asarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        sx, slo, shi = ctx.shapes
        need_x, need_lo, need_hi = ctx.needs_input_grad
        return (
            sum_to(grad * ctx.keep_x, sx) if need_x else None,
            sum_to(grad * ctx.to_lo, slo) if need_lo else None,
            sum_to(grad * ctx.to_hi, shi) if need_hi else None,
        )


def clamp(input, min=None, max=None) -> Tensor:
    """``min(max(input, min), max)`` element-wise; ``min``/``max`` are numbers or tensors.

    Examples:
        >>> deepnum.clamp(deepnum.tensor([-2.0, 0.5, 3.0]), min=-1, max=1)
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    x = as_tensor_arg(input)
    lo, hi = min, max
    if lo is not None:
        x, lo = binary_operands(x, lo)
    if hi is not None:
        x, hi = binary_operands(x, hi)
        if isinstance(lo, Tensor):
            lo = cast(lo, x.dtype)
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        shapes = [x.shape] + [t.shape for t in (lo, hi) if isinstance(t, Tensor)]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise RuntimeError(
                f"clamp: shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast"
            ) from None
    return Clamp.apply(x, lo, hi)


def clamp_min(input, min) -> Tensor:
    return clamp(input, min=min)


def clamp_max(input, max) -> Tensor:
    return clamp(input, max=max)


clip = clamp


# --------------------------------------------------------------------- zero-gradient
class _Piecewise(Function):
    """A piecewise-constant op: the derivative is 0 wherever it exists."""

    @staticmethod
    def forward(ctx, x, fn):
        return fn(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None


def _piecewise(name, fn, ints_unchanged=True):
    def op(input) -> Tensor:
        x = as_tensor_arg(input)
        if ints_unchanged and x.dtype.kind in "biu":
            return Tensor._make(x.array.copy(), False, None, 0)
        return _Piecewise.apply(x, fn)

    op.__name__ = name
    op.__doc__ = f"``{name}`` element-wise; its gradient is zero."
    return op


floor = _piecewise("floor", np.floor)
ceil = _piecewise("ceil", np.ceil)
trunc = fix = _piecewise("trunc", np.trunc)
sign = sgn = _piecewise("sign", np.sign, ints_unchanged=False)


def round(input, *, decimals: int = 0) -> Tensor:
    """Round half to even (as PyTorch), to ``decimals`` places; its gradient is zero."""
    x = as_tensor_arg(input)
    if x.dtype.kind in "biu":
        return Tensor._make(x.array.copy(), False, None, 0)
    return _Piecewise.apply(x, lambda a: np.round(a, decimals))


def frac(input) -> Tensor:
    """``input - trunc(input)``; its gradient is 1."""
    x = as_tensor_arg(input)
    return sub(x, trunc(x).detach())


# ------------------------------------------------------------------------------ unary
class Rsqrt(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = 1 / np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (-0.5 * y * y * y)  # d x^(-1/2)/dx = -x^(-3/2) / 2


def rsqrt(input) -> Tensor:
    """``1 / sqrt(input)`` element-wise."""
    return Rsqrt.apply(_float_input(input))


def square(input) -> Tensor:
    """``input * input``; bools become int64 as in PyTorch."""
    x = as_tensor_arg(input)
    if x.dtype.kind == "b":
        x = cast(x, _dtype.int64)
    return mul(x, x)


def reciprocal(input) -> Tensor:
    """``1 / input`` (integers give the default float dtype)."""
    return div(1.0, _float_input(input))


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
# Chebyshev coefficients of erfc for x >= 0 (Numerical Recipes 3rd ed. §6.2.2), ~1e-16 relative
_ERFC_COF = np.array([
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
    -1.624290004647e-6, 1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9,
    5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12,
    -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15,
    -9.4e-17, 1.21e-16, -2.8e-17,
])


def _erfc_positive(z):
    t = 2.0 / (2.0 + z)
    ty = 4.0 * t - 2.0
    d = np.zeros_like(z)
    dd = np.zeros_like(z)
    for c in _ERFC_COF[:0:-1]:
        d, dd = ty * d - dd + c, d
    return t * np.exp(-z * z + 0.5 * (_ERFC_COF[0] + ty * d) - dd)


def _erf_float32(x: np.ndarray) -> np.ndarray:
    """erf to ~1.5e-7 absolute (Abramowitz & Stegun 7.1.26), below float32's tolerance."""
    z = np.abs(x)
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (np.float32(0.254829592) + t * (np.float32(-0.284496736) + t * (
        np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * np.float32(1.061405429)))))
    return np.copysign(1 - poly * np.exp(-z * z), x)


def _erf_array(x: np.ndarray) -> np.ndarray:
    """erf: Maclaurin series near 0 (keeps relative accuracy), erfc beyond; float64 accurate."""
    if x.dtype == np.float32 or x.dtype == np.float16:
        return _erf_float32(x)
    x64 = x.astype(np.float64)
    z = np.abs(x64)
    small = z < 0.5
    zs = np.where(small, z, 0.0)
    z2 = zs * zs
    term = zs.copy()
    series = zs.copy()
    for n in range(1, 18):  # erf(x) = 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1))
        term = term * (-z2) / n
        series = series + term / (2 * n + 1)
    large = 1.0 - _erfc_positive(np.where(small, 1.0, z))
    out = np.where(small, _TWO_OVER_SQRT_PI * series, large)
    return (np.sign(x64) * out).astype(x.dtype, copy=False)


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_array(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (_TWO_OVER_SQRT_PI * np.exp(-(x * x)))  # d erf/dx = 2/sqrt(pi) e^{-x^2}


def erf(input) -> Tensor:
    """Gauss error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``."""
    return Erf.apply(_float_input(input))


# ---------------------------------------------------------------------- fused combos
def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    prod = mul(tensor1, tensor2)
    return add(input, mul(prod, value) if value != 1 else prod)


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    quot = div(tensor1, tensor2)
    return add(input, mul(quot, value) if value != 1 else quot)


def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)``: linear interpolation."""
    return add(input, mul(weight, sub(end, input)))


TENSOR_METHODS = {
    "clamp": clamp, "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "floor": floor, "ceil": ceil, "trunc": trunc, "fix": trunc, "round": round, "frac": frac,
    "sign": sign, "sgn": sign, "rsqrt": rsqrt, "square": square, "reciprocal": reciprocal,
    "erf": erf,
    "addcmul": addcmul, "addcdiv": addcdiv, "lerp": lerp,
}
UFUNCS = {"floor": floor, "ceil": ceil, "trunc": trunc, "sign": sign, "square": square,
          "reciprocal": reciprocal}
