"""Character-level text data: a public-domain English text shipped with deepnum, a character
vocabulary, language-model batches and the unigram entropy a model must beat.

The shipped text is the Book of Genesis in the King James Version (1611; public domain),
206 KB of plain ASCII English, one verse per numbered paragraph (``data/genesis_kjv.txt``).
Nothing is downloaded.

    >>> from deepnum.datasets.text import load_text, CharVocab
    >>> text = load_text()
    >>> text.splitlines()[0]
    'The First Book of Moses, Called Genesis'
    >>> vocab = CharVocab(text)
    >>> vocab.decode(vocab.encode("In the beginning"))
    'In the beginning'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["TEXTS", "CharSequences", "CharVocab", "lm_batches", "load_text", "unigram_entropy"]

_DATA = Path(__file__).with_name("data")
TEXTS = {"genesis": "genesis_kjv.txt"}


def load_text(name: str = "genesis") -> str:
    """The full text of a shipped public-domain work (``TEXTS`` lists them)."""
    if name not in TEXTS:
        raise ValueError(f"load_text: unknown text {name!r}; available: {sorted(TEXTS)}")
    return (_DATA / TEXTS[name]).read_text(encoding="utf-8")


class CharVocab:
    """Characters <-> integer ids (sorted by code point, so the mapping is reproducible)."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}
        self._lookup = np.full(max(map(ord, self.chars)) + 1, -1, np.int64)
        self._lookup[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """int64 ids of each character; unknown characters raise ``KeyError`` naming them."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.where(
            codes < len(self._lookup), self._lookup[np.minimum(codes, len(self._lookup) - 1)], -1
        )
        if (ids < 0).any():
            bad = sorted({chr(c) for c in codes[ids < 0]})
            raise KeyError(f"CharVocab.encode: characters not in the vocabulary: {bad}")
        return ids

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in np.asarray(ids).ravel())


class CharSequences:
    """(input, target) pairs of ``seq_len`` characters, the target shifted by one (next character).

    Item i covers characters [i * stride, i * stride + seq_len] of ``ids``; a ``deepnum.data``
    ``DataLoader`` batches them into (N, seq_len) int64 pairs.
    """

    def __init__(self, ids: np.ndarray, seq_len: int, stride: int | None = None) -> None:
        if len(ids) <= seq_len:
            raise ValueError(
                f"CharSequences: text of {len(ids)} characters is too short for seq_len={seq_len}"
            )
        self.ids, self.seq_len, self.stride = np.asarray(ids, np.int64), seq_len, stride or seq_len

    def __len__(self) -> int:
        return (len(self.ids) - self.seq_len - 1) // self.stride + 1

    def __getitem__(self, i: int):
        if not -len(self) <= i < len(self):
            raise IndexError(f"CharSequences: index {i} out of range for {len(self)} sequences")
        start = (i % len(self)) * self.stride
        chunk = self.ids[start : start + self.seq_len + 1]
        return chunk[:-1], chunk[1:]


def lm_batches(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """The text cut into ``batch_size`` contiguous streams, time-major (T, batch_size).

    Stream b is the b-th slice of the text, so consecutive chunks of rows continue each other
    and the recurrent state can be carried from one chunk to the next (truncated BPTT).
    """
    T = len(ids) // batch_size
    return np.asarray(ids[: T * batch_size], np.int64).reshape(batch_size, T).T.copy()


def unigram_entropy(ids: np.ndarray, vocab_size: int | None = None) -> float:
    """H = -sum_c p(c) log p(c) in nats per character: the loss of the best context-free model."""
    counts = np.bincount(np.asarray(ids), minlength=vocab_size or 0).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())
