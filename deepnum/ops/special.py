"""Trigonometric, hyperbolic and other transcendental functions (sin ... atan2, log1p, expm1).

Primitives write their derivative on the backward line; ``log2``, ``log10``, ``exp2``,
``logaddexp`` and ``logit`` are compositions of primitives.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import binary_operands, sum_to
from deepnum.ops.elementwise import (
    _apply_broadcasting,
    _float_input,
    add,
    div,
    exp,
    log,
    maximum,
    mul,
    sub,
)
from deepnum.tensor import Tensor


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * np.sin(x)


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)


class Tan(Function):
    @staticmethod
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 + y * y)  # d tan x/dx = 1 + tan² x


class Asin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / np.sqrt(1 - x * x)  # d asin x/dx = 1 / sqrt(1 - x²)


class Acos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / np.sqrt(1 - x * x)  # d acos x/dx = -1 / sqrt(1 - x²)


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x * x)  # d atan x/dx = 1 / (1 + x²)


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cosh(x)


class Cosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(over="ignore"):
            return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sinh(x)


class Atan2(Function):
    """Angle of the point ``(x=other, y=input)``: ``atan2(y, x)``."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        r2 = x * x + y * y
        need_y, need_x = ctx.needs_input_grad
        return (
            sum_to(grad * x / r2, np.shape(y)) if need_y else None,  # ∂/∂y = x / (x² + y²)
            sum_to(-grad * y / r2, np.shape(x)) if need_x else None,  # ∂/∂x = -y / (x² + y²)
        )


def _unary(fn, name):
    def op(input) -> Tensor:
        return fn.apply(_float_input(input))

    op.__name__ = name
    op.__doc__ = f"``{name}`` element-wise."
    return op


sin = _unary(Sin, "sin")
cos = _unary(Cos, "cos")
log1p = _unary(Log1p, "log1p")
expm1 = _unary(Expm1, "expm1")
tan = _unary(Tan, "tan")
asin = arcsin = _unary(Asin, "asin")
acos = arccos = _unary(Acos, "acos")
atan = arctan = _unary(Atan, "atan")
sinh = _unary(Sinh, "sinh")
cosh = _unary(Cosh, "cosh")


def atan2(input, other) -> Tensor:
    """``atan2(input, other)``: the angle of ``(other, input)`` in ``(-π, π]``."""
    y, x = binary_operands(_float_input(input), _float_input(other))
    return _apply_broadcasting(Atan2, "atan2", y, x)


arctan2 = atan2


def log2(input) -> Tensor:
    """``log(x) / log(2)``."""
    return div(log(input), math.log(2.0))


def log10(input) -> Tensor:
    """``log(x) / log(10)``."""
    return div(log(input), math.log(10.0))


def exp2(input) -> Tensor:
    """``2^x = exp(x log 2)``."""
    return exp(mul(_float_input(input), math.log(2.0)))


def logaddexp(input, other) -> Tensor:
    """``log(e^a + e^b)`` without overflow: ``m + log(e^{a-m} + e^{b-m})``, ``m = max(a, b)``.

    References:
        001 App. A eq. 95 (log-sum-exp).
    """
    a, b = binary_operands(_float_input(input), _float_input(other))
    m = maximum(a, b).detach()
    shift = np.where(np.isfinite(m.array), m.array, 0).astype(m.dtype, copy=False)
    m = Tensor._make(shift, False, None, 0)
    return add(m, log(add(exp(sub(a, m)), exp(sub(b, m)))))


def logit(input, eps=None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    from deepnum.ops.pointwise import clamp

    p = _float_input(input)
    if eps is not None:
        p = clamp(p, eps, 1 - eps)
    return log(div(p, sub(1.0, p)))


class Xlogy(Function):
    """``x · log(y)``, defined as 0 where ``x = 0`` (even for ``y = 0``)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        ctx.zero = x == 0
        ctx.shapes = (np.shape(x), np.shape(y))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ctx.zero, 0, x * np.log(y)).astype(np.result_type(x, y), copy=False)

    @staticmethod
    def backward(ctx, grad):
        from deepnum.ops.elementwise import Where

        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        shape_x, shape_y = ctx.shapes
        return (
            sum_to(Where.apply(ctx.zero, 0.0, grad * np.log(y)), shape_x) if need_x else None,
            sum_to(grad * x / y, shape_y) if need_y else None,  # ∂/∂y = x / y
        )


def xlogy(input, other) -> Tensor:
    """``input · log(other)``, 0 where ``input`` is 0 (the convention of entropies)."""
    x, y = binary_operands(_float_input(input), _float_input(other))
    return _apply_broadcasting(Xlogy, "xlogy", x, y)


def erfc(input) -> Tensor:
    """``1 - erf(x)``."""
    from deepnum.ops.pointwise import erf

    return sub(1.0, erf(input))


def ndtr(input) -> Tensor:
    """Standard normal CDF ``Φ(x) = (1 + erf(x / √2)) / 2``."""
    from deepnum.ops.pointwise import erf

    return mul(add(erf(mul(_float_input(input), 1 / math.sqrt(2.0))), 1.0), 0.5)


def deg2rad(input) -> Tensor:
    return mul(_float_input(input), math.pi / 180.0)


def rad2deg(input) -> Tensor:
    return mul(_float_input(input), 180.0 / math.pi)


TENSOR_METHODS = {
    "xlogy": xlogy, "erfc": erfc, "deg2rad": deg2rad, "rad2deg": rad2deg,
    "sin": sin, "cos": cos, "log1p": log1p, "expm1": expm1, "tan": tan, "asin": asin,
    "arcsin": asin, "acos": acos, "arccos": acos, "atan": atan, "arctan": atan, "sinh": sinh,
    "cosh": cosh, "atan2": atan2, "arctan2": atan2, "log2": log2, "log10": log10, "exp2": exp2,
    "logaddexp": logaddexp, "logit": logit,
}
UFUNCS = {
    "sin": sin, "cos": cos, "log1p": log1p, "expm1": expm1, "tan": tan, "arcsin": asin,
    "arccos": acos, "arctan": atan, "sinh": sinh, "cosh": cosh, "arctan2": atan2, "log2": log2,
    "log10": log10, "exp2": exp2, "logaddexp": logaddexp,
}

# torch.special names: this module is also ``deepnum.special``
from deepnum.ops.elementwise import sigmoid as expit  # noqa: E402
from deepnum.ops.logexp import log_softmax, logsumexp, softmax  # noqa: E402, F401
from deepnum.ops.pointwise import erf  # noqa: E402, F401
