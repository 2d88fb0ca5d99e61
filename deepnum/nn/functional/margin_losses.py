"""Margin, ranking and embedding losses (``torch.nn.functional``), plus ``glu`` and
``gumbel_softmax``: what siamese/metric-learning programs and discrete-latent models call.

Each is a composition of differentiable ops, followed by the usual ``reduction``.
"""

from __future__ import annotations

import numpy as np

import deepnum
from deepnum.nn.functional._loss_reduction import check_reduction, legacy_reduction, reduce_loss
from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Tensor

__all__ = [
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "poisson_nll_loss",
    "multi_margin_loss",
    "glu",
    "gumbel_softmax",
]


def _reduced(name, loss, size_average, reduce, reduction):
    reduction = check_reduction(name, legacy_reduction(size_average, reduce, reduction))
    return reduce_loss(loss, reduction)


def _by_label(y, if_similar, if_dissimilar):
    """``if_similar`` where y = 1, ``if_dissimilar`` where y = −1 and 0 elsewhere, as PyTorch."""
    zeros = deepnum.zeros_like(if_similar)
    return deepnum.where(y == 1, if_similar, zeros) + deepnum.where(y == -1, if_dissimilar, zeros)


def margin_ranking_loss(
    input1,
    input2,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, −y·(x1 − x2) + margin)``: x1 should rank above x2 when y = 1, below when y = −1."""
    x1, x2, y = as_tensor_arg(input1), as_tensor_arg(input2), as_tensor_arg(target)
    return _reduced(
        "margin_ranking_loss",
        deepnum.clamp_min(-y * (x1 - x2) + margin, 0),
        size_average,
        reduce,
        reduction,
    )


def hinge_embedding_loss(
    input, target, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """``x`` where y = 1, ``max(0, margin − x)`` where y = −1 (x is usually a distance)."""
    x, y = as_tensor_arg(input), as_tensor_arg(target)
    loss = _by_label(y, x, deepnum.clamp_min(margin - x, 0))
    return _reduced("hinge_embedding_loss", loss, size_average, reduce, reduction)


def soft_margin_loss(
    input, target, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """``log(1 + exp(−y·x))``, the logistic loss for ±1 targets."""
    from deepnum.nn.functional import softplus

    x, y = as_tensor_arg(input), as_tensor_arg(target)
    return _reduced("soft_margin_loss", softplus(-y * x), size_average, reduce, reduction)


def multilabel_soft_margin_loss(
    input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """Per sample, the mean over classes of the binary cross-entropy of ``sigmoid(x)`` against 0/1 targets."""
    from deepnum.nn.functional import logsigmoid

    x, y = as_tensor_arg(input), as_tensor_arg(target)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * as_tensor_arg(weight)
    return _reduced("multilabel_soft_margin_loss", loss.mean(-1), size_average, reduce, reduction)


def cosine_embedding_loss(
    input1,
    input2,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """``1 − cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) − margin)`` where y = −1.

    The cosine is ``Σ x1·x2 / sqrt((Σ x1² + ε)(Σ x2² + ε))`` with ε = 1e-12, as PyTorch.
    """
    x1, x2, y = as_tensor_arg(input1), as_tensor_arg(input2), as_tensor_arg(target)
    eps = 1e-12
    cos = (x1 * x2).sum(-1) / deepnum.sqrt(((x1 * x1).sum(-1) + eps) * ((x2 * x2).sum(-1) + eps))
    loss = _by_label(y, 1 - cos, deepnum.clamp_min(cos - margin, 0))
    return _reduced("cosine_embedding_loss", loss, size_average, reduce, reduction)


def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """``max(d(a, p) − d(a, n) + margin, 0)`` with d the p-norm distance ``‖x − y + eps‖_p``.

    ``swap=True`` uses ``min(d(a, n), d(p, n))`` as the negative distance (Balntas et al., 2016).
    """
    from deepnum.nn.functional.vision import pairwise_distance

    a, pos, neg = as_tensor_arg(anchor), as_tensor_arg(positive), as_tensor_arg(negative)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = deepnum.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduced(
        "triplet_margin_loss",
        deepnum.clamp_min(d_pos - d_neg + margin, 0),
        size_average,
        reduce,
        reduction,
    )


def poisson_nll_loss(
    input,
    target,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of ``target`` under Poisson(λ): ``exp(x) − y·x`` for log-rates x,
    ``x − y·log(x + eps)`` for rates; ``full`` adds Stirling's ``y log y − y + ½ log(2πy)`` for y > 1."""
    x, y = as_tensor_arg(input), as_tensor_arg(target)
    loss = deepnum.exp(x) - y * x if log_input else x - y * deepnum.log(x + eps)
    if full:
        yv = y.detach().numpy()
        safe = np.where(yv > 1, yv, 1.0)
        stirling = np.where(
            yv > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0
        ).astype(x.dtype)
        loss = loss + Tensor._make(stirling, False, None, 0)
    return _reduced("poisson_nll_loss", loss, size_average, reduce, reduction)


def multi_margin_loss(
    input,
    target,
    p: int = 1,
    margin: float = 1.0,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: ``Σ_{i≠y} max(0, margin − x[y] + x[i])^p / C`` per sample (p = 1 or 2)."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got p={p}")
    x = as_tensor_arg(input)
    squeeze = x.ndim == 1
    if squeeze:
        x = x.unsqueeze(0)
    y = np.asarray(target.array if isinstance(target, Tensor) else target).reshape(-1)
    n, c = x.shape
    y_t = Tensor._make(y.reshape(n, 1), False, None, 0)
    hinge = deepnum.clamp_min(margin - x.gather(1, y_t) + x, 0) ** p
    if weight is not None:
        w = as_tensor_arg(weight)
        hinge = hinge * w[Tensor._make(y, False, None, 0)].unsqueeze(1)
    others = Tensor._make((np.arange(c)[None, :] != y[:, None]).astype(x.dtype), False, None, 0)
    loss = (hinge * others).sum(1) / c
    return _reduced(
        "multi_margin_loss", loss[0] if squeeze else loss, size_average, reduce, reduction
    )


def glu(input, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``input`` in halves a, b along ``dim`` and return ``a · sigmoid(b)``."""
    x = as_tensor_arg(input)
    if x.shape[dim] % 2:
        raise RuntimeError(
            f"glu: halving dimension must be even, but dimension {dim} is size {x.shape[dim]}"
        )
    a, b = x.chunk(2, dim)
    return a * deepnum.sigmoid(b)


def gumbel_softmax(
    logits, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A differentiable sample from the categorical distribution of ``logits``:
    ``softmax((logits + g) / tau)`` with Gumbel(0, 1) noise g (Jang et al., 2017).

    ``hard=True`` returns the one-hot of the argmax, with the soft sample's gradient
    (straight-through estimator). The noise comes from deepnum's generator.
    """
    x = as_tensor_arg(logits)
    gumbels = -deepnum.empty_like(x).exponential_().log()
    y_soft = deepnum.softmax((x + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.detach().numpy().argmax(dim)
    one_hot = np.zeros(y_soft.shape, y_soft.dtype)
    np.put_along_axis(one_hot, np.expand_dims(index, dim), 1.0, dim)
    y_hard = Tensor._make(one_hot, False, None, 0)
    return y_hard - y_soft.detach() + y_soft
