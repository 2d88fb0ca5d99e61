"""Embedding lookup: row ``i`` of a weight matrix for every index ``i`` (one-hot times W, done as indexing)."""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.autograd.grad_mode import no_grad
from deepnum.ops._util import as_tensor_arg
from deepnum.ops.index import IndexAddInto
from deepnum.tensor import Tensor

__all__ = ["embedding", "one_hot"]


class Embedding(Function):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.indices, ctx.w_shape = indices, weight.shape
        ctx.keep = None
        if padding_idx is not None:
            ctx.keep = (indices != padding_idx)[..., None].astype(weight.dtype)
        ctx.freq = None
        if scale_grad_by_freq:
            counts = np.bincount(indices.ravel(), minlength=weight.shape[0])
            ctx.freq = (1.0 / np.maximum(counts[indices], 1))[..., None].astype(weight.dtype)
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        if ctx.keep is not None:
            grad = grad * ctx.keep  # the padding row receives no gradient
        if ctx.freq is not None:
            grad = grad * ctx.freq
        # dL/dW[i] = Σ of the output gradients at every position that looked up row i
        return IndexAddInto.apply(grad, ctx.w_shape, ctx.indices), None, None, None


def _renorm_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the looked-up rows whose norm exceeds ``max_norm`` (as PyTorch)."""
    rows = np.unique(indices)
    w = weight.array
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    with no_grad():
        w[rows] = (w[rows] * scale[:, None]).astype(w.dtype)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """out[..., :] = weight[input[...], :].

    Args:
        input: integer indices of any shape, each in ``[0, num_embeddings)``.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: the row at this index gets no gradient.
        max_norm: rows looked up with a larger ``norm_type``-norm are rescaled in place to it.
        scale_grad_by_freq: divide each row's gradient by its count in the batch.

    Shape:
        ``(*)`` → ``(*, embedding_dim)``.
    """
    idx = input.array if isinstance(input, Tensor) else np.asarray(input)
    w = as_tensor_arg(weight)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected integer indices, got dtype {idx.dtype}")
    if w.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D, got shape {tuple(w.shape)}")
    n = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        _renorm_rows(w, idx, max_norm, norm_type)
    return Embedding.apply(w, idx, padding_idx, scale_grad_by_freq)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices → int64 one-hot vectors along a new last dim."""
    idx = tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of integer dtype")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got {idx.min()}..{idx.max()}")
    return Tensor._make((idx[..., None] == np.arange(num_classes)).astype(np.int64), False, None, 0)
