"""``kl_divergence(p, q)``: KL(p ‖ q) = E_p[log p(x) − log q(x)] in closed form, per pair of types.

``register_kl(TypeP, TypeQ)`` adds a pair, as ``torch.distributions.kl.register_kl``; the
most specific registered pair (by method resolution order) is used.

    >>> p, q = Normal(0.0, 1.0), Normal(1.0, 2.0)
    >>> round(kl_divergence(p, q).item(), 4)
    0.4431
"""

from __future__ import annotations


import numpy as np

from deepnum import ops
from deepnum.distributions.discrete import Bernoulli, Categorical
from deepnum.distributions.multivariate import Independent, MultivariateNormal, TriangularSolve
from deepnum.distributions.normal import Normal, Uniform
from deepnum.tensor import Tensor

__all__ = ["kl_divergence", "register_kl"]

_KL = {}


def register_kl(type_p, type_q):
    """Decorator registering ``fn(p, q)`` as the KL divergence between these two types."""

    def decorator(fn):
        _KL[type_p, type_q] = fn
        return fn

    return decorator


def kl_divergence(p, q) -> Tensor:
    """KL(p ‖ q), shaped like the batch shape of the pair (summed over event dimensions)."""
    for tp in type(p).__mro__:
        for tq in type(q).__mro__:
            fn = _KL.get((tp, tq))
            if fn is not None:
                return fn(p, q)
    raise NotImplementedError(
        f"kl_divergence: no closed form registered for {type(p).__name__} ‖ {type(q).__name__}; "
        "register one with deepnum.distributions.kl.register_kl, or estimate it by sampling: "
        "x = p.rsample((n,)); (p.log_prob(x) - q.log_prob(x)).mean(0)"
    )


def _const(mask: np.ndarray, value: float, dtype) -> Tensor:
    return Tensor._make(np.where(mask, value, 0.0).astype(dtype), False, None, 0)


def _fix(t: Tensor, inf_where: np.ndarray, zero_where: np.ndarray) -> Tensor:
    """``t`` with +inf where q has no mass but p has, and 0 where p has no mass (0·log 0 = 0)."""
    inf_where, zero_where = (
        np.broadcast_to(inf_where, t.shape),
        np.broadcast_to(zero_where, t.shape),
    )
    zeros = Tensor._make(np.zeros((), t.dtype), False, None, 0)
    t = ops.where(Tensor._make(zero_where, False, None, 0), zeros, t)
    return ops.where(
        Tensor._make(inf_where & ~zero_where, False, None, 0),
        Tensor._make(np.array(np.inf, t.dtype), False, None, 0),
        t,
    )


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - ops.log(var_ratio))


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    return _fix(t, q.probs.array == 0, p.probs.array == 0).sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    from deepnum.nn.functional import softplus

    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = _fix(t1, q.probs.array == 0, p.probs.array == 0)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = _fix(t2, q.probs.array == 1, p.probs.array == 1)
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ops.log((q.high - q.low) / (p.high - p.low))
    outside = (q.low.array > p.low.array) | (q.high.array < p.high.array)
    return _fix(result, outside, np.zeros(result.shape, bool))


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            "kl_divergence: Independent distributions with different reinterpreted_batch_ndims"
        )
    result = kl_divergence(p.base_dist, q.base_dist)
    n = p.reinterpreted_batch_ndims
    return result.sum(tuple(range(-n, 0))) if n else result


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    """½ (tr(Σq⁻¹Σp) + (μq−μp)ᵀΣq⁻¹(μq−μp) − k) + log|Lq| − log|Lp|, through Lq⁻¹ solves."""
    k = p.loc.shape[-1]
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    batch = np.broadcast_shapes(Lp.shape[:-2], Lq.shape[:-2], p.loc.shape[:-1], q.loc.shape[:-1])
    Lq_b = Lq.expand(*(batch + (k, k)))
    m = TriangularSolve.apply(Lq_b, Lp.expand(*(batch + (k, k))))
    diff = (q.loc - p.loc).expand(*(batch + (k,))).unsqueeze(-1)
    z = TriangularSolve.apply(Lq_b, diff).squeeze(-1)
    return (
        0.5 * ((m * m).sum((-2, -1)) + (z * z).sum(-1) - k) + q._half_log_det() - p._half_log_det()
    )
