"""Tests and integer arithmetic: isnan, all/any, nonzero, isclose, remainder, floor_divide...

Predicates return bool tensors outside the graph. ``remainder`` and ``fmod`` are
differentiable (``a - q b`` with the integer quotient ``q`` held constant, as PyTorch);
``floor_divide`` is not.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, binary_operands, normalize_dims, sum_to
from deepnum.ops.elementwise import Where, _apply_broadcasting, _broadcast_error, _raw
from deepnum.tensor import Tensor


def _const(array) -> Tensor:
    return Tensor._make(np.asarray(array), False, None, 0)


# -------------------------------------------------------------------- comparisons
def _compare(np_fn, name):
    def op(input, other) -> Tensor:
        if other is None:
            return False
        a, b = binary_operands(input, other)
        try:
            return _const(np_fn(_raw(a), _raw(b)))
        except ValueError:
            raise _broadcast_error(name, a, b) from None

    op.__name__ = name
    return op


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = less = _compare(np.less, "lt")
le = less_equal = _compare(np.less_equal, "le")
gt = greater = _compare(np.greater, "gt")
ge = greater_equal = _compare(np.greater_equal, "ge")


def _ne_dunder(self, other):
    return True if other is None else ne(self, other)


def logical_not(input) -> Tensor:
    return _const(np.logical_not(as_tensor_arg(input).array))


def bitwise_not(input) -> Tensor:
    """``~x``: logical not for bools, two's-complement not for integers."""
    a = as_tensor_arg(input).array
    if a.dtype.kind == "f":
        raise TypeError(f"bitwise_not: not implemented for floating tensors (dtype {a.dtype})")
    return _const(np.invert(a))


def _elementwise_logic(np_fn, name):
    def op(input, other) -> Tensor:
        a, b = as_tensor_arg(input), as_tensor_arg(other)
        try:
            return _const(np_fn(a.array, b.array))
        except ValueError:
            raise _broadcast_error(name, a, b) from None

    op.__name__ = name
    return op


logical_and = _elementwise_logic(np.logical_and, "logical_and")
logical_or = _elementwise_logic(np.logical_or, "logical_or")
logical_xor = _elementwise_logic(np.logical_xor, "logical_xor")
bitwise_and = _elementwise_logic(np.bitwise_and, "bitwise_and")
bitwise_or = _elementwise_logic(np.bitwise_or, "bitwise_or")
bitwise_xor = _elementwise_logic(np.bitwise_xor, "bitwise_xor")


def _predicate(np_fn, name):
    def op(input) -> Tensor:
        return _const(np_fn(as_tensor_arg(input).array))

    op.__name__ = name
    return op


isnan = _predicate(np.isnan, "isnan")
isinf = _predicate(np.isinf, "isinf")
isfinite = _predicate(np.isfinite, "isfinite")
isposinf = _predicate(np.isposinf, "isposinf")
isneginf = _predicate(np.isneginf, "isneginf")
signbit = _predicate(np.signbit, "signbit")


def _logical_reduce(np_fn, name):
    def op(input, dim=None, keepdim=False) -> Tensor:
        x = as_tensor_arg(input)
        axes = normalize_dims(dim, x.ndim, name)
        out = np_fn(x.array, axis=axes, keepdims=bool(keepdim))
        return _const(out.astype(np.uint8) if x.dtype == np.uint8 else out)

    op.__name__ = name
    which = "every" if name == "all" else "any"
    op.__doc__ = f"Whether {which} element over ``dim`` is non-zero (bool)."
    return op


all = _logical_reduce(np.all, "all")
any = _logical_reduce(np.any, "any")


def nonzero(input, *, as_tuple: bool = False):
    """Indices of the non-zero elements: an ``(n, ndim)`` int64 tensor, or one tensor per dim."""
    a = as_tensor_arg(input).array
    if a.ndim == 0:
        n = int(bool(a))
        if as_tuple:
            return (_const(np.zeros(n, np.int64)),)
        return _const(np.zeros((n, 0), np.int64))
    idx = np.nonzero(a)
    if as_tuple:
        return tuple(_const(i.astype(np.int64)) for i in idx)
    return _const(np.stack(idx, axis=1).astype(np.int64).reshape(-1, a.ndim))


def argwhere(input) -> Tensor:
    return nonzero(input)


def count_nonzero(input, dim=None) -> Tensor:
    x = as_tensor_arg(input)
    axes = normalize_dims(dim, x.ndim, "count_nonzero")
    return _const(np.asarray(np.count_nonzero(x.array, axis=axes), dtype=np.int64))


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` element-wise."""
    a, b = binary_operands(as_tensor_arg(input), as_tensor_arg(other))
    return _const(np.isclose(_raw(a), _raw(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())


def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    return a.shape == b.shape and bool(np.array_equal(a.array, b.array))


class _RoundedRemainder(Function):
    """``a - q(a, b) b`` for an integer-valued quotient ``q`` treated as a constant."""

    @staticmethod
    def forward(ctx, a, b, mode):
        q = np.floor(a / b) if mode == "floor" else np.trunc(a / b)
        ctx.q = q
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.remainder(a, b) if mode == "floor" else np.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad[:2]
        sa, sb = ctx.shapes
        return (sum_to(grad, sa) if need_a else None,
                sum_to(-grad * ctx.q.astype(grad.dtype), sb) if need_b else None, None)


def _rounded(mode, name):
    def op(input, other) -> Tensor:
        a, b = binary_operands(input, other)
        dt = a.dtype if isinstance(a, Tensor) else b.dtype
        if dt.kind in "iub":
            with np.errstate(divide="ignore", invalid="ignore"):
                fn = np.remainder if mode == "floor" else np.fmod
                out = fn(_raw(as_tensor_arg(a)), _raw(as_tensor_arg(b)))
            return _const(out.astype(dt, copy=False))
        with np.errstate(divide="ignore", invalid="ignore"):
            return _apply_broadcasting(_RoundedRemainder, name, a, b, mode)

    op.__name__ = name
    return op


remainder = _rounded("floor", "remainder")
fmod = _rounded("trunc", "fmod")


def floor_divide(input, other) -> Tensor:
    """``floor(input / other)`` (not differentiable), in the operands' promoted dtype."""
    a, b = binary_operands(input, other)
    dt = a.dtype if isinstance(a, Tensor) else b.dtype
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.floor_divide(_raw(as_tensor_arg(a)), _raw(as_tensor_arg(b)))
    return _const(np.asarray(q).astype(dt, copy=False))


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """NaN, +inf and -inf replaced by finite numbers; the gradient is 0 at the replaced ones."""
    x = as_tensor_arg(input)
    if x.dtype.kind not in "fc":
        return x
    replaced = np.nan_to_num(x.array, nan=nan, posinf=posinf, neginf=neginf)
    return Where.apply(np.isfinite(x.array), x, replaced)


def _reflected(op):
    return lambda self, other: op(other, self)


TENSOR_METHODS = {
    "__eq__": eq, "__ne__": _ne_dunder, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__invert__": bitwise_not, "__and__": bitwise_and, "__or__": bitwise_or,
    "__xor__": bitwise_xor, "__rand__": bitwise_and, "__ror__": bitwise_or,
    "__rxor__": bitwise_xor,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "less": lt, "less_equal": le,
    "greater": gt, "greater_equal": ge, "logical_not": logical_not, "logical_and": logical_and,
    "logical_or": logical_or, "logical_xor": logical_xor, "bitwise_not": bitwise_not,
    "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor,
    "isnan": isnan, "isinf": isinf, "isfinite": isfinite, "isposinf": isposinf,
    "isneginf": isneginf, "signbit": signbit, "all": all, "any": any, "nonzero": nonzero,
    "argwhere": argwhere, "count_nonzero": count_nonzero, "isclose": isclose, "allclose": allclose,
    "equal": equal, "remainder": remainder, "fmod": fmod, "floor_divide": floor_divide,
    "nan_to_num": nan_to_num, "__mod__": remainder, "__rmod__": _reflected(remainder),
    "__floordiv__": floor_divide, "__rfloordiv__": _reflected(floor_divide),
}
UFUNCS = {"equal": eq, "not_equal": ne, "less": lt, "less_equal": le, "greater": gt,
          "greater_equal": ge, "logical_not": logical_not, "logical_and": logical_and,
          "logical_or": logical_or, "logical_xor": logical_xor, "invert": bitwise_not,
          "isnan": isnan, "isinf": isinf, "isfinite": isfinite, "remainder": remainder,
          "fmod": fmod, "floor_divide": floor_divide, "signbit": signbit}
