"""``embedding_bag``: sums, means or maxima of bags of embeddings, without building the
``(bags, length, dim)`` tensor for sums and means.

A bag is a run of indices: the rows of a 2-D input, or the segments of a 1-D input that start
at ``offsets``. ``sum`` and ``mean`` are one product ``M @ weight[input]`` with
``M[b, t] = w_t`` (the per-sample weight, 1, or ``1 / |bag b|``) for the positions ``t`` of bag
``b``; ``max`` takes the largest entry per dimension. Positions holding ``padding_idx`` are
left out of every bag (and of the mean's count); an empty bag gives zeros.
"""

from __future__ import annotations

import numpy as np

import deepnum
from deepnum.nn.functional.embedding import embedding
from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Tensor

__all__ = ["embedding_bag"]


def _bags(idx: np.ndarray, offsets, include_last_offset: bool):
    """Flat indices and, for each position, the bag it belongs to; plus the number of bags."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                f"embedding_bag: offsets has to be None if input is 2D (input shape {tuple(idx.shape)})"
            )
        b, n = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(b), n), b
    if idx.ndim != 1:
        raise ValueError(
            f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}"
        )
    if offsets is None:
        raise ValueError(
            "embedding_bag: offsets has to be a 1D Tensor but got None (needed for 1-D input)"
        )
    off = np.asarray(
        offsets.array if isinstance(offsets, Tensor) else offsets, dtype=np.int64
    ).reshape(-1)
    if off.size and (off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] > idx.size):
        raise ValueError(
            f"embedding_bag: offsets must start at 0, not decrease and stay within the input length {idx.size}; got {off.tolist()}"
        )
    starts = off[:-1] if include_last_offset else off
    ends = np.append(starts[1:], off[-1] if include_last_offset else idx.size)
    bag_of = np.repeat(np.arange(len(starts)), ends - starts)
    return idx[: len(bag_of)], bag_of, len(starts)


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights=None,
    include_last_offset: bool = False,
    padding_idx=None,
) -> Tensor:
    """Reduce each bag of embedding rows to one vector: ``sum``, ``mean`` or ``max``.

    Args:
        input: ``(B, N)`` indices (B bags of N) or ``(T,)`` indices cut into bags by ``offsets``.
        weight: ``(num_embeddings, embedding_dim)``.
        offsets: ``(B,)`` start of each bag in a 1-D input (``(B + 1,)`` with ``include_last_offset``).
        mode: ``'sum'``, ``'mean'`` or ``'max'``.
        per_sample_weights: like ``input``; scales each row before summing (``mode='sum'`` only).
        padding_idx: positions holding this index are skipped.

    Shape:
        output ``(B, embedding_dim)``.

    Examples:
        >>> w = deepnum.arange(6.0).reshape(3, 2)
        >>> embedding_bag(deepnum.tensor([0, 2, 1]), w, deepnum.tensor([0, 2]), mode="sum")
        tensor([[4., 6.],
                [2., 3.]])
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None; only mode='sum' supports them, got mode={mode!r}"
        )
    idx = np.asarray(input.array if isinstance(input, Tensor) else input)
    w = as_tensor_arg(weight)
    flat, bag_of, n_bags = _bags(idx, offsets, include_last_offset)
    n = w.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    keep = np.ones(flat.shape, bool) if padding_idx is None else flat != padding_idx
    rows = embedding(
        Tensor._make(flat, False, None, 0), w, None, max_norm, norm_type, scale_grad_by_freq
    )
    if mode == "max":
        return _bag_max(rows, bag_of, keep, n_bags)
    counts = np.bincount(bag_of[keep], minlength=n_bags).astype(w.dtype)
    coef = keep.astype(w.dtype)
    if mode == "mean":
        coef = coef / np.maximum(counts, 1)[bag_of]
    m = np.zeros((n_bags, flat.size), w.dtype)
    m[bag_of, np.arange(flat.size)] = coef
    if per_sample_weights is not None:
        psw = as_tensor_arg(per_sample_weights).reshape(-1)[: flat.size]
        return deepnum.matmul(Tensor._make(m, False, None, 0), rows * psw.unsqueeze(1))
    return deepnum.matmul(Tensor._make(m, False, None, 0), rows)


def _bag_max(rows: Tensor, bag_of: np.ndarray, keep: np.ndarray, n_bags: int) -> Tensor:
    """Per-bag elementwise maximum: gather each bag into a padded ``(B, L, D)`` block."""
    bag_of, pos = bag_of[keep], np.flatnonzero(keep)
    lengths = np.bincount(bag_of, minlength=n_bags)
    width = max(int(lengths.max()) if lengths.size else 0, 1)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if lengths.size else lengths
    slot = np.arange(len(bag_of)) - first[bag_of]
    gather = np.full((n_bags, width), rows.shape[0], dtype=np.int64)  # the extra row: -inf padding
    gather[bag_of, slot] = pos
    pad = Tensor._make(np.full((1, rows.shape[1]), -np.inf, rows.dtype), False, None, 0)
    block = deepnum.cat([rows, pad], 0)[Tensor._make(gather, False, None, 0)]
    out = block.max(1).values
    empty = Tensor._make((lengths == 0)[:, None], False, None, 0)
    return deepnum.where(empty, Tensor._make(np.zeros((), rows.dtype), False, None, 0), out)
