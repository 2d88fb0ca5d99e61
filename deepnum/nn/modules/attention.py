"""``MultiheadAttention``: h heads of scaled dot-product attention over learned projections.

    head_i = Attention(Q W_qᵢ, K W_kᵢ, V W_vᵢ),   MultiHead(Q, K, V) = [head_1 … head_h] W_o

(000 eq. 45-48; the projections of all heads are one matrix, split by reshaping). Parameter
names, shapes, masks and return values are PyTorch's.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum import ops
from deepnum.autograd.grad_mode import no_grad
from deepnum.nn.functional.attention import _attend
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["MultiheadAttention"]


def _xavier_uniform(p: Parameter, fan_in: int, fan_out: int) -> None:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    p.array[...] = _rng(None).uniform(-bound, bound, p.shape)


def _xavier_normal(p: Parameter, fan_in: int, fan_out: int) -> None:
    p.array[...] = _rng(None).standard_normal(p.shape) * math.sqrt(2.0 / (fan_in + fan_out))


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """x Wᵀ + b as one 2-D product: NumPy runs an (L, N, E) @ (E, E') product as one small GEMM
    per leading index, which on (64, 32, 128) inputs is ~20x slower than a single GEMM."""
    lead = x.shape[:-1]
    out = ops.matmul(x.reshape(-1, x.shape[-1]), weight.mT)
    out = out if bias is None else out + bias
    return out.reshape(*lead, weight.shape[0])


def _mask_bias(mask, name: str, dtype, want_shape) -> Tensor | None:
    """PyTorch's MHA masks: bool True = may NOT attend (becomes -inf); float masks are added."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else Tensor._make(np.asarray(mask), False, None, 0)
    if m.dtype == np.bool_:
        return Tensor._make(np.where(m.array, -np.inf, 0.0).astype(dtype), False, None, 0)
    if m.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are supported, got {m.dtype}")
    return m.to(dtype)


class MultiheadAttention(Module):
    """Multi-head attention (``torch.nn.MultiheadAttention``).

    Args:
        embed_dim: total model dimension E (split across heads).
        num_heads: number of heads h; E must be divisible by h.
        dropout: drop probability on the attention weights (training only). Default: 0.0.
        bias: learn biases for the projections. Default: True.
        add_bias_kv: append a learned bias to the key and value sequences. Default: False.
        add_zero_attn: append a zero to the key and value sequences. Default: False.
        kdim, vdim: feature sizes of key and value (default: E).
        batch_first: inputs are (N, L, E) instead of (L, N, E). Default: False.

    Shape:
        query (L, N, E) or (N, L, E) with batch_first, or unbatched (L, E); key (S, N, kdim),
        value (S, N, vdim). Output (L, N, E) and weights (N, L, S) (averaged over heads) or
        (N, h, L, S).

    Parameters: ``in_proj_weight`` (3E, E) (or ``q_proj_weight``, ``k_proj_weight``,
    ``v_proj_weight`` when kdim/vdim differ from E) ~ Xavier uniform; ``in_proj_bias`` (3E) = 0;
    ``out_proj`` a Linear(E, E) with zero bias.

    References: 000 eq. 45-48; Vaswani et al., "Attention Is All You Need", 2017,
    arXiv:1706.03762.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads != 0:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        from deepnum.nn.modules.linear import Linear

        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        dt = np.dtype(dtype) if dtype is not None else np.float32
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dt))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dt))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dt))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dt))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dt))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        E = self.embed_dim
        with no_grad():
            if self._qkv_same_embed_dim:
                _xavier_uniform(self.in_proj_weight, E, 3 * E)
            else:
                _xavier_uniform(self.q_proj_weight, E, E)
                _xavier_uniform(self.k_proj_weight, self.kdim, E)
                _xavier_uniform(self.v_proj_weight, self.vdim, E)
            if self.in_proj_bias is not None:
                self.in_proj_bias.array[...] = 0
                self.out_proj.bias.array[...] = 0
            if self.bias_k is not None:
                _xavier_normal(self.bias_k, E, E)
                _xavier_normal(self.bias_v, E, E)

    def extra_repr(self) -> str:
        return ""

    def _projections(self):
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        return (wq, bq), (wk, bk), (wv, bv)

    def _check(self, query, key, value, batched: bool) -> None:
        name = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        want = 3 if batched else 2
        for t, label, dim in ((query, "query", self.embed_dim), (key, "key", self.kdim), (value, "value", self.vdim)):
            if t.ndim != want:
                raise RuntimeError(f"{name}: {label} should be {want}-D like the query, got shape {tuple(t.shape)}")
            if t.shape[-1] != dim:
                raise RuntimeError(f"{name}: {label} has {t.shape[-1]} features, expected {dim} (shape {tuple(t.shape)})")
        if key.shape[:-1] != value.shape[:-1]:
            raise RuntimeError(f"{name}: key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        batched = query.ndim == 3
        self._check(query, key, value, batched)
        # project in the caller's layout (contiguous); self-attention needs only one product,
        # with the stacked (3E, E) in-projection
        if query is key and key is value and self._qkv_same_embed_dim:
            q, k, v = _linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        else:
            (wq, bq), (wk, bk), (wv, bv) = self._projections()
            q, k, v = _linear(query, wq, bq), _linear(key, wk, bk), _linear(value, wv, bv)
        if not batched:
            query, key, value, q, k, v = (t.unsqueeze(1) for t in (query, key, value, q, k, v))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0) if isinstance(key_padding_mask, Tensor) else np.asarray(key_padding_mask)[None]
        elif self.batch_first:
            query, key, value, q, k, v = (t.transpose(0, 1) for t in (query, key, value, q, k, v))
        L, N, E = query.shape
        H, hd = self.num_heads, self.head_dim
        bias = _mask_bias(attn_mask, "attn_mask", q.dtype, None)
        if bias is not None and bias.ndim == 3:
            if bias.shape[0] != N * H:
                raise RuntimeError(f"MultiheadAttention: the shape of the 3D attn_mask is {tuple(bias.shape)}, but should be {(N * H, L, key.shape[0])}")
            bias = bias.reshape(N, H, L, bias.shape[-1])
        pad = _mask_bias(key_padding_mask, "key_padding_mask", q.dtype, None)
        if self.bias_k is not None:
            k = ops.cat([k, self.bias_k.expand(1, N, E)], 0)
            v = ops.cat([v, self.bias_v.expand(1, N, E)], 0)
            bias = None if bias is None else ops.pad(bias, (0, 1))
            pad = None if pad is None else ops.pad(pad, (0, 1))
        if self.add_zero_attn:
            k = ops.cat([k, ops.zeros(1, N, E, dtype=k.dtype)], 0)
            v = ops.cat([v, ops.zeros(1, N, E, dtype=v.dtype)], 0)
            bias = None if bias is None else ops.pad(bias, (0, 1))
            pad = None if pad is None else ops.pad(pad, (0, 1))
        S = k.shape[0]
        if pad is not None:
            if tuple(pad.shape) != (N, S):
                raise RuntimeError(f"MultiheadAttention: expected key_padding_mask of shape {(N, key.shape[0])}, got {tuple(key_padding_mask.shape)}")
            pad = pad.reshape(N, 1, 1, S)
            bias = pad if bias is None else bias + pad
        if is_causal and bias is None:
            causal = np.triu(np.full((L, S), -np.inf, dtype=q.dtype), k=1)
            bias = Tensor._make(causal, False, None, 0)
        # (T, N, E) -> (N, H, T, hd): one batch of N*H independent heads
        q = q.reshape(L, N, H, hd).permute(1, 2, 0, 3)
        k = k.reshape(S, N, H, hd).permute(1, 2, 0, 3)
        v = v.reshape(S, N, H, hd).permute(1, 2, 0, 3)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = _attend(q, k, v, bias, dropout_p, False, None, True, "MultiheadAttention")
        # (N, H, L, hd) -> (N, L, E) or (L, N, E): the heads side by side, in the caller's layout
        if self.batch_first and batched:
            out = out.permute(0, 2, 1, 3).reshape(N, L, E)
        else:
            out = out.permute(2, 0, 1, 3).reshape(L, N, E)
        out = _linear(out, self.out_proj.weight, self.out_proj.bias)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            weights = weights.squeeze(0)
        return out, weights
