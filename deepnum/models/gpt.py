"""A GPT-style decoder-only language model: token + position embeddings, causal self-attention
blocks (pre-norm), and a linear head predicting the next token.

    h_0 = E[x] + P[:T],   h_l = Block_l(h_{l−1}) with the causal mask (000 eq. 58),
    p(x_{t+1} | x_≤t) = softmax(W LN(h_L))_t

References: Radford et al., "Language Models are Unsupervised Multitask Learners", 2019;
Vaswani et al., "Attention Is All You Need", 2017, arXiv:1706.03762.
"""

from __future__ import annotations

import numpy as np

from deepnum import ops
from deepnum.autograd.grad_mode import no_grad
from deepnum.nn.modules.module import Module
from deepnum.nn.modules.positional import LearnedPositionalEncoding
from deepnum.nn.modules.transformer import Transformer, TransformerEncoder, TransformerEncoderLayer
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["GPT", "gpt"]


class GPT(Module):
    """Decoder-only transformer over a vocabulary of ``vocab_size`` tokens.

    Args: vocab_size, block_size (longest context), d_model=128, nhead=4, num_layers=2,
    dim_feedforward=4·d_model, dropout=0.1.
    Shape: tokens (N, T) int64 with T <= block_size → logits (N, T, vocab_size).
    """

    def __init__(self, vocab_size: int, block_size: int, d_model: int = 128, nhead: int = 4,
                 num_layers: int = 2, dim_feedforward: int | None = None, dropout: float = 0.1) -> None:
        super().__init__()
        from deepnum.nn.modules.linear import Linear
        from deepnum.nn.modules.normalization import LayerNorm
        from deepnum.nn.modules.sparse import Embedding

        self.vocab_size, self.block_size = vocab_size, block_size
        self.token_embedding = Embedding(vocab_size, d_model)
        self.position = LearnedPositionalEncoding(block_size, d_model)
        layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout,
                                        activation="gelu", batch_first=True, norm_first=True)
        self.blocks = TransformerEncoder(layer, num_layers)
        self.norm = LayerNorm(d_model)
        self.head = Linear(d_model, vocab_size)

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, block_size={self.block_size}"

    def forward(self, tokens: Tensor) -> Tensor:
        if tokens.ndim != 2 or tokens.dtype.kind not in "iu":
            raise RuntimeError(f"GPT: expected int64 tokens of shape (N, T), got {tuple(tokens.shape)} {tokens.dtype}")
        T = tokens.shape[1]
        if T > self.block_size:
            raise ValueError(f"GPT(block_size={self.block_size}): sequence of length {T} is longer than the block size")
        h = self.position(self.token_embedding(tokens))
        mask = Transformer.generate_square_subsequent_mask(T, dtype=h.dtype)
        h = self.blocks(h, mask=mask)
        return self.head(self.norm(h))

    @no_grad()
    def generate(self, tokens: Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator=None) -> Tensor:
        """Extend ``tokens`` (N, T) by sampling one token at a time from softmax(logits / temperature)."""
        was_training = self.training
        self.eval()
        out = tokens.array.astype(np.int64)
        rng = _rng(generator)
        for _ in range(max_new_tokens):
            context = Tensor._make(out[:, -self.block_size :], False, None, 0)
            logits = self(context).array[:, -1, :].astype(np.float64) / max(temperature, 1e-8)
            if top_k is not None:
                cut = np.sort(logits, axis=-1)[:, -top_k][:, None]
                logits = np.where(logits < cut, -np.inf, logits)
            p = np.exp(logits - logits.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            nxt = (p.cumsum(-1) < rng.random((p.shape[0], 1))).sum(-1).clip(0, self.vocab_size - 1)
            out = np.concatenate([out, nxt[:, None]], axis=1)
        self.train(was_training)
        return Tensor._make(out, False, None, 0)


def gpt(vocab_size: int = 128, block_size: int = 64, **kwargs) -> GPT:
    """Zoo constructor: a small character-level GPT."""
    known = {k: v for k, v in kwargs.items() if k in ("d_model", "nhead", "num_layers", "dim_feedforward", "dropout")}
    return GPT(vocab_size, block_size, **known)
