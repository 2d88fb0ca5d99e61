"""Joining and splitting tensors: cat, stack, split, chunk, repeat (and their h/v forms).

``cat``'s gradient hands each input the slice of the incoming gradient it produced; the
pieces of ``split`` are slices, whose gradients add back into one tensor.
"""

from __future__ import annotations

import numpy as np

from deepnum import _dtype
from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, cast, normalize_dim
from deepnum.ops.index import GetItem
from deepnum.ops.shape import expand, reshape, unsqueeze
from deepnum.tensor import Tensor


class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        b = ctx.bounds
        return (None,) + tuple(
            GetItem.apply(grad, lead + (slice(int(b[i]), int(b[i + 1])),)) if need else None
            for i, need in enumerate(ctx.needs_input_grad[1:])
        )


def _common_dtype(tensors):
    dt = tensors[0].dtype
    nd = tensors[0].ndim
    for t in tensors[1:]:
        dt = _dtype.promote(dt, max(nd, 1), t.dtype, max(t.ndim, 1))
    return dt


def cat(tensors, dim: int = 0, *, axis=None) -> Tensor:
    """Concatenate tensors along an existing ``dim`` (1-D empty tensors are skipped, as PyTorch).

    Examples:
        >>> deepnum.cat([deepnum.zeros(1, 2), deepnum.ones(1, 2)]).shape
        deepnum.Size([2, 2])
    """
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("cat(): expected a non-empty list of Tensors")
    dim = dim if axis is None else axis
    ts = [as_tensor_arg(t) for t in tensors]
    dt = _common_dtype(ts)
    numbered = [(i, t) for i, t in enumerate(ts) if not (t.ndim == 1 and t.shape[0] == 0)]
    numbered = numbered or [(0, ts[0])]
    ref = numbered[0][1]
    if ref.ndim == 0:
        raise RuntimeError("cat(): zero-dimensional tensor (at position 0) cannot be concatenated")
    axis = normalize_dim(dim, ref.ndim, "cat")
    for i, t in numbered:
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"cat(): Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim} "
                f"(shapes {tuple(ref.shape)} and {tuple(t.shape)})"
            )
        for d in range(ref.ndim):
            if d != axis and t.shape[d] != ref.shape[d]:
                raise RuntimeError(
                    f"cat(): Sizes of tensors must match except in dimension {axis}. "
                    "Expected size "
                    f"{ref.shape[d]} but got size {t.shape[d]} for tensor number {i} in the list "
                    f"(shapes {tuple(ref.shape)} and {tuple(t.shape)})"
                )
    kept = [cast(t, dt) for _, t in numbered]
    if len(kept) == 1:
        from deepnum.ops.conversion import clone

        return clone(kept[0])
    return Cat.apply(axis, *kept)


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, axis=None) -> Tensor:
    """Join equally-shaped tensors along a new dimension ``dim``."""
    dim = dim if axis is None else axis
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("stack(): expected a non-empty list of Tensors")
    ts = [as_tensor_arg(t) for t in tensors]
    for i, t in enumerate(ts[1:], 1):
        if t.shape != ts[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ts[0].shape)} at "
                f"entry 0 and {list(t.shape)} at entry {i}"
            )
    d = normalize_dim(dim, ts[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in ts], d)


def hstack(tensors) -> Tensor:
    ts = [as_tensor_arg(t) for t in tensors]
    return cat(ts, 0 if all(t.ndim <= 1 for t in ts) else 1)


def vstack(tensors) -> Tensor:
    return cat([reshape(t, 1, -1) if t.ndim < 2 else t for t in map(as_tensor_arg, tensors)], 0)


def split(tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes.

    Examples:
        >>> [t.shape[0] for t in deepnum.split(deepnum.zeros(5), 2)]
        [2, 2, 1]
    """
    x = as_tensor_arg(tensor)
    axis = normalize_dim(dim, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={size}"
            )
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
        if not sizes:
            sizes = [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {axis}), but got split_sizes={sizes}"
            )
    lead = (slice(None),) * axis
    starts = np.cumsum([0] + sizes)
    bounds = zip(starts[:-1].tolist(), starts[1:].tolist())
    return tuple(GetItem.apply(x, lead + (slice(a, b),)) for a, b in bounds)


def chunk(input, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of size ``ceil(n / chunks)`` along ``dim`` (maybe fewer)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    x = as_tensor_arg(input)
    n = x.shape[normalize_dim(dim, x.ndim, "chunk")]
    if n == 0:
        return tuple(split(x, [0] * chunks, dim))
    return split(x, -(-n // chunks), dim)


def tensor_split(input, indices_or_sections, dim: int = 0) -> tuple:
    """Split at the given indices, or into ``sections`` nearly equal parts (``np.array_split``)."""
    x = as_tensor_arg(input)
    n = x.shape[normalize_dim(dim, x.ndim, "tensor_split")]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
    else:
        cuts = [0] + [min(max(int(i), 0), n) for i in indices_or_sections] + [n]
        sizes = [max(b - a, 0) for a, b in zip(cuts[:-1], cuts[1:])]
    return split(x, sizes, dim)


def unbind(input, dim: int = 0) -> tuple:
    """The slices along ``dim``, with that dimension removed."""
    x = as_tensor_arg(input)
    axis = normalize_dim(dim, x.ndim, "unbind")
    lead = (slice(None),) * axis
    return tuple(GetItem.apply(x, lead + (i,)) for i in range(x.shape[axis]))


def repeat(input, *sizes) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along dimension i (``np.tile``)."""
    x = as_tensor_arg(input)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"Number of dimensions of repeat dims can not be smaller than number of dimensions of "
            f"tensor (repeat dims {list(sizes)}, tensor shape {list(x.shape)})"
        )
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    # (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...), then merged pairwise
    paired = tuple(v for s in shape for v in (1, s))
    target = tuple(v for r, s in zip(sizes, shape) for v in (r, s))
    tiled = expand(reshape(x, paired), target)
    return reshape(tiled, tuple(r * s for r, s in zip(sizes, shape)))


def repeat_interleave(input, repeats: int, dim=None) -> Tensor:
    """Each element repeated ``repeats`` times along ``dim`` (the flattened tensor when None)."""
    x = as_tensor_arg(input)
    if dim is None:
        x, dim = reshape(x, -1), 0
    axis = normalize_dim(dim, x.ndim, "repeat_interleave")
    shape = tuple(x.shape)
    y = expand(unsqueeze(x, axis + 1), shape[: axis + 1] + (int(repeats),) + shape[axis + 1:])
    return reshape(y, shape[:axis] + (shape[axis] * int(repeats),) + shape[axis + 1:])


TENSOR_METHODS = {
    "split": split, "chunk": chunk, "tensor_split": tensor_split, "unbind": unbind,
    "repeat": repeat, "repeat_interleave": repeat_interleave,
}
