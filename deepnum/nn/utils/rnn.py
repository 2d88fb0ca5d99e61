"""Variable-length batches for recurrent layers: padding and packed sequences (PyTorch's API).

A *packed* batch stores only the valid steps, time-major: ``data`` holds, for t = 0, 1, ...,
the step-t rows of every sequence still running at t, and ``batch_sizes[t]`` says how many
there are. Sequences are kept sorted by decreasing length inside the pack; ``sorted_indices``
/ ``unsorted_indices`` map between that order and the caller's (``enforce_sorted=False``).

``nn.RNN``/``nn.LSTM``/``nn.GRU`` accept a ``PackedSequence``: padded steps then neither
change the state nor produce output, so ``h_n`` is each sequence's state at its own last step.

    >>> import deepnum
    >>> from deepnum.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence
    >>> x = pad_sequence([deepnum.ones(3, 2), deepnum.ones(1, 2)])        # (T=3, B=2, 2)
    >>> packed = pack_padded_sequence(x, [3, 1])
    >>> packed.batch_sizes
    tensor([2, 1, 1])
    >>> pad_packed_sequence(packed)[1]
    tensor([3, 1])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from deepnum.ops.index import IndexAddInto
from deepnum.ops.join import cat
from deepnum.tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class PackedSequence(NamedTuple):
    """A packed batch: ``data`` (sum of lengths, *), ``batch_sizes`` (T,) int64, and the
    permutations ``sorted_indices`` / ``unsorted_indices`` (None when the input was sorted)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        return self._replace(data=self.data.to(*args, **kwargs))


def _as_int_array(x, what: str) -> np.ndarray:
    arr = np.asarray(x.array if isinstance(x, Tensor) else x)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(
            f"{what}: expected a 1-D sequence of integers, got {arr.dtype} of shape {arr.shape}"
        )
    return arr.astype(np.int64)


def _valid_mask(batch_sizes: np.ndarray) -> np.ndarray:
    """(T, B) boolean: step t of (sorted) sequence b exists."""
    return np.arange(batch_sizes[0])[None, :] < batch_sizes[:, None]


def packed_to_padded(data: Tensor, batch_sizes: np.ndarray) -> tuple[Tensor, np.ndarray]:
    """Padded time-major (T, B, *) tensor (zeros where padded) and its (T, B) validity mask."""
    valid = _valid_mask(batch_sizes)
    T, B = valid.shape
    rest = tuple(data.shape[1:])
    flat = IndexAddInto.apply(data, (T * B,) + rest, np.flatnonzero(valid))
    return flat.reshape((T, B) + rest), valid


def padded_to_packed(padded: Tensor, batch_sizes: np.ndarray) -> Tensor:
    """The valid rows of a padded time-major (T, B, *) tensor, in packed order."""
    valid = _valid_mask(batch_sizes)
    T, B = valid.shape
    return padded.reshape((T * B,) + tuple(padded.shape[2:]))[np.flatnonzero(valid)]


def pack_padded_sequence(
    input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) given each length."""
    lengths = _as_int_array(lengths, "pack_padded_sequence: lengths")
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    if input.ndim < 2:
        raise ValueError(
            f"pack_padded_sequence: expected input of at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    B, T = input.shape[batch_dim], input.shape[time_dim]
    if len(lengths) != B:
        raise ValueError(
            f"pack_padded_sequence: expected {B} lengths (batch size of input of shape "
            f"{tuple(input.shape)}), got {len(lengths)}"
        )
    if B and lengths.min() <= 0:
        raise RuntimeError(
            "pack_padded_sequence: length of all samples has to be greater than 0, "
            f"but found an element in 'lengths' that is <= 0: {lengths.tolist()}"
        )
    if B and lengths.max() > T:
        raise RuntimeError(
            f"pack_padded_sequence: a length ({lengths.max()}) is longer than the sequence "
            f"dimension of the input (T={T}, input shape {tuple(input.shape)})"
        )
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                f"pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                f"`enforce_sorted` is True, got {lengths.tolist()}. You can pass `enforce_sorted=False` "
                "to pack_padded_sequence and/or pack_sequence to sidestep this requirement."
            )
        sorted_idx = unsorted_idx = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_idx, unsorted_idx = order, np.argsort(order)
        input = input[order] if batch_first else input[:, order]
    if batch_first:
        input = input.transpose(0, 1)
    batch_sizes = (np.arange(lengths[0])[:, None] < lengths[None, :]).sum(1).astype(np.int64)
    data = padded_to_packed(input[: lengths[0]], batch_sizes)
    wrap = lambda a: None if a is None else Tensor._make(a.astype(np.int64), False, None, 0)
    return PackedSequence(data, wrap(batch_sizes), wrap(sorted_idx), wrap(unsorted_idx))


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Inverse of ``pack_padded_sequence``: (padded, lengths), in the caller's batch order."""
    batch_sizes = sequence.batch_sizes.array
    padded, valid = packed_to_padded(sequence.data, batch_sizes)
    T = len(batch_sizes)
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                f"pad_packed_sequence: expected total_length to be at least the length of the "
                f"longest sequence ({T}), got {total_length}"
            )
        if total_length > T:
            pad = np.zeros((total_length - T,) + tuple(padded.shape[1:]), padded.dtype)
            padded = cat([padded, Tensor._make(pad, False, None, 0)], 0)
            valid = np.concatenate([valid, np.zeros((total_length - T, valid.shape[1]), bool)])
    if padding_value != 0:
        fill = (~valid).reshape(valid.shape + (1,) * (padded.ndim - 2)) * padding_value
        padded = padded + Tensor._make(fill.astype(padded.dtype), False, None, 0)
    lengths = valid.sum(0)
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices.array
        padded, lengths = padded[:, order], lengths[order]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._make(lengths.astype(np.int64), False, None, 0)


def pad_sequence(
    sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
) -> Tensor:
    """Stack sequences of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padded."""
    if padding_side not in ("right", "left"):
        raise ValueError(
            f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}"
        )
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    rest = tuple(sequences[0].shape[1:])
    for k, s in enumerate(sequences):
        if tuple(s.shape[1:]) != rest:
            raise RuntimeError(
                f"pad_sequence: sequence {k} has shape {tuple(s.shape)}, expected trailing "
                f"dimensions {rest} like sequence 0"
            )
    lens = np.array([s.shape[0] for s in sequences])
    B, T = len(sequences), int(lens.max())
    start = np.zeros(B, np.int64) if padding_side == "right" else T - lens
    rows = np.concatenate([b * T + start[b] + np.arange(n) for b, n in enumerate(lens)])
    out = IndexAddInto.apply(cat(sequences, 0), (B * T,) + rest, rows).reshape((B, T) + rest)
    if padding_value != 0:
        fill = np.full((B * T,) + rest, padding_value, out.dtype)
        fill[rows] = 0
        out = out + Tensor._make(fill.reshape((B, T) + rest), False, None, 0)
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """The list of sequences (L_i, *) inside a padded batch."""
    lengths = _as_int_array(lengths, "unpad_sequence: lengths")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, : int(n)] for b, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) directly."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences inside a packed batch, in the caller's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
