"""A GPT-style decoder-only language model: token + position embeddings, causal self-attention
blocks (pre-norm), and a linear head predicting the next token.

    h_0 = E[x] + P[:T],   h_l = Block_l(h_{l−1}) with the causal mask (000 eq. 58),
    p(x_{t+1} | x_≤t) = softmax(W LN(h_L))_t

References: Radford et al., "Language Models are Unsupervised Multitask Learners", 2019;
Vaswani et al., "Attention Is All You Need", 2017, arXiv:1706.03762.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.grad_mode import no_grad
from deepnum.nn.modules.module import Module
from deepnum.nn.modules.positional import LearnedPositionalEncoding
from deepnum.nn.modules.transformer import Transformer, TransformerEncoder, TransformerEncoderLayer
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["GPT", "gpt"]


class GPT(Module):
    """Decoder-only transformer over a vocabulary of ``vocab_size`` tokens.

    Args:
        vocab_size: number of tokens V.
        block_size: longest context T the model reads (size of the position table).
        d_model: width of the residual stream. Default: 128.
        nhead: attention heads per block. Default: 4.
        num_layers: number of blocks. Default: 2.
        dim_feedforward: hidden width of each block's MLP. Default: 4·d_model.
        dropout: dropout in the blocks (attention weights, residual branches). Default: 0.1.

    Shape:
        tokens (N, T) int64 with T <= block_size → logits (N, T, V); logits[:, t] predict
        token t + 1 from tokens 0 … t only (the causal mask).

    Examples:
        >>> model = GPT(vocab_size=10, block_size=8, d_model=16, nhead=2, num_layers=1)
        >>> model(deepnum.zeros(2, 5, dtype=deepnum.int64)).shape
        deepnum.Size([2, 5, 10])
        >>> model.generate(deepnum.zeros(2, 3, dtype=deepnum.int64), 4, top_k=3).shape
        deepnum.Size([2, 7])
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
        """Extend ``tokens`` (N, T) by ``max_new_tokens`` tokens, one at a time.

        Each new token is drawn from softmax(logits / temperature) of the last position, read
        with the last ``block_size`` tokens as context. ``top_k`` keeps only the k most likely
        tokens (the rest get probability 0); ``temperature=0`` picks the arg-max (greedy).
        ``generator`` (a ``deepnum.Generator``) makes the samples reproducible.
        """
        if temperature < 0:
            raise ValueError(f"GPT.generate: temperature must be >= 0, got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"GPT.generate: top_k must be >= 1, got {top_k}")
        if tokens.ndim != 2:
            raise RuntimeError(f"GPT.generate: expected tokens of shape (N, T), got {tuple(tokens.shape)}")
        was_training = self.training
        self.eval()
        out = tokens.array.astype(np.int64)
        rng = _rng(generator)
        for _ in range(max_new_tokens):
            context = Tensor._make(out[:, -self.block_size :], False, None, 0)
            logits = self(context).array[:, -1, :].astype(np.float64)
            if temperature == 0:
                nxt = logits.argmax(-1)
            else:
                logits = logits / temperature
                if top_k is not None and top_k < self.vocab_size:
                    cut = np.sort(logits, axis=-1)[:, -top_k][:, None]
                    logits = np.where(logits < cut, -np.inf, logits)
                p = np.exp(logits - logits.max(-1, keepdims=True))
                p /= p.sum(-1, keepdims=True)
                nxt = (p.cumsum(-1) < rng.random((p.shape[0], 1))).sum(-1).clip(0, self.vocab_size - 1)
            out = np.concatenate([out, nxt[:, None]], axis=1)
        self.train(was_training)
        return Tensor._make(out, False, None, 0)


def gpt(input_shape=(64,), num_classes: int = 128, dropout: float = 0.1, vocab_size: int | None = None,
        block_size: int | None = None, **kwargs) -> GPT:
    """Zoo constructor: a small character-level GPT over ``num_classes`` tokens (the vocabulary)
    with contexts of ``input_shape[0]`` tokens (the block size)."""
    known = {k: v for k, v in kwargs.items() if k in ("d_model", "nhead", "num_layers", "dim_feedforward")}
    return GPT(vocab_size or num_classes, block_size or int(input_shape[0]), dropout=dropout, **known)
