"""Recurrent models for the three design patterns of 003 §4.1 / 000 §9.1:

* ``CharRNN``: output at every step — a character-level language model with temperature sampling;
* ``RNNClassifier``: one output at the end (many-to-one, e.g. sentiment), variable lengths packed;
* ``Seq2Seq``: an encoder-decoder whose encoder's final state is a fixed-length context vector
  fed to every decoder step (003 §4.1; Cho et al. 2014).

References:
    003 §4.1; 000 eq. 24-34; Karpathy, "The Unreasonable Effectiveness of Recurrent Neural
    Networks", 2015; Cho et al., arXiv:1406.1078; Sutskever, Vinyals & Le, arXiv:1409.3215.
"""

from __future__ import annotations

import math

import numpy as np

import deepnum
from deepnum import nn
from deepnum.nn.utils.rnn import pack_padded_sequence
from deepnum.ops.creation import _rng

__all__ = [
    "CharRNN",
    "RNNClassifier",
    "Seq2Seq",
    "char_lstm",
    "gru_classifier",
    "lstm_classifier",
    "rnn_seq2seq",
]

_CELLS = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}


def _cell(name: str):
    if name not in _CELLS:
        raise ValueError(f"unknown recurrent cell {name!r}; choose from {sorted(_CELLS)}")
    return _CELLS[name]


class CharRNN(nn.Module):
    """Character language model p(c_{t+1} | c_1..c_t) = softmax(W h_t + b), h_t from an LSTM/GRU
    over embedded characters. Time-major: tokens (T, N) -> logits (T, N, V) and the state.

    Examples:
        >>> model = CharRNN(vocab_size=30, hidden_size=16, num_layers=1)
        >>> logits, state = model(deepnum.zeros(7, 2, dtype=deepnum.int64))
        >>> logits.shape
        deepnum.Size([7, 2, 30])
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 32,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.0,
        cell: str = "LSTM",
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = _cell(cell)(
            embedding_dim, hidden_size, num_layers, dropout=dropout if num_layers > 1 else 0.0
        )
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        out, state = self.rnn(self.embedding(tokens), state)
        return self.head(out), state

    def sample(self, prime, length: int, temperature: float = 1.0, generator=None) -> np.ndarray:
        """``length`` ids drawn from softmax(logits / temperature) after reading the ``prime`` ids.

        Low temperature approaches greedy decoding; high temperature approaches uniform.
        """
        if temperature <= 0:
            raise ValueError(f"CharRNN.sample: temperature must be > 0, got {temperature}")
        rng = _rng(generator)
        was_training = self.training
        self.eval()
        out = []
        with deepnum.no_grad():
            tokens = deepnum.tensor(np.asarray(prime, np.int64).reshape(-1, 1))
            logits, state = self(tokens)
            for _ in range(length):
                z = logits[-1, 0].numpy().astype(np.float64) / temperature
                p = np.exp(z - z.max())
                nxt = int(min(np.searchsorted(np.cumsum(p / p.sum()), rng.random()), len(p) - 1))
                out.append(nxt)
                logits, state = self(deepnum.tensor(np.array([[nxt]], np.int64)), state)
        self.train(was_training)
        return np.array(out, np.int64)


class RNNClassifier(nn.Module):
    """Many-to-one: y = W [h_T(->) ; h_1(<-)] + b from the last layer's final state(s) (003 §4.1).

    Input (N, L, F) features (``input_size=F``) or (N, L) token ids (``vocab_size`` set);
    ``lengths`` (N,) for padded batches of unequal length (packed internally, so padding
    never reaches the state).

    Examples:
        >>> clf = RNNClassifier(input_size=3, num_classes=2, hidden_size=8, bidirectional=True)
        >>> clf(deepnum.randn(4, 10, 3), lengths=[10, 7, 3, 9]).shape
        deepnum.Size([4, 2])
    """

    def __init__(
        self,
        input_size: int | None = None,
        num_classes: int = 2,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        cell: str = "LSTM",
        vocab_size: int | None = None,
        embedding_dim: int = 32,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if (input_size is None) == (vocab_size is None):
            raise ValueError(
                "RNNClassifier: give exactly one of input_size (features) or vocab_size (tokens)"
            )
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if vocab_size else None
        self.rnn = _cell(cell)(
            embedding_dim if vocab_size else input_size,
            hidden_size,
            num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x, lengths=None):
        if self.embedding is not None:
            x = self.embedding(x)
        if lengths is not None:
            x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h
        last = h[-1] if not self.rnn.bidirectional else deepnum.cat([h[-2], h[-1]], 1)
        return self.head(self.dropout(last))


class Seq2Seq(nn.Module):
    """Encoder-decoder with a context vector (003 §4.1): c = h_S of the encoder GRU;
    decoder state s_0 = c, s_t = GRU([embed(y_{t-1}); c], s_{t-1}), p(y_t) = softmax(W s_t + b).

    ``forward(src, tgt_in)`` runs the decoder with teacher forcing on ``tgt_in`` (targets shifted
    right, starting with ``bos``): (S, N), (T, N) ids -> (T, N, V) logits. ``decode_step`` is one
    free-running step for ``deepnum.train.bptt.decode``; ``generate`` decodes greedily.
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        embedding_dim: int = 32,
        hidden_size: int = 128,
        bos: int = 0,
    ) -> None:
        super().__init__()
        self.bos, self.hidden_size = bos, hidden_size
        self.src_embedding = nn.Embedding(src_vocab, embedding_dim)
        self.tgt_embedding = nn.Embedding(tgt_vocab, embedding_dim)
        self.encoder = nn.GRU(embedding_dim, hidden_size)
        self.decoder = nn.GRU(embedding_dim + hidden_size, hidden_size)
        self.head = nn.Linear(hidden_size, tgt_vocab)

    def encode(self, src):
        _, h = self.encoder(self.src_embedding(src))
        return h[-1]  # the context vector c, (N, H)

    def forward(self, src, tgt_in):
        context = self.encode(src)
        T = tgt_in.shape[0]
        inp = deepnum.cat([self.tgt_embedding(tgt_in), context.unsqueeze(0).expand(T, -1, -1)], 2)
        out, _ = self.decoder(inp, context.unsqueeze(0))
        return self.head(out)

    def decode_step(self, tokens, state):
        """tokens (N,), state (s, c) -> logits (N, V), (s', c)."""
        s, context = state
        inp = deepnum.cat([self.tgt_embedding(tokens), context], 1).unsqueeze(0)
        out, s = self.decoder(inp, s)
        return self.head(out[0]), (s, context)

    def generate(self, src, steps: int):
        """Greedy decoding of ``steps`` tokens: (steps, N) int64."""
        with deepnum.no_grad():
            context = self.encode(src)
            state = (context.unsqueeze(0), context)
            tokens = deepnum.tensor(np.full(src.shape[1], self.bos, np.int64))
            out = []
            for _ in range(steps):
                logits, state = self.decode_step(tokens, state)
                tokens = logits.argmax(1)
                out.append(tokens.numpy())
        return np.stack(out)


# ------------------------------------------------------------------------ zoo constructors
def _seq_shape(input_shape):
    """(L, F) for an example of shape input_shape; an image (C, H, W) reads row by row."""
    if len(input_shape) < 2:
        raise ValueError(
            f"recurrent classifier: input_shape must be (L, F) or (C, H, W), got {tuple(input_shape)}"
        )
    return math.prod(input_shape[:-1]), input_shape[-1]


class _Rows(nn.Module):
    """Reshape (N, *input_shape) to the sequence (N, L, F), then classify."""

    def __init__(self, input_shape, clf: RNNClassifier) -> None:
        super().__init__()
        self.seq_shape = _seq_shape(input_shape)
        self.clf = clf

    def forward(self, x):
        return self.clf(x.reshape(x.shape[0], *self.seq_shape))


def lstm_classifier(
    input_shape=(28, 28),
    num_classes: int = 10,
    dropout: float = 0.0,
    hidden_size: int = 64,
    num_layers: int = 1,
    bidirectional: bool = False,
    cell: str = "LSTM",
    **_,
) -> nn.Module:
    """Many-to-one LSTM over the rows of each example (e.g. MNIST as 28 steps of 28 pixels)."""
    _, F = _seq_shape(input_shape)
    return _Rows(
        input_shape,
        RNNClassifier(
            F, num_classes, hidden_size, num_layers, bidirectional, cell, dropout=dropout
        ),
    )


def gru_classifier(**kwargs) -> nn.Module:
    return lstm_classifier(**{**kwargs, "cell": "GRU"})


def char_lstm(input_shape=None, num_classes: int = 72, dropout: float = 0.0, **kwargs) -> CharRNN:
    """Character language model with ``num_classes`` characters in its vocabulary."""
    return CharRNN(vocab_size=num_classes, dropout=dropout, **kwargs)


def rnn_seq2seq(
    input_shape=None, num_classes: int = 12, src_vocab: int | None = None, **kwargs
) -> Seq2Seq:
    """Encoder-decoder over ``num_classes`` target tokens (and as many source tokens unless given)."""
    kwargs.pop("dropout", None)
    return Seq2Seq(src_vocab or num_classes, num_classes, **kwargs)
