"""Connectionist temporal classification loss (``F.ctc_loss``), by the forward-backward algorithm.

CTC (Graves et al. 2006, "Connectionist Temporal Classification: Labelling Unsegmented
Sequence Data with Recurrent Neural Networks", ICML) scores a label sequence l = (l_1..l_S)
against T frames of per-class log-probabilities without an alignment: it sums the
probabilities of every frame-level path that collapses to l once repeats are merged and
blanks removed. The sum runs over the extended sequence l' = (b, l_1, b, l_2, ..., l_S, b)
of length 2S+1, blanks at the even positions s = 0, 2, ..., 2S (0-based), with
y_t(k) = exp(log_probs[t, k]):

    α_0(0) = y_0(b),   α_0(1) = y_0(l_1),   α_0(s) = 0 for s > 1
    α_t(s) = (α_{t-1}(s) + α_{t-1}(s-1) + [skip(s)] α_{t-1}(s-2)) · y_t(l'_s)

    β_{T-1}(2S) = y_{T-1}(b),   β_{T-1}(2S-1) = y_{T-1}(l_S),   β_{T-1}(s) = 0 otherwise
    β_t(s) = (β_{t+1}(s) + β_{t+1}(s+1) + [skip(s+2)] β_{t+1}(s+2)) · y_t(l'_s)

where skip(s) holds for a label position (s odd, s ≥ 3) whose label differs from
l'_{s-2}: a path may jump over the blank between two different labels, never between two
equal ones (``[1, 1]`` needs a blank between its two 1s). The loss is

    p(l | x) = α_{T-1}(2S) + α_{T-1}(2S-1),     loss = -log p(l | x),

and Σ_s α_t(s) β_t(s) / y_t(l'_s) = p(l | x) at every frame t. Both recursions run in log
space (sums become log-sum-exp, products sums), so long sequences neither underflow nor
overflow; an impossible alignment (fewer frames than the target needs) gives p = 0, an
infinite loss.

The gradient is PyTorch's,

    ∂loss/∂log_probs[t, k] = y_t(k) - (1 / p) Σ_{s: l'_s = k} α_t(s) β_t(s) / y_t(k),

Graves' derivative with respect to the unnormalised outputs u when
log_probs = log_softmax(u) (his eq. 16). Taken with respect to free log_probs the first
term y_t(k) would be absent; log_softmax's backward removes it anyway (Σ_k y_t(k) = 1), so
the gradient reaching the network is exact. Frames past a sample's input length get zero
gradient; an infinite loss gets NaN gradients, or zero with ``zero_infinity=True``.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.nn.functional._loss_reduction import check_reduction
from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Tensor

__all__ = ["ctc_loss"]

_OP = "ctc_loss"


# ------------------------------------------------------------------- the recursions
def _from_left(a: np.ndarray, k: int, fill) -> np.ndarray:
    """b[:, s] = a[:, s - k], ``fill`` where s < k."""
    b = np.full_like(a, fill)
    b[:, k:] = a[:, :a.shape[1] - k]
    return b


def _from_right(a: np.ndarray, k: int, fill) -> np.ndarray:
    """b[:, s] = a[:, s + k], ``fill`` where s + k is past the end."""
    b = np.full_like(a, fill)
    b[:, :a.shape[1] - k] = a[:, k:]
    return b


def _log_sum3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """log(e^a + e^b + e^c), stable (logaddexp shifts by the maximum; -inf terms add 0)."""
    return np.logaddexp(np.logaddexp(a, b), c)


def _extended_labels(targets: np.ndarray, blank: int) -> np.ndarray:
    """(N, S) labels -> (N, 2S+1) extended labels l' with a blank at every even position."""
    n, s = targets.shape
    ext = np.full((n, 2 * s + 1), blank, dtype=np.int64)
    ext[:, 1::2] = targets
    return ext


def _skip_allowed(ext: np.ndarray) -> np.ndarray:
    """skip(s): s is a label position (odd, s >= 3) whose label differs from l'_{s-2}."""
    allowed = np.zeros(ext.shape, dtype=bool)
    allowed[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    return allowed


def _emissions(log_probs: np.ndarray, ext: np.ndarray, target_lengths: np.ndarray) -> np.ndarray:
    """(T, N, 2S+1) log y_t(l'_s); -inf at the positions past a sample's own 2 S_n + 1."""
    n = log_probs.shape[1]
    emit = log_probs[:, np.arange(n)[:, None], ext]
    inside = np.arange(ext.shape[1]) < 2 * target_lengths[:, None] + 1
    return np.where(inside, emit, -np.inf).astype(log_probs.dtype, copy=False)


def _log_alpha(emit: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """(T, N, 2S+1) log α_t(s) over all T frames (rows past a sample's length are unused)."""
    alpha = np.full_like(emit, -np.inf)
    alpha[0, :, :2] = emit[0, :, :2]
    for t in range(1, emit.shape[0]):
        prev = alpha[t - 1]
        jump = np.where(skip, _from_left(prev, 2, -np.inf), -np.inf)
        alpha[t] = _log_sum3(prev, _from_left(prev, 1, -np.inf), jump) + emit[t]
    return alpha


def _log_beta(emit: np.ndarray, skip: np.ndarray, input_lengths: np.ndarray,
              target_lengths: np.ndarray) -> np.ndarray:
    """(T, N, 2S+1) log β_t(s); each sample starts at its own last frame, -inf after it."""
    positions = np.arange(emit.shape[2])
    is_end = ((positions == 2 * target_lengths[:, None])
              | (positions == 2 * target_lengths[:, None] - 1))
    skip_next = _from_right(skip, 2, False)
    last_frame = (input_lengths - 1)[:, None]
    beta = np.full_like(emit, -np.inf)
    nxt = np.full_like(emit[0], -np.inf)  # no frame follows the last one
    for t in range(emit.shape[0] - 1, -1, -1):
        jump = np.where(skip_next, _from_right(nxt, 2, -np.inf), -np.inf)
        step = _log_sum3(nxt, _from_right(nxt, 1, -np.inf), jump) + emit[t]
        start = np.where(is_end, emit[t], -np.inf)
        beta[t] = np.where(t < last_frame, step, np.where(t == last_frame, start, -np.inf))
        nxt = beta[t]
    return beta


def _log_likelihood(alpha: np.ndarray, input_lengths: np.ndarray,
                    target_lengths: np.ndarray) -> np.ndarray:
    """log p(l | x) = log(α_{T_n-1}(2S_n) + α_{T_n-1}(2S_n - 1)) per sample.

    With no frames, p is 1 for an empty target and 0 otherwise.
    """
    n = np.arange(alpha.shape[1])
    last = np.maximum(input_lengths - 1, 0)
    end_blank = alpha[last, n, 2 * target_lengths]
    end_label = alpha[last, n, np.maximum(2 * target_lengths - 1, 0)]
    end_label = np.where(target_lengths > 0, end_label, -np.inf)
    log_p = np.logaddexp(end_blank, end_label)
    no_frames = np.where(target_lengths == 0, 0.0, -np.inf)
    return np.where(input_lengths == 0, no_frames, log_p).astype(alpha.dtype, copy=False)


def _gradient(log_probs: np.ndarray, ext: np.ndarray, alpha: np.ndarray, beta: np.ndarray,
              nll: np.ndarray, input_lengths: np.ndarray) -> np.ndarray:
    """(T, N, C) gradient of each sample's loss (zero past its input length):

    ∂loss_n/∂log_probs[t, n, k] = y_t(k) - Σ_{s: l'_s = k} α_t(s) β_t(s) / (p y_t(k)).
    """
    t_max, n, _ = log_probs.shape
    # log Σ_{s: l'_s = k} α_t(s) β_t(s): each extended position adds into its class
    log_occupancy = np.full_like(log_probs, -np.inf)
    index = (np.arange(t_max)[:, None, None], np.arange(n)[None, :, None], ext[None])
    np.logaddexp.at(log_occupancy, index, alpha + beta)
    with np.errstate(invalid="ignore"):  # p = 0: -inf + inf gives NaN, as in PyTorch
        grad = np.exp(log_probs) - np.exp(log_occupancy + nll[None, :, None] - log_probs)
    in_input = np.arange(t_max)[:, None] < input_lengths[None, :]
    return np.where(in_input[:, :, None], grad, 0).astype(log_probs.dtype, copy=False)


class CtcLoss(Function):
    """Per-sample CTC losses -log p(l_n | x_n), shape (N,), for (T, N, C) log-probabilities.

    ``ext`` holds the (N, 2S+1) extended labels, lengths are (N,) int64 arrays.
    """

    @staticmethod
    def forward(ctx, log_probs, ext, input_lengths, target_lengths, zero_infinity):
        emit = _emissions(log_probs, ext, target_lengths)
        skip = _skip_allowed(ext)
        alpha = _log_alpha(emit, skip)
        nll = -_log_likelihood(alpha, input_lengths, target_lengths)
        infinite = np.isposinf(nll)
        ctx.ext, ctx.emit, ctx.skip, ctx.alpha, ctx.nll = ext, emit, skip, alpha, nll
        ctx.input_lengths, ctx.target_lengths = input_lengths, target_lengths
        ctx.zeroed = infinite if zero_infinity else np.zeros_like(infinite)
        ctx.save_for_backward(log_probs)
        return np.where(ctx.zeroed, 0, nll).astype(nll.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (log_probs,) = ctx.saved_tensors
        lp = log_probs.array if ctx.graph_mode else log_probs
        beta = _log_beta(ctx.emit, ctx.skip, ctx.input_lengths, ctx.target_lengths)
        per_sample = _gradient(lp, ctx.ext, ctx.alpha, beta, ctx.nll, ctx.input_lengths)
        per_sample[:, ctx.zeroed] = 0
        if ctx.graph_mode:
            return CtcLossGradient.apply(log_probs, grad, per_sample), None, None, None, None
        return per_sample * grad[None, :, None], None, None, None, None


class CtcLossGradient(Function):
    """The gradient of ``CtcLoss`` recorded under ``create_graph=True``: usable as a value,
    but, as in PyTorch, not differentiable again."""

    @staticmethod
    def forward(ctx, log_probs, grad, per_sample):
        return per_sample * grad[None, :, None]

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            "ctc_loss: the derivative of its gradient (double backward) is not implemented, "
            "as in PyTorch"
        )


# ------------------------------------------------------------------- argument checks
def _log_probs_3d(log_probs) -> tuple:
    """(T, N, C) float log-probabilities and whether the input was batched."""
    x = as_tensor_arg(log_probs)
    if x.ndim not in (2, 3):
        raise RuntimeError(
            f"{_OP}: log_probs must be (T, N, C) or (T, C), got shape {tuple(x.shape)}"
        )
    if x.array.dtype not in (np.float32, np.float64):
        raise NotImplementedError(
            f"{_OP}: log_probs must be float32 or float64, got {x.array.dtype}"
        )
    if x.array.size == 0:
        raise RuntimeError(f"{_OP}: log_probs must not be empty, got shape {tuple(x.shape)}")
    if x.ndim == 2:
        return x.reshape(x.shape[0], 1, x.shape[1]), False
    return x, True


def _check_blank(blank, n_classes: int) -> int:
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)):
        raise TypeError(f"{_OP}: blank must be an int, got {type(blank).__name__}")
    if not 0 <= blank < n_classes:
        raise RuntimeError(
            f"{_OP}: blank must be a class index in [0, C) = [0, {n_classes}), got {blank}"
        )
    return int(blank)


def _lengths(values, name: str, batch_size: int) -> np.ndarray:
    """(N,) int64 lengths from a tensor, an array, or a list or tuple of ints."""
    if isinstance(values, Tensor):
        arr = values.array
    elif isinstance(values, (list, tuple, np.ndarray)):
        arr = np.asarray(values)
    else:
        raise TypeError(
            f"{_OP}: {name} must be a tensor, list or tuple of ints, got "
            f"{type(values).__name__}"
        )
    if arr.size and arr.dtype.kind not in "iu":
        raise RuntimeError(f"{_OP}: {name} must be integers, got dtype {arr.dtype}")
    arr = arr.reshape(-1).astype(np.int64)
    if arr.size != batch_size:
        raise RuntimeError(
            f"{_OP}: {name} must have one entry per batch element ({batch_size}), got "
            f"{arr.size}"
        )
    return arr


def _check_lengths(input_lengths: np.ndarray, target_lengths: np.ndarray, t_max: int) -> None:
    if (input_lengths < 0).any() or (input_lengths > t_max).any():
        bad = int(input_lengths[(input_lengths < 0) | (input_lengths > t_max)][0])
        raise RuntimeError(
            f"{_OP}: input_lengths must be in [0, T] = [0, {t_max}] (T = log_probs.shape[0]), "
            f"got {bad}"
        )
    if (target_lengths < 0).any():
        bad = int(target_lengths[target_lengths < 0][0])
        raise RuntimeError(f"{_OP}: target_lengths must be >= 0, got {bad}")


def _padded_targets(targets, target_lengths: np.ndarray, n_classes: int,
                    blank: int) -> np.ndarray:
    """(N, max S_n) int64 targets from padded (N, S) or concatenated (Σ S_n,) ones.

    Entries past a sample's target length are ignored (set to ``blank``); the rest must be
    class indices other than the blank.
    """
    t = as_tensor_arg(targets).array
    batch_size = target_lengths.size
    width = int(target_lengths.max()) if batch_size else 0
    used = np.arange(width) < target_lengths[:, None]
    padded = np.full((batch_size, width), blank, dtype=np.int64)
    if t.ndim == 1:
        if t.size != target_lengths.sum():
            raise RuntimeError(
                f"{_OP}: concatenated targets must have sum(target_lengths) = "
                f"{int(target_lengths.sum())} entries, got shape {t.shape}"
            )
        padded[used] = t.astype(np.int64)  # row-major order of ``used`` is the concatenation
    elif t.ndim == 2:
        if t.shape[0] != batch_size or t.shape[1] < width:
            raise RuntimeError(
                f"{_OP}: padded targets must be (N, S) with N = {batch_size} and "
                f"S >= max(target_lengths) = {width}, got shape {t.shape}"
            )
        padded = np.where(used, t[:, :width].astype(np.int64), blank)
    else:
        raise RuntimeError(
            f"{_OP}: targets must be padded (N, S) or concatenated (sum(target_lengths),), "
            f"got shape {t.shape}"
        )
    out_of_range = used & ((padded < 0) | (padded >= n_classes))
    if out_of_range.any():
        raise RuntimeError(
            f"{_OP}: targets must be class indices in [0, C) = [0, {n_classes}), got "
            f"{int(padded[out_of_range][0])}"
        )
    if (used & (padded == blank)).any():
        raise RuntimeError(
            f"{_OP}: targets must not contain the blank index {blank} (within the target "
            f"lengths; padding past them may be anything)"
        )
    return padded


# ----------------------------------------------------------------------- public function
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss -log p(l | x) (Graves et al. 2006).

    Sums the probability of every alignment of the target with the input frames by the
    forward-backward recursion over the target with blanks interleaved (see the module
    docstring for α, β and the gradient), in log space.

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities, e.g. from
            ``log_softmax(dim=-1)``; float32 or float64.
        targets: padded (N, S) class indices, never ``blank`` (entries past a sample's
            target length are ignored), or all targets concatenated, (sum(target_lengths),).
        input_lengths: (N,) number of frames of each sample, each <= T; a tensor, list or
            tuple of ints.
        target_lengths: (N,) length of each target; a tensor, list or tuple of ints.
        blank: class index of the blank. Default: 0.
        reduction: ``'none'`` (per-sample losses) | ``'mean'`` (each loss divided by its
            target length, at least 1, then averaged over the batch) | ``'sum'``.
            Default: ``'mean'``.
        zero_infinity: replace infinite losses (targets that cannot be aligned with the
            input, e.g. longer than it) and their gradients by zero. Default: False.

    Shape:
        log_probs (T, N, C) or (T, C); output () or, with ``reduction='none'``, (N,)
        (() for unbatched input).

    Examples:
        >>> import deepnum
        >>> from deepnum.nn import functional as F
        >>> log_probs = deepnum.full((3, 1, 3), 1 / 3).log()  # uniform over {blank, 1, 2}
        >>> # "12" in 3 frames: 12-, 1-2, -12, 112, 122, each of probability 1/27
        >>> round(F.ctc_loss(log_probs, [[1, 2]], [3], [2], reduction='sum').item(), 4)
        1.6864

    References:
        A. Graves, S. Fernández, F. Gomez, J. Schmidhuber, "Connectionist Temporal
        Classification: Labelling Unsegmented Sequence Data with Recurrent Neural
        Networks", ICML 2006 (§4.1, the forward-backward algorithm).
    """
    reduction = check_reduction(_OP, reduction)
    x, batched = _log_probs_3d(log_probs)
    t_max, batch_size, n_classes = x.shape
    blank = _check_blank(blank, n_classes)
    in_lengths = _lengths(input_lengths, "input_lengths", batch_size)
    tg_lengths = _lengths(target_lengths, "target_lengths", batch_size)
    _check_lengths(in_lengths, tg_lengths, t_max)
    ext = _extended_labels(_padded_targets(targets, tg_lengths, n_classes, blank), blank)
    losses = CtcLoss.apply(x, ext, in_lengths, tg_lengths, bool(zero_infinity))
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return (losses / np.maximum(tg_lengths, 1).astype(x.dtype)).mean()
    return losses if batched else losses.reshape(())
