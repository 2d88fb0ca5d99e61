"""``EmbeddingBag``: an embedding table whose lookups are reduced per bag (sum, mean or max)."""

from __future__ import annotations

from deepnum.nn.functional.embedding_bag import embedding_bag
from deepnum.nn.modules.sparse import _LookupTable

__all__ = ["EmbeddingBag"]


class EmbeddingBag(_LookupTable):
    """out[b] = reduce over the bag b of weight[index]: the bag-of-words layer of text classifiers.

    Args:
        num_embeddings, embedding_dim: table size, as ``Embedding``.
        mode: ``'mean'`` (default), ``'sum'`` or ``'max'``.
        padding_idx: this row starts at zero and positions holding it are skipped.
        include_last_offset: ``offsets`` has one more entry, the end of the last bag.
        max_norm, norm_type, scale_grad_by_freq, sparse, _weight: as ``Embedding``.

    Shape:
        input ``(B, N)``, or ``(T,)`` with ``offsets`` ``(B,)``; output ``(B, embedding_dim)``;
        ``weight`` ``(num_embeddings, embedding_dim)`` ~ N(0, 1).

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(deepnum.tensor([1, 2, 4, 5, 4]), deepnum.tensor([0, 2])).shape
        deepnum.Size([2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm=None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight=None,
        include_last_offset: bool = False,
        padding_idx=None,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = (
            max_norm,
            norm_type,
            scale_grad_by_freq,
        )
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self._create_weight(_weight, dtype)

    def forward(self, input, offsets=None, per_sample_weights=None):
        self._check_indices(input)
        return embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
