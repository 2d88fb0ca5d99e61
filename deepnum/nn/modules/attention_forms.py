"""Attention as the notes write it: generic, self-attention in both formulations, multi-head.

Generic attention (000 eq. 35-36): for a sequence x_1 … x_T,

    x'_t = Σ_i f(x_i) λ_it,    λ_it = softmax_i g(x_i, x_t)

with a value map f and a similarity g. Self-attention picks f(x_i) = W_v x_i and
g(x_i, x_t) = q_tᵀ k_i / sqrt(d_s) (eq. 37-39). The notes give it twice:

- column form (eq. 40-44): X = [x_1 … x_T] ∈ R^{d_x×T}, Q = W_q X, K = W_k X, V = W_v X and
  X' = V softmax(QᵀK / sqrt(d_s)) with the softmax normalised over each column;
- row (dual) form (eq. 49-53): X ∈ R^{T×d_x}, Q = X W_q, K = X W_k, V = X W_v and
  X' = softmax(Q Kᵀ / sqrt(d_s)) V, normalised over each row — PyTorch's convention.

Both give the same numbers with transposed weights (a test checks it). Multi-head attention
projects with per-head matrices P_h (eq. 45-48 / 54-57) and mixes the heads with W.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum import ops
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = [
    "generic_attention", "dot_product_similarity", "scaled_dot_product_similarity",
    "self_attention_column", "self_attention_row", "causal_mask", "SelfAttention",
    "MultiHeadSelfAttention",
]


def dot_product_similarity(x_i: Tensor, x_t: Tensor) -> Tensor:
    """g(x_i, x_t) = x_iᵀ x_t for every pair: (..., T, d) × (..., T', d) → (..., T, T')."""
    return ops.matmul(x_i, x_t.transpose(-1, -2))


def scaled_dot_product_similarity(x_i: Tensor, x_t: Tensor) -> Tensor:
    """g(x_i, x_t) = x_iᵀ x_t / sqrt(d) (000 eq. 39)."""
    return dot_product_similarity(x_i, x_t) / math.sqrt(x_i.shape[-1])


def causal_mask(length: int, dtype=np.float32) -> Tensor:
    """M of 000 eq. 58: -inf above the diagonal, 0 elsewhere (row i attends to j <= i)."""
    return Tensor._make(np.triu(np.full((length, length), -np.inf, dtype=dtype), k=1), False, None, 0)


def generic_attention(x: Tensor, f=None, g=scaled_dot_product_similarity, mask=None):
    """x'_t = Σ_i f(x_i) λ_it with λ_it = softmax_i g(x_i, x_t) (000 eq. 35-36).

    Args:
        x: sequence (..., T, d_x), time as the leading index of each item.
        f: value map applied to every x_i (default: identity).
        g: similarity of every pair, called as g(x, x) → (..., T_i, T_t).
        mask: added to the similarities before the softmax (e.g. ``causal_mask(T).T``).

    Returns:
        (x', λ): x' of shape (..., T, d_h) and the weights λ of shape (..., T_i, T_t),
        each column summing to one.
    """
    values = f(x) if f is not None else x
    scores = g(x, x)
    if mask is not None:
        scores = scores + mask
    weights = ops.softmax(scores, dim=-2)  # normalised over i for every t
    return ops.matmul(weights.transpose(-1, -2), values), weights


def self_attention_column(X: Tensor, W_q: Tensor, W_k: Tensor, W_v: Tensor, mask=None) -> Tensor:
    """Column form (000 eq. 40-44): X ∈ R^{d_x×T}; returns X' = V softmax(QᵀK/sqrt(d_s)) ∈ R^{d_h×T}.

    The notes write λ = softmax(QᵀK/√d_s) "normalised w.r.t. rows"; for x'_t = Σ_i v_i λ_it
    to be a weighted average, each column t of λ (indexed by i) must sum to one, so the
    matrix multiplied by V is λ with λ_it = softmax_i(k_iᵀ q_t/√d_s), i.e. softmax(KᵀQ/√d_s)
    normalised over i. ``mask`` (optional) is M of eq. 58 in the row convention (T_t × T_i).
    """
    Q, K, V = ops.matmul(W_q, X), ops.matmul(W_k, X), ops.matmul(W_v, X)
    scores = ops.matmul(K.transpose(-1, -2), Q) / math.sqrt(Q.shape[-2])  # (T_i, T_t)
    if mask is not None:
        scores = scores + mask.transpose(-1, -2)
    lam = ops.softmax(scores, dim=-2)
    return ops.matmul(V, lam)


def self_attention_row(X: Tensor, W_q: Tensor, W_k: Tensor, W_v: Tensor, mask=None) -> Tensor:
    """Row (dual) form (000 eq. 49-53, 58): X ∈ R^{T×d_x}; X' = softmax(QKᵀ/sqrt(d_s) + M) V."""
    Q, K, V = ops.matmul(X, W_q), ops.matmul(X, W_k), ops.matmul(X, W_v)
    scores = ops.matmul(Q, K.transpose(-1, -2)) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores + mask
    return ops.matmul(ops.softmax(scores, dim=-1), V)


def _uniform(shape, fan_in: int) -> Parameter:
    bound = 1.0 / math.sqrt(fan_in)
    return Parameter(_rng(None).uniform(-bound, bound, shape).astype(np.float32))


class SelfAttention(Module):
    """Single-head self-attention with W_q, W_k (d_x×d_s) and W_v (d_x×d_h), row form (000 eq. 49-53).

    Args:
        d_x: input features. d_s: query/key size. d_h: value size (default d_s).
        causal: mask future positions (000 eq. 58).

    Shape: (N, T, d_x) or (T, d_x) → same leading dims with d_h features.
    """

    def __init__(self, d_x: int, d_s: int, d_h: int | None = None, causal: bool = False) -> None:
        super().__init__()
        d_h = d_h or d_s
        self.d_x, self.d_s, self.d_h, self.causal = d_x, d_s, d_h, causal
        self.W_q = _uniform((d_x, d_s), d_x)
        self.W_k = _uniform((d_x, d_s), d_x)
        self.W_v = _uniform((d_x, d_h), d_x)

    def extra_repr(self) -> str:
        return f"d_x={self.d_x}, d_s={self.d_s}, d_h={self.d_h}, causal={self.causal}"

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.d_x:
            raise RuntimeError(f"SelfAttention(d_x={self.d_x}): input has {x.shape[-1]} features (shape {tuple(x.shape)})")
        mask = causal_mask(x.shape[-2], x.dtype) if self.causal else None
        return self_attention_row(x, self.W_q, self.W_k, self.W_v, mask)


class MultiHeadSelfAttention(Module):
    """H heads with projections P_h of shared W_q, W_k, W_v, concatenated and mixed by W (000 eq. 54-57).

    Head h uses the effective matrices W_{h,q} = W_q P_{h,q} etc.; the heads' outputs are
    concatenated along features (the "direct sum") and multiplied by W.

    Args:
        d_x: input features. d_s, d_h: shared query/key and value sizes.
        num_heads: H. d_s_head, d_h_head: per-head sizes d_s', d_h' (default d_s/H, d_h/H).
        causal: mask future positions (eq. 58).
    """

    def __init__(self, d_x: int, d_s: int, d_h: int, num_heads: int, d_s_head: int | None = None,
                 d_h_head: int | None = None, causal: bool = False) -> None:
        super().__init__()
        if d_s_head is None and d_s % num_heads:
            raise ValueError(f"MultiHeadSelfAttention: d_s={d_s} is not divisible by num_heads={num_heads}; pass d_s_head")
        if d_h_head is None and d_h % num_heads:
            raise ValueError(f"MultiHeadSelfAttention: d_h={d_h} is not divisible by num_heads={num_heads}; pass d_h_head")
        ds_, dh_ = d_s_head or d_s // num_heads, d_h_head or d_h // num_heads
        self.num_heads, self.causal, self.d_x = num_heads, causal, d_x
        self.W_q, self.W_k, self.W_v = _uniform((d_x, d_s), d_x), _uniform((d_x, d_s), d_x), _uniform((d_x, d_h), d_x)
        self.P_q = _uniform((num_heads, d_s, ds_), d_s)
        self.P_k = _uniform((num_heads, d_s, ds_), d_s)
        self.P_v = _uniform((num_heads, d_h, dh_), d_h)
        self.W = _uniform((num_heads * dh_, num_heads * dh_), num_heads * dh_)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.d_x:
            raise RuntimeError(f"MultiHeadSelfAttention(d_x={self.d_x}): input has {x.shape[-1]} features (shape {tuple(x.shape)})")
        xh = x.unsqueeze(-3)  # broadcast over heads: (..., 1, T, d_x)
        mask = causal_mask(x.shape[-2], x.dtype) if self.causal else None
        heads = self_attention_row(
            xh, ops.matmul(self.W_q, self.P_q), ops.matmul(self.W_k, self.P_k),
            ops.matmul(self.W_v, self.P_v), mask,
        )  # (..., H, T, d_h')
        concat = ops.cat([heads[..., h, :, :] for h in range(self.num_heads)], dim=-1)
        return ops.matmul(concat, self.W)
