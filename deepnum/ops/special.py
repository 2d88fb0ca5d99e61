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
    _NAN,
    _OVERFLOW,
    _POLE,
    _apply_broadcasting,
    _float_input,
    _pointwise_function,
    _unary,
    add,
    div,
    exp,
    log,
    maximum,
    mul,
    sub,
)
from deepnum.tensor import Tensor


# Each primitive: its NumPy forward and its derivative, written in x (or y = f(x) when saved).
# d sin x/dx = cos x
Sin = _pointwise_function("Sin", np.sin, lambda g, x: g * np.cos(x))
# d cos x/dx = -sin x
Cos = _pointwise_function("Cos", np.cos, lambda g, x: -g * np.sin(x))
# d tan x/dx = 1 + tan² x
Tan = _pointwise_function("Tan", np.tan, lambda g, y: g * (1 + y * y), saves="output")
# d asin x/dx = 1 / sqrt(1 - x²)
Asin = _pointwise_function("Asin", np.arcsin, lambda g, x: g / np.sqrt(1 - x * x), errstate=_NAN)
# d acos x/dx = -1 / sqrt(1 - x²)
Acos = _pointwise_function("Acos", np.arccos, lambda g, x: -g / np.sqrt(1 - x * x), errstate=_NAN)
# d atan x/dx = 1 / (1 + x²)
Atan = _pointwise_function("Atan", np.arctan, lambda g, x: g / (1 + x * x))
# d sinh x/dx = cosh x
Sinh = _pointwise_function("Sinh", np.sinh, lambda g, x: g * np.cosh(x), errstate=_OVERFLOW)
# d cosh x/dx = sinh x
Cosh = _pointwise_function("Cosh", np.cosh, lambda g, x: g * np.sinh(x), errstate=_OVERFLOW)
# d log(1 + x)/dx = 1 / (1 + x)
Log1p = _pointwise_function("Log1p", np.log1p, lambda g, x: g / (1 + x), errstate=_POLE)
# d (e^x - 1)/dx = e^x = y + 1
Expm1 = _pointwise_function(
    "Expm1", np.expm1, lambda g, y: g * (y + 1), saves="output", errstate=_OVERFLOW
)


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


sin = _unary(Sin)
cos = _unary(Cos)
log1p = _unary(Log1p)
expm1 = _unary(Expm1)
tan = _unary(Tan)
asin = arcsin = _unary(Asin)
acos = arccos = _unary(Acos)
atan = arctan = _unary(Atan)
sinh = _unary(Sinh)
cosh = _unary(Cosh)


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
