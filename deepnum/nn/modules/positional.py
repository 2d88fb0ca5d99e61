"""Positional encodings: attention ignores order, so positions are added to the inputs (000 §9.3)."""

from __future__ import annotations

import math

import numpy as np

from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEncoding", "sinusoidal_table"]


def sinusoidal_table(length: int, d_model: int, dtype=np.float32) -> np.ndarray:
    """PE[t, 2i] = sin(t / 10000^{2i/d}),  PE[t, 2i+1] = cos(t / 10000^{2i/d}).

    References: Vaswani et al., "Attention Is All You Need", 2017, §3.5, arXiv:1706.03762.
    """
    position = np.arange(length, dtype=np.float64)[:, None]
    frequency = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    table = np.zeros((length, d_model))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency[: d_model // 2])
    return table.astype(dtype)


def _check(name: str, x: Tensor, d_model: int, max_len: int, batch_first: bool) -> int:
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise RuntimeError(f"{name}(d_model={d_model}): expected input (..., T, {d_model}), got {tuple(x.shape)}")
    length = x.shape[-2] if (batch_first or x.ndim == 2) else x.shape[0]
    if length > max_len:
        raise ValueError(f"{name}(max_len={max_len}): sequence of length {length} is longer than the positional table; raise max_len")
    return length


class SinusoidalPositionalEncoding(Module):
    """x + PE[:T] with the fixed sinusoidal table (no parameters), then dropout.

    Args: d_model, dropout=0.0, max_len=5000, batch_first=True.
    Shape: (N, T, d_model) with batch_first, else (T, N, d_model); or (T, d_model).
    """

    def __init__(self, d_model: int, dropout: float = 0.0, max_len: int = 5000, batch_first: bool = True) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first, self.p = d_model, max_len, batch_first, dropout
        self.register_buffer("pe", Tensor._make(sinusoidal_table(max_len, d_model), False, None, 0), persistent=False)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"

    def forward(self, x: Tensor) -> Tensor:
        length = _check(type(self).__name__, x, self.d_model, self.max_len, self.batch_first)
        pe = self.pe[:length].to(x.dtype)
        out = x + (pe if (self.batch_first or x.ndim == 2) else pe.unsqueeze(1))
        if self.p > 0 and self.training:
            from deepnum.nn import functional as F

            out = F.dropout(out, self.p, True)
        return out


class LearnedPositionalEncoding(Module):
    """x + P[:T] with a learned table P ∈ R^{max_len×d_model} ~ N(0, 0.02²) (as in GPT-2).

    Args: max_len, d_model, batch_first=True.
    """

    def __init__(self, max_len: int, d_model: int, batch_first: bool = True) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.weight = Parameter((_rng(None).standard_normal((max_len, d_model)) * 0.02).astype(np.float32))

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}"

    def forward(self, x: Tensor) -> Tensor:
        length = _check(type(self).__name__, x, self.d_model, self.max_len, self.batch_first)
        table = self.weight[:length]
        return x + (table if (self.batch_first or x.ndim == 2) else table.unsqueeze(1))
