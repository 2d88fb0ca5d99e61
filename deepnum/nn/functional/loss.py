"""Loss functions (``F.mse_loss``, ``F.cross_entropy``, ...) with PyTorch's names and arguments.

Each computes one loss per element (or per sample) and reduces it with ``reduction``:
``'mean'`` (the cost J = (1/m) Σ L of 000 Def. 2), ``'sum'`` or ``'none'``.
Unlike PyTorch, a target whose shape differs from the input's raises instead of
broadcasting with a warning.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd.function import Function
from deepnum.nn.functional._cross_entropy import cross_entropy, nll_loss
from deepnum.nn.functional._loss_reduction import (
    as_float_tensor,
    check_reduction,
    check_same_shape,
    legacy_reduction,
    reduce_loss,
    weighted_mean,
)
from deepnum import ops
from deepnum.ops._util import cast, sum_to
from deepnum.ops.elementwise import Sigmoid
from deepnum.tensor import Tensor

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "quadratic_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    "kl_div", "gaussian_nll_loss",
]


def _pair(op: str, input, target):
    """Float input and target of the same shape, target in the input's dtype."""
    x = as_float_tensor(input, op, "input")
    y = as_float_tensor(target, op, "target")
    check_same_shape(op, x, y)
    return x, cast(y, x.dtype)


# ------------------------------------------------------------------------- regression
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None) -> Tensor:
    """Mean squared error: L = (x - y)^2 per element.

    Args:
        input, target: tensors of the same shape.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        weight: per-element weights of the input's shape; ``'mean'`` then divides by
            Σ weight. Default: None.

    Examples:
        >>> import deepnum
        >>> from deepnum.nn import functional as F
        >>> F.mse_loss(deepnum.tensor([1.0, 2.0]), deepnum.tensor([0.0, 0.0])).item()
        2.5
    """
    op = "mse_loss"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    x, y = _pair(op, input, target)
    d = x - y
    loss = d * d
    if weight is not None:
        return weighted_mean(loss, as_float_tensor(weight, op, "weight"), op, x, reduction)
    return reduce_loss(loss, reduction)


def quadratic_loss(input, target, reduction: str = "mean") -> Tensor:
    """Quadratic loss L(y, ỹ) = ½ (y - ỹ)^2 per element (000 §3); half of ``mse_loss``.

    With ``reduction='mean'`` this is the cost J = (1/m) Σ L(y^i, ỹ^i) of 000 Def. 2
    (averaged over every element). Its gradient is simply ỹ - y.

    Examples:
        >>> import deepnum
        >>> from deepnum.nn import functional as F
        >>> F.quadratic_loss(deepnum.tensor([3.0]), deepnum.tensor([1.0]))
        tensor(2.)

    References:
        000 §3 (Examples, quadratic loss function; Def. 2, cost function).
    """
    op = "quadratic_loss"
    reduction = check_reduction(op, reduction)
    x, y = _pair(op, input, target)
    d = x - y
    return reduce_loss(d * d * 0.5, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None) -> Tensor:
    """Mean absolute error: L = |x - y| per element (003 §2.2).

    Args:
        input, target: tensors of the same shape.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        weight: per-element weights; ``'mean'`` then divides by Σ weight. Default: None.
    """
    op = "l1_loss"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    x, y = _pair(op, input, target)
    loss = ops.abs(x - y)
    if weight is not None:
        return weighted_mean(loss, as_float_tensor(weight, op, "weight"), op, x, reduction)
    return reduce_loss(loss, reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:
    """Huber loss: ½ d^2 if |d| < δ else δ (|d| - ½ δ), with d = x - y (003 §2.2).

    Quadratic near zero, linear (gradient ±δ) for outliers.

    Args:
        delta: δ > 0, where the loss turns from quadratic to linear. Default: 1.0.
        weight: per-element weights; unlike mse_loss, ``'mean'`` is the plain mean of the
            weighted losses (as PyTorch). Default: None.
    """
    op = "huber_loss"
    reduction = check_reduction(op, reduction)
    if delta <= 0:
        raise RuntimeError(f"{op}: delta must be positive, got {delta}")
    x, y = _pair(op, input, target)
    d = x - y
    ad = ops.abs(d)
    loss = ops.where(ad.array < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        w = as_float_tensor(weight, op, "weight")
        if tuple(w.shape) != tuple(x.shape):
            raise ValueError(f"{op}: weight must have the input's shape {tuple(x.shape)}, "
                             f"got {tuple(w.shape)}")
        loss = loss * w
    return reduce_loss(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1: ½ d^2 / β if |d| < β else |d| - ½ β, with d = x - y (Huber / β).

    Args:
        beta: β >= 0; β = 0 gives ``l1_loss``. Default: 1.0.
    """
    op = "smooth_l1_loss"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    if beta < 0:
        raise RuntimeError(f"{op}: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    x, y = _pair(op, input, target)
    d = x - y
    ad = ops.abs(d)
    loss = ops.where(ad.array < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return reduce_loss(loss, reduction)


class _ClampMin(Function):
    """max(v, eps) in value, identity in gradient: PyTorch clamps var under no_grad."""

    @staticmethod
    def forward(ctx, v, eps):
        return np.maximum(v, eps).astype(v.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood: L = ½ (log max(σ², ε) + (x - y)^2 / max(σ², ε)).

    ``full=True`` adds the constant ½ log 2π. ``var`` has the input's shape, or one
    dimension less, or a size-1 dimension (homoscedastic), or is a float; ``target`` has
    the input's shape, possibly with size-1 dimensions.

    Args:
        input: predicted means; target: observations; var: predicted variances (>= 0).
        full: include the constant term. Default: False.
        eps: variances are clamped to at least eps (the gradient passes through the clamp,
            as in PyTorch). Default: 1e-6.
    """
    op = "gaussian_nll_loss"
    x = as_float_tensor(input, op, "input")
    y = cast(as_float_tensor(target, op, "target"), x.dtype)
    if tuple(y.shape) != tuple(x.shape) and not (
            y.ndim == x.ndim and all(b in (a, 1) for a, b in zip(x.shape, y.shape))):
        # PyTorch allows a target with size-1 dimensions (broadcast), nothing else
        check_same_shape(op, x, y)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries ({var})")
        var = Tensor._make(np.full(x.shape, var, x.dtype), False, None, 0)
    v = as_float_tensor(var, op, "var")
    if np.any(v.array < 0):
        raise ValueError(f"{op}: var has negative entry/entries")
    if tuple(v.shape) != tuple(x.shape):
        if tuple(x.shape[:-1]) == tuple(v.shape):
            v = v.reshape(tuple(v.shape) + (1,))
        elif not (v.ndim == x.ndim
                  and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
            raise ValueError(f"{op}: var of shape {tuple(v.shape)} does not fit input of "
                             f"shape {tuple(x.shape)} (expected the same shape, one "
                             "dimension less, or one dimension of size 1)")
    reduction = check_reduction(op, reduction)
    v = _ClampMin.apply(cast(v, x.dtype), eps)
    d = x - y
    loss = (ops.log(v) + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence: L = y (log y - x) per element, ``input`` x = log q.

    ``target`` y holds probabilities (log-probabilities with ``log_target=True``, then
    L = e^y (y - x)); 0 log 0 = 0. ``'batchmean'`` divides the sum by the batch size and is
    the true KL(p || q) per sample; ``'mean'`` divides by every element (PyTorch warns about
    this; deepnum documents it).

    Args:
        reduction: ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``. Default: ``'mean'``.
        log_target: whether ``target`` is given as log-probabilities. Default: False.

    References:
        003 §2.2 (Kullback-Leibler divergence Σ p̂ ln p̂ / q as a cost).
    """
    op = "kl_div"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction),
                                ("mean", "batchmean", "sum", "none"))
    x, y = _pair(op, input, target)
    if log_target:
        loss = ops.exp(y) * (y - x)
    else:
        positive = y.array > 0
        # y log y with 0 log 0 = 0: the log sees 1 where y is 0, so nothing is infinite
        loss = y * (ops.log(ops.where(positive, y, 1.0)) - x)
    if reduction == "batchmean":
        total = loss.sum()
        return total / x.shape[0] if x.ndim else total
    return reduce_loss(loss, reduction)


# ----------------------------------------------------------------------- binary targets
class _BinaryCrossEntropy(Function):
    """-(y log x + (1-y) log(1-x)) with each log clamped at -100, as PyTorch."""

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        ctx.save_for_backward(x, y)
        return (y - 1) * log_1mx - y * log_x

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            # dL/dx = (x - y) / (x (1 - x)), the denominator kept >= 1e-12 (PyTorch's EPSILON)
            grad_x = grad * (x - y) / np.maximum((1 - x) * x, 1e-12)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                grad_y = grad * (np.log1p(-x) - np.log(x))  # dL/dy = -logit(x)
        return grad_x, grad_y


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities: L = -w (y ln x + (1-y) ln(1-x)) (000 §3).

    This is 000's logistic regression loss. Each log is clamped at -100 (as PyTorch) so
    x = 0 or 1 gives a finite loss; prefer ``binary_cross_entropy_with_logits`` on logits.

    Args:
        input: probabilities in [0, 1]; target: the same shape, values in [0, 1].
        weight: rescaling weight broadcast to the input's shape. Default: None.

    References:
        000 §3 (logistic regression loss, eq. 5-9).
    """
    op = "binary_cross_entropy"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    x, y = _pair(op, input, target)
    xa = x.array
    if xa.size and not (np.all(xa >= 0) and np.all(xa <= 1)):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1, got "
                           f"values in [{np.nanmin(xa):.4g}, {np.nanmax(xa):.4g}]")
    loss = _BinaryCrossEntropy.apply(x, y)
    if weight is not None:
        loss = loss * as_float_tensor(weight, op, "weight")
    return reduce_loss(loss, reduction)


class _BCEWithLogits(Function):
    """(1-y) x + l·softplus(-x), l = 1 + (p-1) y: BCE of σ(x) without forming σ(x).

    softplus(-x) = log(1 + e^{-x}) = max(-x, 0) + log1p(e^{-|x|}) never overflows.
    """

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        softplus = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
        loss = (1 - y) * x
        if pos_weight is None:
            loss += softplus
        else:
            loss += ((pos_weight - 1) * y + 1) * softplus
        ctx.save_for_backward(x, y, pos_weight)
        ctx.shapes = tuple(np.shape(a) for a in (x, y, pos_weight))
        return loss

    @staticmethod
    def backward(ctx, grad):
        x, y, pos_weight = ctx.saved_tensors
        s = Sigmoid.apply(x)
        lw = 1 if pos_weight is None else (pos_weight - 1) * y + 1
        grads = [None, None, None]
        if ctx.needs_input_grad[0]:
            grads[0] = grad * ((1 - y) - lw * (1 - s))  # = σ(x) - y without pos_weight
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            softplus = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
            if ctx.needs_input_grad[1]:
                pw_term = 0 if pos_weight is None else (pos_weight - 1) * softplus
                grads[1] = grad * (pw_term - x)
            if ctx.needs_input_grad[2]:
                grads[2] = sum_to(grad * y * softplus, ctx.shapes[2])
        return tuple(grads)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """BCE of logits: L = -w [p y ln σ(x) + (1-y) ln(1 - σ(x))], computed stably.

    Written as (1-y) x + (1 + (p-1) y) softplus(-x) so logits of ±1000 give finite values
    and gradients (001 App. A); the gradient is σ(x) - y (without pos_weight).

    Args:
        input: logits; target: the same shape, values in [0, 1].
        weight: rescaling weight broadcast to the input's shape. Default: None.
        pos_weight: weight p of positive examples, broadcast along the last (class)
            dimension. Default: None.

    References:
        000 §3 (logistic loss with ỹ = σ(wᵀx + b), eq. 5-9); 001 App. A (stable numerics).
    """
    op = "binary_cross_entropy_with_logits"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    x = as_float_tensor(input, op, "input")
    y = as_float_tensor(target, op, "target")
    check_same_shape(op, x, y)
    y = cast(y, x.dtype)
    pw = None if pos_weight is None else cast(as_float_tensor(pos_weight, op, "pos_weight"), x.dtype)
    loss = _BCEWithLogits.apply(x, y, pw)
    if weight is not None:
        loss = loss * as_float_tensor(weight, op, "weight")
    return reduce_loss(loss, reduction)
