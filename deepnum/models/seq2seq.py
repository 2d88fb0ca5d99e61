"""An encoder-decoder with attention: the decoder looks back at every encoder state.

The context-vector model (``deepnum.models.rnn.Seq2Seq``, 003 §4.1) squeezes the whole source
into the encoder's last state c = h_S. Here the decoder builds a fresh context at every step
from all encoder states h_1 … h_S (000 eq. 35-36, Bahdanau et al. 2015):

    e_ti = score(s_{t−1}, h_i),   α_t = softmax(e_t),   c_t = Σ_i α_ti h_i
    s_t  = GRU([embed(y_{t−1}); c_t], s_{t−1}),        p(y_t) = softmax(W [s_t; c_t] + b)

with score = vᵀ tanh(W_q s + W_k h) ('additive', Bahdanau) or sᵀ W h ('general', Luong) or
sᵀ h ('dot'). Training uses teacher forcing (the decoder reads the true y_{t−1}); evaluation
decodes greedily (the decoder reads its own arg-max). Time-major like ``Seq2Seq``:
src (S, N), tgt_in (T, N) int64 ids.

References:
    003 §4.1; 000 eq. 35-36; Bahdanau, Cho & Bengio, "Neural Machine Translation by Jointly
    Learning to Align and Translate", 2015, arXiv:1409.0473; Luong, Pham & Manning, "Effective
    Approaches to Attention-based Neural Machine Translation", 2015, arXiv:1508.04025.
"""

from __future__ import annotations

import numpy as np

import deepnum
from deepnum import nn
from deepnum.nn.modules.seq2seq_attention import AdditiveAttention, MultiplicativeAttention

__all__ = ["AttentionSeq2Seq", "attention_seq2seq"]


class AttentionSeq2Seq(nn.Module):
    """GRU encoder, GRU decoder attending over the encoder states at every step.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes.
        embedding_dim: size of both token embeddings. Default: 32.
        hidden_size: GRU state size H (encoder and decoder). Default: 128.
        attention: 'additive' (Bahdanau), 'general' or 'dot' (Luong). Default: 'additive'.
        bos: the start token fed to the decoder at the first step. Default: 0.

    Shape:
        ``forward(src (S, N), tgt_in (T, N))`` → logits (T, N, tgt_vocab); the attention
        weights of the last call are kept in ``last_attention`` (T, N, S).

    Examples:
        >>> model = AttentionSeq2Seq(src_vocab=10, tgt_vocab=11, hidden_size=16, bos=10)
        >>> src = deepnum.zeros(5, 2, dtype=deepnum.int64)
        >>> model(src, deepnum.zeros(4, 2, dtype=deepnum.int64)).shape
        deepnum.Size([4, 2, 11])
        >>> tokens, weights = model.generate(src, 5)
        >>> tokens.shape, weights.shape
        ((5, 2), (5, 2, 5))
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, embedding_dim: int = 32, hidden_size: int = 128,
                 attention: str = "additive", bos: int = 0) -> None:
        super().__init__()
        if attention == "additive":
            self.attention = AdditiveAttention(hidden_size, hidden_size, hidden_size)
        elif attention in ("general", "dot"):
            self.attention = MultiplicativeAttention(hidden_size, hidden_size, score=attention)
        else:
            raise ValueError("AttentionSeq2Seq: attention must be 'additive', 'general' or 'dot', "
                             f"got {attention!r}")
        self.bos, self.hidden_size, self.kind = bos, hidden_size, attention
        self.src_embedding = nn.Embedding(src_vocab, embedding_dim)
        self.tgt_embedding = nn.Embedding(tgt_vocab, embedding_dim)
        self.encoder = nn.GRU(embedding_dim, hidden_size)
        self.decoder = nn.GRUCell(embedding_dim + hidden_size, hidden_size)
        self.head = nn.Linear(2 * hidden_size, tgt_vocab)
        self.last_attention = None

    def extra_repr(self) -> str:
        return f"attention={self.kind!r}, bos={self.bos}"

    def encode(self, src):
        """Encoder states as keys (N, S, H) and the decoder's initial state s_0 = h_S (N, H)."""
        if src.ndim != 2 or src.dtype.kind not in "iu":
            raise RuntimeError("AttentionSeq2Seq: expected int64 source ids of shape (S, N), "
                               f"got {tuple(src.shape)} {src.dtype}")
        out, h = self.encoder(self.src_embedding(src))
        return out.transpose(0, 1), h[-1]

    def decode_step(self, tokens, state):
        """One decoder step: tokens (N,), state (s, keys) → logits (N, V), (s', keys).

        The attention weights of the step are stored in ``self.step_attention`` (N, S).
        """
        s, keys = state
        context, weights = self.attention(s, keys)
        s = self.decoder(deepnum.cat([self.tgt_embedding(tokens), context], 1), s)
        self.step_attention = weights
        return self.head(deepnum.cat([s, context], 1)), (s, keys)

    def forward(self, src, tgt_in):
        """Teacher forcing: step t reads the true previous token tgt_in[t]."""
        keys, s = self.encode(src)
        state, logits, weights = (s, keys), [], []
        for t in range(tgt_in.shape[0]):
            step_logits, state = self.decode_step(tgt_in[t], state)
            logits.append(step_logits)
            weights.append(self.step_attention.detach())
        self.last_attention = deepnum.stack(weights)
        return deepnum.stack(logits)

    def generate(self, src, steps: int):
        """Greedy decoding of ``steps`` tokens: ids (steps, N) and attention weights (steps, N, S)."""
        with deepnum.no_grad():
            keys, s = self.encode(src)
            state = (s, keys)
            tokens = deepnum.tensor(np.full(src.shape[1], self.bos, np.int64))
            out, weights = [], []
            for _ in range(steps):
                logits, state = self.decode_step(tokens, state)
                tokens = logits.argmax(1)
                out.append(tokens.numpy())
                weights.append(self.step_attention.numpy())
        return np.stack(out), np.stack(weights)


def attention_seq2seq(input_shape=None, num_classes: int = 12, src_vocab: int | None = None, **kwargs) -> AttentionSeq2Seq:
    """Zoo constructor: attention encoder-decoder over ``num_classes`` target tokens."""
    kwargs.pop("dropout", None)
    return AttentionSeq2Seq(src_vocab or num_classes, num_classes, **kwargs)
