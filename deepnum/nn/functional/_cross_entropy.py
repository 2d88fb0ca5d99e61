"""Cross-entropy and negative log-likelihood over C classes, as fused ``Function``s.

Why cross-entropy is fused rather than composed from ``log_softmax`` and ``nll_loss``:
it is the loss of nearly every classifier, so it is the hottest node of a training step.
The composite (max, sub, exp, sum, log, sub, gather, mul, sum) records nine graph nodes,
keeps four (N, C) intermediates alive and builds a dense one-hot gradient. Fused, the
forward keeps one (N, C) array (log p) and the backward is the closed form
d L / d x = softmax(x) - q (q the smoothed, weighted target distribution), written next to
the forward. Shifting by the row maximum keeps every exponent <= 0, so logits of +-1000
give finite losses and gradients (001 App. A: log-sum-exp), and 1 / p never appears.

Under ``create_graph=True`` the same backward is re-expressed with differentiable ops
(softmax built from exp/sum/log), so Hessians of a cross-entropy (Newton's method,
003 §2.5) work too. ``tests/nn/test_loss_cross_entropy.py`` checks both paths against
the composite and against PyTorch.

Reduction happens inside the Functions so that PyTorch's edge cases come out the same:
a batch whose targets are all ``ignore_index`` gives a NaN mean (0/0) but zero gradients,
while zero class weights on real targets give NaN gradients.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.nn.functional._loss_reduction import (
    as_float_tensor,
    check_reduction,
    legacy_reduction,
    shape_str,
)
from deepnum.ops._util import as_tensor_arg, cast
from deepnum.tensor import Tensor


def _with_class_axis(a):
    """(N, d...) -> (N, 1, d...): per-sample values broadcast against (N, C, d...)."""
    return a.reshape(a.shape[:1] + (1,) + a.shape[1:])


def _class_vector(weight, ndim: int):
    """A (C,) vector shaped (1, C, 1, ...) to broadcast along the class axis."""
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


def _pick(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """a[i, idx[i], ...]: the entry of each sample's class (plain fancy indexing for 2-D)."""
    if a.ndim == 2:
        return a[np.arange(a.shape[0]), idx]
    return np.take_along_axis(a, _with_class_axis(idx), axis=1)[:, 0]


def _put(a: np.ndarray, idx: np.ndarray, values) -> None:
    """a[i, idx[i], ...] = values[i, ...] in place."""
    if a.ndim == 2:
        a[np.arange(a.shape[0]), idx] = values
    else:
        np.put_along_axis(a, _with_class_axis(idx), _with_class_axis(np.asarray(values)), axis=1)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """log softmax over axis 1 in NumPy; the max shift keeps every exponent <= 0."""
    shifted = x - x.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def _log_softmax_graph(x: Tensor) -> Tensor:
    """The same log softmax from differentiable ops (the shift is a constant: softmax is
    invariant to it), for backward under create_graph."""
    shifted = x - x.array.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _reduction_factors(keep: np.ndarray, denom, reduction: str) -> np.ndarray:
    """d(reduced loss) / d(per-sample loss): 1 for sum/none, 1/denom for mean, 0 if ignored."""
    if reduction != "mean":
        return keep
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(keep > 0, keep / denom, 0).astype(keep.dtype)


def _reduce(loss: np.ndarray, denom, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(total / denom, dtype=loss.dtype)  # 0/0 = nan, as PyTorch


class CrossEntropyIndex(Function):
    """L_i = -Σ_c w_c q_ic log softmax(x_i)_c with q_i = (1-ε) onehot(y_i) + ε/C.

    ``x`` is (N, C, d...), ``idx`` (N, d...) class indices (ignored entries replaced by 0),
    ``keep`` 1.0 where the target is not ``ignore_index``.
    """

    @staticmethod
    def forward(ctx, x, idx, keep, weight, eps, reduction):
        n_classes = x.shape[1]
        logp = _log_softmax(x)
        w_y = keep if weight is None else weight[idx] * keep
        loss = _pick(logp, idx)
        loss *= -(1 - eps) * w_y
        if eps:
            wlogp = logp if weight is None else logp * _class_vector(weight, x.ndim)
            loss -= (eps / n_classes) * keep * wlogp.sum(axis=1)
        denom = w_y.sum()
        ctx.logp, ctx.idx, ctx.weight, ctx.eps = logp, idx, weight, eps
        ctx.w_true = np.ones_like(keep) if weight is None else weight[idx]
        ctx.r = _reduction_factors(keep, denom, reduction)
        ctx.save_for_backward(x)
        return _reduce(loss, denom, reduction)

    @staticmethod
    def backward(ctx, grad):
        eps, weight, w_true = ctx.eps, ctx.weight, ctx.w_true
        n_classes = ctx.logp.shape[1]
        u = grad * ctx.r  # upstream gradient of each sample's loss
        w_sum = n_classes if weight is None else weight.sum()
        # Σ_c w_c q_ic: how much probability mass the softmax term carries for sample i
        mass = (1 - eps) * w_true + (eps / n_classes) * w_sum
        w_class = 1 if weight is None else _class_vector(weight, ctx.logp.ndim)
        if ctx.graph_mode:
            (x,) = ctx.saved_tensors
            p = np.exp(_log_softmax_graph(x))
            target = np.zeros(ctx.logp.shape, ctx.logp.dtype)
            _put(target, ctx.idx, (1 - eps) * w_true)
            target = target + (eps / n_classes) * w_class
            grad_x = _with_class_axis(u) * (p * _with_class_axis(mass) - target)
            return grad_x, None, None, None, None, None
        # dL/dx = u * (softmax(x) * mass - w q): softmax, scaled, minus the target at the true class
        grad_x = np.exp(ctx.logp)
        grad_x *= _with_class_axis(u * mass)
        _put(grad_x, ctx.idx, _pick(grad_x, ctx.idx) - (1 - eps) * u * w_true)
        if eps:
            grad_x -= (eps / n_classes) * _with_class_axis(u) * w_class
        return grad_x, None, None, None, None, None


class CrossEntropyProb(Function):
    """L_i = -Σ_c w_c q_ic log softmax(x_i)_c for class-probability targets t, q = (1-ε)t + ε/C."""

    @staticmethod
    def forward(ctx, x, target, weight, eps, reduction):
        n_classes = x.shape[1]
        logp = _log_softmax(x)
        q = target * (1 - eps) + eps / n_classes if eps else target
        wq = q if weight is None else q * _class_vector(weight, x.ndim)
        loss = -(wq * logp).sum(axis=1)
        ctx.logp, ctx.weight, ctx.eps, ctx.reduction = logp, weight, eps, reduction
        ctx.count = loss.size
        ctx.save_for_backward(x, target)
        return _reduce(loss, loss.size, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, target = ctx.saved_tensors
        eps, weight = ctx.eps, ctx.weight
        n_classes = ctx.logp.shape[1]
        logp = _log_softmax_graph(x) if ctx.graph_mode else ctx.logp
        if ctx.reduction == "none":
            u = _with_class_axis(grad)
        else:
            u = grad / max(ctx.count, 1) if ctx.reduction == "mean" else grad
        w_class = 1 if weight is None else _class_vector(weight, ctx.logp.ndim)
        q = target * (1 - eps) + eps / n_classes if eps else target
        wq = q * w_class
        grad_x = grad_t = None
        if ctx.needs_input_grad[0]:
            # dL/dx_k = p_k Σ_c w_c q_c - w_k q_k  (= softmax - q without weights)
            grad_x = u * (np.exp(logp) * wq.sum(axis=1, keepdims=True) - wq)
        if ctx.needs_input_grad[1]:
            grad_t = u * (-(1 - eps) * logp * w_class)  # dL/dt_c = -(1-ε) w_c log p_c
        return grad_x, grad_t, None, None, None


class NLLIndex(Function):
    """L_i = -w_{y_i} x_{i, y_i}: the negative log-likelihood of log-probabilities ``x``."""

    @staticmethod
    def forward(ctx, x, idx, keep, weight, reduction):
        w_y = keep if weight is None else weight[idx] * keep
        loss = np.where(keep > 0, -w_y * _pick(x, idx), 0).astype(x.dtype, copy=False)
        denom = w_y.sum()
        ctx.idx, ctx.shape, ctx.dtype = idx, x.shape, x.dtype
        ctx.w_true = 1 if weight is None else weight[idx]
        ctx.r = _reduction_factors(keep, denom, reduction)
        return _reduce(loss, denom, reduction)

    @staticmethod
    def backward(ctx, grad):
        coef = -(grad * ctx.r) * ctx.w_true  # dL/dx_{i,y_i} = -w_{y_i}
        if ctx.graph_mode:
            onehot = np.zeros(ctx.shape, ctx.dtype)
            _put(onehot, ctx.idx, 1)
            return _with_class_axis(coef) * onehot, None, None, None, None
        grad_x = np.zeros(ctx.shape, ctx.dtype)
        _put(grad_x, ctx.idx, coef)
        return grad_x, None, None, None, None


# ------------------------------------------------------------------- argument checks
def _class_weight(weight, n_classes: int, dtype, op: str):
    if weight is None:
        return None
    w = weight.detach().array if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (n_classes,):
        raise RuntimeError(
            f"{op}: weight must have one entry per class, shape ({n_classes},), got {w.shape}"
        )
    return w.astype(dtype, copy=False)


def _batched(x: Tensor, op: str) -> Tensor:
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    return x.reshape(1, x.shape[0]) if x.ndim == 1 else x


def _class_indices(x: Tensor, target: Tensor, ignore_index: int, op: str):
    """Validated (idx, keep) arrays for class-index targets of batched input ``x``."""
    n_classes = x.shape[1]
    t = target.array
    expected = (x.shape[0],) + tuple(x.shape[2:])
    if t.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: class-index targets must be integers (int64), got {t.dtype} of shape "
            f"{t.shape}; float targets must be class probabilities of the input's shape "
            f"{tuple(x.shape)}"
        )
    if t.shape != expected:
        if t.ndim >= 1 and t.shape[0] != expected[0]:
            raise ValueError(
                f"{op}: expected input batch_size ({expected[0]}) to match target batch_size "
                f"({t.shape[0]}): input {tuple(x.shape)}, target {t.shape}"
            )
        raise RuntimeError(f"{op}: expected target of shape {expected} for input "
                           f"{tuple(x.shape)}, got {t.shape}")
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= n_classes))
    if bad.any():
        value = int(t[bad].flat[0])
        raise IndexError(
            f"{op}: target {value} is out of bounds for n_classes={n_classes} "
            f"(valid classes 0..{n_classes - 1}, or ignore_index={ignore_index})"
        )
    idx = np.where(keep, t, 0)
    return idx, keep.astype(x.dtype)


# ----------------------------------------------------------------------- public functions
def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits: L = -Σ_c w_c q_c log softmax(x)_c (003 §2.2).

    ``target`` holds class indices (int, shape (N,) or (N, d1, ..., dk)) or class
    probabilities (float, the input's shape). With label smoothing ε the target
    distribution is q = (1-ε) onehot(y) + ε/C. ``'mean'`` divides by Σ_i w_{y_i} over
    non-ignored samples for index targets (PyTorch's weighted mean), by the number of
    samples for probability targets.

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ..., dk).
        target: class indices or class probabilities (see above).
        weight: (C,) rescaling weight of each class. Default: None.
        ignore_index: index target value that contributes neither loss nor gradient.
            Default: -100.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        label_smoothing: ε in [0, 1]. Default: 0.0.

    Shape:
        input (N, C, d...), target (N, d...) or (N, C, d...); output () or, with
        ``reduction='none'``, (N, d...).

    Examples:
        >>> import deepnum
        >>> from deepnum.nn import functional as F
        >>> logits = deepnum.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 1000.0]])
        >>> round(F.cross_entropy(logits, deepnum.tensor([0, 2])).item(), 4)
        0.1198

    References:
        003 §2.2 (cross-entropy of softmax outputs); 001 App. A (log-sum-exp).
    """
    op = "cross_entropy"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise RuntimeError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {eps}")
    raw = as_float_tensor(input, op, "input")
    x = _batched(raw, op)
    target = as_tensor_arg(target)
    w = _class_weight(weight, x.shape[1], x.dtype, op)
    if target.array.dtype.kind == "f":
        if tuple(target.shape) != tuple(raw.shape):
            if raw.ndim >= 2 and tuple(target.shape) == (raw.shape[0],) + tuple(raw.shape[2:]):
                _class_indices(x, target, ignore_index, op)  # raises the dtype message
            raise RuntimeError(
                f"{op}: class-probability targets must have the input's shape "
                f"{tuple(raw.shape)}, got {shape_str(target)}"
            )
        t = cast(target, x.dtype)
        t = t.reshape(x.shape) if raw.ndim == 1 else t
        loss = CrossEntropyProb.apply(x, t, w, eps, reduction)
    else:
        if raw.ndim == 1:
            target = target.reshape(1)
        idx, keep = _class_indices(x, target, ignore_index, op)
        loss = CrossEntropyIndex.apply(x, idx, keep, w, eps, reduction)
    return loss.reshape(()) if raw.ndim == 1 and reduction == "none" else loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities: L_i = -w_{y_i} x_{i, y_i}.

    ``'mean'`` divides by Σ_i w_{y_i} over non-ignored samples (PyTorch's weighted mean).

    Args:
        input: log-probabilities, shape (C,), (N, C) or (N, C, d1, ..., dk).
        target: class indices, shape (), (N,) or (N, d1, ..., dk).
        weight: (C,) rescaling weight of each class. Default: None.
        ignore_index: target value that contributes neither loss nor gradient. Default: -100.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Examples:
        >>> import deepnum
        >>> from deepnum.nn import functional as F
        >>> x = deepnum.tensor([[-0.5, -1.0], [-2.0, -0.1]])
        >>> round(F.nll_loss(x, deepnum.tensor([0, 1])).item(), 4)  # (0.5 + 0.1) / 2
        0.3

    References:
        000 §3 (the logistic loss as a negative log-likelihood, eq. 9).
    """
    op = "nll_loss"
    reduction = check_reduction(op, legacy_reduction(size_average, reduce, reduction))
    raw = as_float_tensor(input, op, "input")
    x = _batched(raw, op)
    target = as_tensor_arg(target)
    if raw.ndim == 1:
        target = target.reshape(1)
    w = _class_weight(weight, x.shape[1], x.dtype, op)
    idx, keep = _class_indices(x, target, ignore_index, op)
    loss = NLLIndex.apply(x, idx, keep, w, reduction)
    return loss.reshape(()) if raw.ndim == 1 and reduction == "none" else loss
