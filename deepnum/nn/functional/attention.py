"""Scaled dot-product attention, the core of every attention layer.

    Attention(Q, K, V) = softmax(Q Kᵀ / sqrt(d_k) + M) V

(000 eq. 37-44 in the column form; masks as in eq. 58). It is one fused ``Function``
because the (L, S) probability matrix is the largest tensor of a transformer: fusing saves
keeping both the scores and the probabilities, and the backward pass is written out:

    dV = Pᵀ dO,   dP = dO Vᵀ,   dS = P ⊙ (dP − rowsum(dP ⊙ P)),   dQ = dS K s,   dK = dSᵀ Q s

It is written with operators only, so it stays differentiable under ``create_graph``.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, sum_to
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "attention_weights"]


def _softmax_last(scores: np.ndarray) -> np.ndarray:
    peak = scores.max(axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    e = np.exp(scores - peak)
    return e / e.sum(axis=-1, keepdims=True)


class _Attention(Function):
    @staticmethod
    def forward(ctx, q, k, v, bias, scale, keep):
        scores = (q @ k.swapaxes(-1, -2)) * scale
        if bias is not None:
            scores = scores + bias
        p = _softmax_last(scores).astype(q.dtype, copy=False)
        dropped = p * keep if keep is not None else p
        ctx.save_for_backward(q, k, v, p)
        ctx.scale, ctx.keep, ctx.bias_shape = scale, keep, None if bias is None else bias.shape
        return dropped @ v, dropped

    @staticmethod
    def backward(ctx, grad_out, grad_weights):
        q, k, v, p = ctx.saved_tensors
        keep = ctx.keep
        dropped = p * keep if keep is not None else p
        grad_v = dropped.swapaxes(-1, -2) @ grad_out  # dV = Pᵀ dO
        grad_dropped = grad_out @ v.swapaxes(-1, -2) + grad_weights  # dP = dO Vᵀ
        grad_p_total = grad_dropped * keep if keep is not None else grad_dropped
        # softmax Jacobian-vector product: dS = P ⊙ (dP − Σ_j dP_j P_j)
        grad_s = p * (grad_p_total - (grad_p_total * p).sum(axis=-1, keepdims=True))
        grad_q = (grad_s @ k) * ctx.scale
        grad_k = (grad_s.swapaxes(-1, -2) @ q) * ctx.scale
        grad_bias = None
        if ctx.bias_shape is not None and ctx.needs_input_grad[3]:
            grad_bias = sum_to(grad_s, ctx.bias_shape)
        return (
            sum_to(grad_q, q.shape), sum_to(grad_k, k.shape), sum_to(grad_v, v.shape),
            grad_bias, None, None,
        )


def _mask_to_bias(attn_mask, dtype, op):
    """A boolean mask (True = may attend) becomes 0 / -inf; a float mask is added as is."""
    if attn_mask is None:
        return None
    mask = as_tensor_arg(attn_mask)
    if mask.dtype == np.bool_:
        return Tensor._make(np.where(mask.array, 0.0, -np.inf).astype(dtype), False, None, 0)
    if mask.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be bool or floating point, got {mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def _causal_bias(length: int, source: int, dtype) -> np.ndarray:
    """-inf above the diagonal: position t attends only to positions <= t (000 eq. 58)."""
    return np.triu(np.full((length, source), -np.inf, dtype=dtype), k=1)


def attention_weights(query, key, attn_mask=None, is_causal=False, scale=None):
    """The attention weights softmax(Q Kᵀ · scale + M), shape (..., L, S) (000 eq. 36)."""
    _, p = _attend(query, key, key, attn_mask, 0.0, is_causal, scale, True, "attention_weights")
    return p


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q Kᵀ / sqrt(E) + mask) V, as ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        query: (..., L, E). key: (..., S, E). value: (..., S, Ev).
        attn_mask: bool (True = take part in attention) or float (added to the scores),
            broadcastable to (..., L, S).
        dropout_p: probability of dropping an attention weight (always applied when > 0,
            as in PyTorch; pass 0.0 in evaluation).
        is_causal: apply the causal mask (000 eq. 58); cannot be combined with attn_mask.
        scale: defaults to 1/sqrt(E).

    Shape:
        output (..., L, Ev).

    Examples:
        >>> import deepnum
        >>> q = k = v = deepnum.ones(1, 2, 4)
        >>> deepnum.nn.functional.scaled_dot_product_attention(q, k, v).shape
        deepnum.Size([1, 2, 4])
    """
    out, _ = _attend(query, key, value, attn_mask, dropout_p, is_causal, scale, False,
                     "scaled_dot_product_attention")
    return out


def _attend(query, key, value, attn_mask, dropout_p, is_causal, scale, want_weights, op):
    q, k, v = as_tensor_arg(query), as_tensor_arg(key), as_tensor_arg(value)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(f"{op}: query, key and value need at least 2 dims, got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(f"{op}: query and key must have the same embedding size, got query {tuple(q.shape)} and key {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"{op}: key and value must have the same sequence length, got key {tuple(k.shape)} and value {tuple(v.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: pass either attn_mask or is_causal=True, not both")
    L, S = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    bias = _mask_to_bias(attn_mask, q.dtype, op)
    if bias is not None:
        try:
            np.broadcast_shapes(bias.shape, q.shape[:-2] + (L, S))
        except ValueError:
            raise RuntimeError(
                f"{op}: attn_mask of shape {tuple(bias.shape)} does not broadcast to the attention "
                f"shape {q.shape[:-2] + (L, S)}"
            ) from None
    if is_causal:
        bias = Tensor._make(_causal_bias(L, S, q.dtype), False, None, 0)
    keep = None
    if dropout_p > 0.0:
        shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (L, S)
        keep = ((_rng(None).random(shape) >= dropout_p) / (1.0 - dropout_p)).astype(q.dtype)
    return _Attention.apply(q, k, v, bias, scale, keep)
