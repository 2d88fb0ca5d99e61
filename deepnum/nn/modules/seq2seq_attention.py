"""Attention for encoder-decoder models: additive (Bahdanau), multiplicative (Luong) and hard.

A decoder state s (the query) attends over encoder states h_1 … h_S (keys and values):

    e_i = score(s, h_i),   λ = softmax(e),   c = Σ_i λ_i h_i          (000 eq. 35-36)

- additive (Bahdanau et al. 2015):       score(s, h) = vᵀ tanh(W_q s + W_k h)
- multiplicative (Luong et al. 2015):    score(s, h) = sᵀ h ('dot') or sᵀ W h ('general')
- hard attention (000 §9.2): sample ℓ ~ λ and return h_ℓ; sampling is not differentiable, so
  the scorer is trained with the REINFORCE estimator ∇E[R] = E[(R − b) ∇ log λ_ℓ].
"""

from __future__ import annotations

import math

import numpy as np

from deepnum import ops
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["AdditiveAttention", "MultiplicativeAttention", "HardAttention", "reinforce_loss"]


def _uniform(shape, fan_in: int) -> Parameter:
    bound = 1.0 / math.sqrt(fan_in)
    return Parameter(_rng(None).uniform(-bound, bound, shape).astype(np.float32))


def _check(name: str, query: Tensor, keys: Tensor, q_dim: int, k_dim: int) -> None:
    if query.ndim != 2 or query.shape[-1] != q_dim:
        raise RuntimeError(f"{name}: query should be (N, {q_dim}), got {tuple(query.shape)}")
    if keys.ndim != 3 or keys.shape[-1] != k_dim or keys.shape[0] != query.shape[0]:
        raise RuntimeError(f"{name}: keys should be ({query.shape[0]}, S, {k_dim}), got {tuple(keys.shape)}")


def _attend(scores: Tensor, values: Tensor, mask) -> tuple[Tensor, Tensor]:
    """Softmax over positions (masked positions get weight 0), then the weighted sum."""
    if mask is not None:
        valid = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
        scores = ops.masked_fill(scores, Tensor._make(~valid.astype(bool), False, None, 0), -np.inf)
    weights = ops.softmax(scores, dim=-1)
    context = ops.matmul(weights.unsqueeze(1), values).squeeze(1)
    return context, weights


class AdditiveAttention(Module):
    """Bahdanau attention: e_i = vᵀ tanh(W_q s + W_k h_i).

    Args: query_dim, key_dim, hidden_dim.
    Shape: query (N, query_dim), keys (N, S, key_dim), values (N, S, D) (default keys),
    mask (N, S) bool with True where a position may be attended.
    Returns (context (N, D), weights (N, S)).

    References: Bahdanau, Cho, Bengio, "Neural Machine Translation by Jointly Learning to
    Align and Translate", 2015, arXiv:1409.0473.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.query_dim, self.key_dim, self.hidden_dim = query_dim, key_dim, hidden_dim
        self.W_q = _uniform((query_dim, hidden_dim), query_dim)
        self.W_k = _uniform((key_dim, hidden_dim), key_dim)
        self.v = _uniform((hidden_dim,), hidden_dim)

    def extra_repr(self) -> str:
        return f"query_dim={self.query_dim}, key_dim={self.key_dim}, hidden_dim={self.hidden_dim}"

    def forward(self, query: Tensor, keys: Tensor, values=None, mask=None):
        _check("AdditiveAttention", query, keys, self.query_dim, self.key_dim)
        hidden = ops.tanh(ops.matmul(query, self.W_q).unsqueeze(1) + ops.matmul(keys, self.W_k))
        scores = ops.matmul(hidden, self.v)
        return _attend(scores, keys if values is None else values, mask)


class MultiplicativeAttention(Module):
    """Luong attention: e_i = sᵀ h_i ('dot', needs equal sizes) or sᵀ W h_i ('general').

    References: Luong, Pham, Manning, "Effective Approaches to Attention-based Neural Machine
    Translation", 2015, arXiv:1508.04025.
    """

    def __init__(self, query_dim: int, key_dim: int, score: str = "general") -> None:
        super().__init__()
        if score not in ("dot", "general"):
            raise ValueError(f"MultiplicativeAttention: score must be 'dot' or 'general', got {score!r}")
        if score == "dot" and query_dim != key_dim:
            raise ValueError(f"MultiplicativeAttention(score='dot'): query_dim {query_dim} and key_dim {key_dim} must be equal")
        self.query_dim, self.key_dim, self.score = query_dim, key_dim, score
        self.W = _uniform((query_dim, key_dim), query_dim) if score == "general" else None

    def extra_repr(self) -> str:
        return f"query_dim={self.query_dim}, key_dim={self.key_dim}, score={self.score!r}"

    def forward(self, query: Tensor, keys: Tensor, values=None, mask=None):
        _check("MultiplicativeAttention", query, keys, self.query_dim, self.key_dim)
        q = ops.matmul(query, self.W) if self.W is not None else query
        scores = ops.matmul(keys, q.unsqueeze(-1)).squeeze(-1)
        return _attend(scores, keys if values is None else values, mask)


class HardAttention(Module):
    """Sample one position ℓ ~ softmax(scores) and return its value (000 §9.2, hard attention).

    Wraps a soft scorer (``AdditiveAttention`` or ``MultiplicativeAttention``) for the
    probabilities. In evaluation mode it takes the arg-max instead of sampling.

    Returns (value h_ℓ (N, D), log λ_ℓ (N,), weights (N, S)); train the scorer with
    ``reinforce_loss(log_prob, reward)``.
    """

    def __init__(self, scorer: Module) -> None:
        super().__init__()
        self.scorer = scorer

    def forward(self, query: Tensor, keys: Tensor, values=None, mask=None, generator=None):
        _, weights = self.scorer(query, keys, values, mask)
        probs = weights.array.astype(np.float64)
        if self.training:
            cumulative = probs.cumsum(axis=-1)
            u = _rng(generator).random((probs.shape[0], 1)) * cumulative[:, -1:]
            index = (cumulative < u).sum(axis=-1).clip(0, probs.shape[1] - 1)
        else:
            index = probs.argmax(axis=-1)
        rows = np.arange(probs.shape[0])
        vals = keys if values is None else values
        chosen = vals[Tensor._make(rows, False, None, 0), Tensor._make(index, False, None, 0)]
        log_prob = ops.log(weights[Tensor._make(rows, False, None, 0), Tensor._make(index, False, None, 0)])
        return chosen, log_prob, weights


def reinforce_loss(log_prob: Tensor, reward, baseline=None) -> Tensor:
    """REINFORCE surrogate −mean((R − b) log p(ℓ)): its gradient is the policy-gradient estimate.

    The reward is treated as a constant; a baseline b (e.g. a running mean of R) reduces
    variance without biasing the estimate.

    References: Williams, "Simple Statistical Gradient-Following Algorithms for
    Connectionist Reinforcement Learning", 1992.
    """
    r = reward.detach() if isinstance(reward, Tensor) else Tensor._make(np.asarray(reward, dtype=log_prob.dtype), False, None, 0)
    if baseline is not None:
        r = r - (baseline.detach() if isinstance(baseline, Tensor) else baseline)
    return -(r * log_prob).mean()
