"""``Embedding``: a learnable lookup table (one row per index)."""

from __future__ import annotations

import numpy as np

from deepnum import _dtype
from deepnum.nn import functional as F
from deepnum.nn import init
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter
from deepnum.tensor import Tensor

__all__ = ["Embedding"]


class _LookupTable(Module):
    """What ``Embedding`` and ``EmbeddingBag`` share: the ``(num_embeddings, embedding_dim)``
    table ~ N(0, 1) with a zero ``padding_idx`` row, and the check that indices fit it."""

    def _create_weight(self, _weight, dtype, requires_grad: bool = True) -> None:
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dt = _dtype.to_dtype(dtype) if dtype else _dtype.get_default_dtype()
            self.weight = Parameter(np.empty(shape, dt), requires_grad=requires_grad)
            self.reset_parameters()
            return
        array = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
        if array.shape != shape:
            raise ValueError(
                f"{type(self).__name__}: _weight has shape {array.shape}, expected {shape}"
            )
        self.weight = Parameter(array, requires_grad=requires_grad)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def _check_indices(self, input) -> None:
        idx = input.array if isinstance(input, Tensor) else np.asarray(input)
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise IndexError(
                f"{type(self).__name__}(num_embeddings={self.num_embeddings}): index {bad} is "
                f"out of range (input shape {tuple(idx.shape)})"
            )


class Embedding(_LookupTable):
    """out = weight[input]: maps integer indices to dense vectors.

    Args:
        num_embeddings: size of the table.
        embedding_dim: size of each vector.
        padding_idx: this row is initialised to zeros and gets no gradient.
        max_norm: looked-up rows with a larger ``norm_type``-norm are renormalised in place.
        scale_grad_by_freq: scale gradients by the inverse frequency of each index in the batch.
        sparse: accepted for compatibility; gradients are always dense.
        _weight: an initial weight to use instead of N(0, 1) draws.
        _freeze: create the weight with ``requires_grad=False``.

    Shape:
        ``(*)`` integer → ``(*, embedding_dim)``; ``weight``: ``(num_embeddings, embedding_dim)``
        ~ N(0, 1) (PyTorch's default).

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> nn.Embedding(10, 3)(deepnum.tensor([[1, 2], [4, 9]])).shape
        deepnum.Size([2, 2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight=None, _freeze: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = padding_idx % num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self._create_weight(_weight, dtype, requires_grad=not _freeze)

    def forward(self, input):
        self._check_indices(input)
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
        """An ``Embedding`` whose table is ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        array = embeddings.array if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=array, _freeze=freeze)
