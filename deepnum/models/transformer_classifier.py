"""A transformer encoder classifier: embed, add positions, self-attend, average, classify.

    h_0 = embed(x) + PE[:T],   h_L = TransformerEncoder(h_0),   y = W mean_t(h_L[t]) + b

The mean runs over the real (unpadded) positions only, and padded positions are masked out of
the attention, so a padded batch gives each sequence the output it gets alone. Inputs are
either token ids (N, T) (``vocab_size`` set) or feature vectors (N, T, F) projected by a linear
layer (e.g. an image read row by row, as the recurrent classifiers of the zoo do).

References: 000 §9.3; Vaswani et al., "Attention Is All You Need", 2017, arXiv:1706.03762;
Devlin et al., "BERT", 2018, arXiv:1810.04805 (classification from pooled encoder states).
"""

from __future__ import annotations

import math

import numpy as np

from deepnum import nn
from deepnum.nn.modules.positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding
from deepnum.tensor import Tensor

__all__ = ["TransformerClassifier", "transformer_classifier"]


class TransformerClassifier(nn.Module):
    """TransformerEncoder + masked mean pooling + Linear.

    Args:
        num_classes: number of outputs.
        vocab_size: token vocabulary (input (N, T) int64); or
        input_size: feature size F (input (N, T, F) float). Give exactly one.
        d_model=64, nhead=4, num_layers=2, dim_feedforward=4·d_model, dropout=0.1.
        max_len: longest sequence (size of the position table). Default: 512.
        positional: 'sinusoidal' (fixed) or 'learned'. Default: 'sinusoidal'.
        norm_first: pre-norm encoder layers. Default: True.

    Shape:
        ``forward(x, lengths=None)``: x (N, T) or (N, T, F), lengths (N,) real lengths of a
        right-padded batch → logits (N, num_classes).

    Examples:
        >>> clf = TransformerClassifier(num_classes=3, vocab_size=10, d_model=16, nhead=2)
        >>> clf(deepnum.zeros(4, 7, dtype=deepnum.int64), lengths=[7, 5, 2, 7]).shape
        deepnum.Size([4, 3])
    """

    def __init__(self, num_classes: int, vocab_size: int | None = None, input_size: int | None = None,
                 d_model: int = 64, nhead: int = 4, num_layers: int = 2, dim_feedforward: int | None = None,
                 dropout: float = 0.1, max_len: int = 512, positional: str = "sinusoidal",
                 norm_first: bool = True) -> None:
        super().__init__()
        if (vocab_size is None) == (input_size is None):
            raise ValueError("TransformerClassifier: give exactly one of vocab_size (tokens) or input_size (features)")
        if positional not in ("sinusoidal", "learned"):
            raise ValueError(f"TransformerClassifier: positional must be 'sinusoidal' or 'learned', got {positional!r}")
        self.vocab_size, self.input_size, self.num_classes = vocab_size, input_size, num_classes
        if vocab_size is not None:
            self.embed = nn.Embedding(vocab_size, d_model)
        else:
            self.embed = nn.Linear(input_size, d_model)
        self.position = (SinusoidalPositionalEncoding(d_model, max_len=max_len) if positional == "sinusoidal"
                         else LearnedPositionalEncoding(max_len, d_model))
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout,
                                           batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model) if norm_first else None)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, num_classes)
        self.scale = math.sqrt(d_model) if vocab_size is not None else 1.0

    def extra_repr(self) -> str:
        source = f"vocab_size={self.vocab_size}" if self.vocab_size is not None else f"input_size={self.input_size}"
        return f"{source}, num_classes={self.num_classes}"

    def _check(self, x: Tensor) -> None:
        if self.vocab_size is not None:
            if x.ndim != 2 or x.dtype.kind not in "iu":
                raise RuntimeError(f"TransformerClassifier(vocab_size={self.vocab_size}): expected int64 "
                                   f"tokens (N, T), got {tuple(x.shape)} {x.dtype}")
        elif x.ndim != 3 or x.shape[-1] != self.input_size:
            raise RuntimeError(f"TransformerClassifier(input_size={self.input_size}): expected input "
                               f"(N, T, {self.input_size}), got {tuple(x.shape)}")

    def forward(self, x: Tensor, lengths=None) -> Tensor:
        self._check(x)
        N, T = x.shape[0], x.shape[1]
        h = self.position(self.embed(x) * self.scale)
        if lengths is None:
            return self.head(self.dropout(self.encoder(h).mean(1)))
        lengths = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths, np.int64)
        if lengths.shape != (N,) or lengths.min() < 1 or lengths.max() > T:
            raise ValueError(f"TransformerClassifier: lengths must be {N} values in [1, {T}], "
                             f"got {lengths.tolist()}")
        padded = np.arange(T)[None, :] >= lengths[:, None]  # True = padding, as PyTorch's masks
        h = self.encoder(h, src_key_padding_mask=Tensor._make(padded, False, None, 0))
        keep = Tensor._make((~padded / lengths[:, None]).astype(h.dtype)[:, :, None], False, None, 0)
        return self.head(self.dropout((h * keep).sum(1)))


def transformer_classifier(input_shape=(28, 28), num_classes: int = 10, dropout: float = 0.0,
                           vocab_size: int | None = None, d_model: int = 64, nhead: int = 4,
                           num_layers: int = 2, **kwargs) -> nn.Module:
    """Zoo constructor: tokens (``vocab_size`` given, ``input_shape=(T,)``) or feature rows
    (``input_shape=(T, F)``, or an image (C, H, W) read as H·C rows of W features)."""
    known = {k: v for k, v in kwargs.items() if k in ("dim_feedforward", "max_len", "positional", "norm_first")}
    if vocab_size is not None:
        return TransformerClassifier(num_classes, vocab_size=vocab_size, d_model=d_model, nhead=nhead,
                                     num_layers=num_layers, dropout=dropout, **known)
    if len(input_shape) < 2:
        raise ValueError("transformer-classifier: input_shape must be (T, F) or (C, H, W) without "
                         f"vocab_size, got {tuple(input_shape)}")
    return _Rows(input_shape, TransformerClassifier(num_classes, input_size=input_shape[-1], d_model=d_model,
                                                    nhead=nhead, num_layers=num_layers, dropout=dropout, **known))


class _Rows(nn.Module):
    """Reshape (N, *input_shape) into the sequence of rows (N, T, F), then classify."""

    def __init__(self, input_shape, clf: TransformerClassifier) -> None:
        super().__init__()
        self.seq_shape = (math.prod(input_shape[:-1]), input_shape[-1])
        self.clf = clf

    def forward(self, x: Tensor) -> Tensor:
        return self.clf(x.reshape(x.shape[0], *self.seq_shape))
