"""Activation functions g(z) (000 §2, 002, 003 §1.2, 004 Def. 6.13), PyTorch's names and arguments.

Each primitive is one ``Function`` whose backward line carries the derivative; the rarer
ones (SiLU, Mish, softsign, ...) are compositions of primitives. Beyond PyTorch (in
``activation_notes.py``): ``maxout`` (003 §1.2), ``step`` (the Heaviside step of 003 §1.2) and
the sigmoid and tanh with a slope α (002). Functions with an ``inplace`` argument write the
result into ``input`` when asked.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, sum_to
from deepnum.ops.elementwise import Sigmoid, Tanh, _float_input
from deepnum.ops.elementwise import relu as _relu
from deepnum.ops.elementwise import sigmoid, tanh
from deepnum.ops.inplace import apply_inplace
from deepnum.ops.logexp import log_softmax as _ops_log_softmax
from deepnum.ops.pointwise import _erf_array
from deepnum.ops.logexp import softmax as _ops_softmax
from deepnum.tensor import Tensor

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "elu", "elu_", "selu", "celu",
    "gelu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "softmin", "hardtanh",
    "hardtanh_", "threshold", "silu", "mish", "softsign", "tanhshrink", "logsigmoid",
    "hardsigmoid", "hardswish", "maxout", "step", "scaled_sigmoid", "scaled_tanh",
]


def _maybe_inplace(input, inplace: bool, fn, name: str) -> Tensor:
    x = _float_input(input)
    if not inplace:
        return fn(x)
    return apply_inplace(input, name + "_", fn)


def _mask(cond, dtype):
    return cond.astype(dtype, copy=False)


# ---------------------------------------------------------------------------- ReLU family
def relu(input, inplace: bool = False) -> Tensor:
    """max(0, x) (003 §1.2); gradient 1 for x > 0, else 0."""
    return _maybe_inplace(input, inplace, _relu, "relu")


def relu_(input) -> Tensor:
    return relu(input, inplace=True)


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        pos = x > 0
        ctx.scale = np.where(pos, 1, negative_slope).astype(x.dtype)
        return x * ctx.scale

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None  # d/dx = 1 for x > 0, negative_slope otherwise


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """max(0, x) + negative_slope · min(0, x) (000 §2; 003 §1.2 uses 0.1)."""
    return _maybe_inplace(input, inplace, lambda x: LeakyReLU.apply(x, negative_slope), "leaky_relu")


def leaky_relu_(input, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


class PReLU(Function):
    @staticmethod
    def forward(ctx, x, weight, view):
        ctx.pos = x > 0
        ctx.view, ctx.w_shape = view, weight.shape
        ctx.save_for_backward(x, weight)
        return np.where(ctx.pos, x, x * weight.reshape(view))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        pos = _mask(ctx.pos, grad.dtype)
        neg = 1 - pos
        need_x, need_w, _ = ctx.needs_input_grad
        gx = grad * (pos + neg * weight.reshape(ctx.view)) if need_x else None  # 1 or a
        gw = sum_to(grad * neg * x, ctx.view).reshape(ctx.w_shape) if need_w else None  # dy/da = x, x ≤ 0
        return gx, gw, None


def prelu(input, weight) -> Tensor:
    """max(0, x) + a · min(0, x) with a learnable ``a`` per channel (dim 1) or shared."""
    x, w = _float_input(input), as_tensor_arg(weight)
    n = w.numel()
    if n == 1:
        view = (1,) * x.ndim
    else:
        ch = 1 if x.ndim >= 2 else 0
        if x.ndim == 0 or x.shape[ch] != n:
            raise RuntimeError(
                f"prelu: weight has {n} parameters but the input's channel dimension {ch} "
                f"has size {x.shape[ch] if x.ndim else 0} (shape {tuple(x.shape)})"
            )
        view = tuple(n if i == ch else 1 for i in range(x.ndim))
    return PReLU.apply(x, w, view)


# ---------------------------------------------------------------------------- ELU family
class ELU(Function):
    """y = scale·x for x > 0, scale·α·(exp(input_scale·x) - 1) otherwise (ELU, SELU, CELU)."""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.pos = x > 0
        ctx.consts = (alpha, scale, input_scale)
        neg = (scale * alpha) * np.expm1(np.minimum(x, 0) * input_scale)
        y = np.where(ctx.pos, x * scale, neg).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.consts
        pos = _mask(ctx.pos, grad.dtype)
        # for x ≤ 0, dy/dx = input_scale · scale · α · exp(input_scale·x) = input_scale · (y + scale·α)
        return grad * (pos * scale + (1 - pos) * (input_scale * (y + scale * alpha))), None, None, None


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, α(eˣ - 1) otherwise (003 §1.2)."""
    return _maybe_inplace(input, inplace, lambda x: ELU.apply(x, alpha, 1.0, 1.0), "elu")


def elu_(input, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace: bool = False) -> Tensor:
    """scale · elu(x, α) with the self-normalising constants of Klambauer et al. (2017)."""
    return _maybe_inplace(input, inplace, lambda x: ELU.apply(x, _SELU_ALPHA, _SELU_SCALE, 1.0), "selu")


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(exp(x/α) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be zero")
    return _maybe_inplace(input, inplace, lambda x: ELU.apply(x, alpha, 1.0, 1.0 / alpha), "celu")


# ------------------------------------------------------------------------------- GELU
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_erf = _erf_array  # float64-accurate; A&S 7.1.26 (|error| < 1.5e-7) for float32


class GeluGrad(Function):
    """dGELU/dx = Φ(x) + x φ(x); its own derivative φ(x)(2 - x²) keeps GELU twice differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        cdf = 0.5 * (1 + _erf(x * np.asarray(math.sqrt(0.5), x.dtype)))
        pdf = np.exp(-0.5 * x * x) * np.asarray(1 / math.sqrt(2 * math.pi), x.dtype)
        return (cdf + x * pdf).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (np.exp(-0.5 * (x * x)) * (1 / math.sqrt(2 * math.pi)) * (2 - x * x))


class Gelu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x * 0.5 * (1 + _erf(x * np.asarray(math.sqrt(0.5), x.dtype)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * GeluGrad.apply(x)


class GeluTanh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * x * (1 + np.tanh(_SQRT_2_PI * (x + 0.044715 * x * x * x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = np.tanh(_SQRT_2_PI * (x + 0.044715 * (x * x * x)))
        inner = _SQRT_2_PI * (1 + 3 * 0.044715 * (x * x))
        return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner)


def gelu(input, approximate: str = "none") -> Tensor:
    """x Φ(x) (Hendrycks & Gimpel, 2016); ``approximate='tanh'``: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    if approximate == "none":
        return Gelu.apply(_float_input(input))
    if approximate == "tanh":
        return GeluTanh.apply(_float_input(input))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# --------------------------------------------------------------------------- softplus
class Softplus(Function):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        bx = x * beta
        ctx.linear = bx > threshold
        ctx.beta = beta
        ctx.save_for_backward(x)
        soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
        return np.where(ctx.linear, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lin = _mask(ctx.linear, grad.dtype)
        # d/dx (1/β) log(1 + e^{βx}) = σ(βx); 1 where the function reverts to the identity
        return grad * (lin + (1 - lin) * Sigmoid.apply(x * ctx.beta)), None, None


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β) log(1 + exp(βx)), and x where βx > threshold (for stability)."""
    return Softplus.apply(_float_input(input), beta, threshold)


# ----------------------------------------------------------------- softmax and friends
# The fused, stable softmax and log-softmax Functions are deepnum's own ops (ops/logexp.py);
# these wrappers give them the ``nn.functional`` signature (``_stacklevel`` before ``dtype``).
def softmax(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim``, computed with the max subtracted (001 App. A)."""
    return _ops_softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """xᵢ - log Σⱼ exp(xⱼ) along ``dim`` (stable log-sum-exp, 001 App. A)."""
    return _ops_log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    x = _float_input(input)
    if dim is None:
        warnings.warn(
            "Implicit dimension choice for softmin has been deprecated. Change the call to "
            "include dim=X as an argument.",
            UserWarning,
            stacklevel=2,
        )
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return _ops_softmax(-x, dim, dtype)


# --------------------------------------------------------------------- clipping family
class Clip(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.inside = (x > low) & (x < high)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        return grad * _mask(ctx.inside, grad.dtype), None, None  # 1 strictly inside, else 0


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """min(max(x, min_val), max_val)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _maybe_inplace(input, inplace, lambda x: Clip.apply(x, min_val, max_val), "hardtanh")


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


class Threshold(Function):
    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.keep = x > threshold
        return np.where(ctx.keep, x, np.asarray(value, x.dtype))

    @staticmethod
    def backward(ctx, grad):
        return grad * _mask(ctx.keep, grad.dtype), None, None


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``."""
    return _maybe_inplace(input, inplace, lambda x: Threshold.apply(x, threshold, value), "threshold")


# ------------------------------------------------------------------ compositions
def silu(input, inplace: bool = False) -> Tensor:
    """x σ(x) (swish)."""
    return _maybe_inplace(input, inplace, lambda x: x * Sigmoid.apply(x), "silu")


def mish(input, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    return _maybe_inplace(input, inplace, lambda x: x * Tanh.apply(softplus(x)), "mish")


def softsign(input) -> Tensor:
    """x / (1 + |x|)."""
    x = _float_input(input)
    return x / (x.abs() + 1)


def tanhshrink(input) -> Tensor:
    """x - tanh(x)."""
    x = _float_input(input)
    return x - Tanh.apply(x)


def logsigmoid(input) -> Tensor:
    """log σ(x) = -softplus(-x), finite for any x."""
    return -softplus(-_float_input(input))


def hardsigmoid(input, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _maybe_inplace(input, inplace, lambda x: Clip.apply(x + 3, 0.0, 6.0) / 6, "hardsigmoid")


def hardswish(input, inplace: bool = False) -> Tensor:
    """x · relu6(x + 3) / 6."""
    return _maybe_inplace(input, inplace, lambda x: x * (Clip.apply(x + 3, 0.0, 6.0) / 6), "hardswish")


# maxout, step and the sloped sigmoid/tanh of the notes live in their own file
from deepnum.nn.functional.activation_notes import maxout, scaled_sigmoid, scaled_tanh, step  # noqa: E402,F401
