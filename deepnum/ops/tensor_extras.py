"""Tensor methods and functions that PyTorch programs use beyond the core ops.

Shape-changing in-place views (``t_``, ``squeeze_``, ``unsqueeze_``), ``fill_diagonal_``,
the legacy constructor ``x.new(...)``, ``is_contiguous``, ``x.multinomial`` and
``deepnum.numel / is_tensor / is_floating_point``; and ``x.cuda()``, which explains that
deepnum computes on the CPU.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.grad_mode import _GradMode
from deepnum.tensor import Tensor


def is_tensor(obj) -> bool:
    """True if ``obj`` is a deepnum tensor (``torch.is_tensor``)."""
    return isinstance(obj, Tensor)


def numel(input) -> int:
    """Number of elements of ``input`` (``torch.numel``)."""
    return input.numel()


def is_floating_point(input) -> bool:
    """True if ``input`` has a floating dtype (``torch.is_floating_point``)."""
    return input.dtype.kind == "f"


def _rebind_view(self: Tensor, op_name: str, compute) -> Tensor:
    """Make ``self`` the view ``compute(self)``: the tensor object itself changes shape."""
    if _GradMode.enabled and self.requires_grad and self.grad_fn is None:
        raise RuntimeError(
            f"{op_name}: a leaf tensor that requires grad is being used in an in-place "
            "operation; wrap it in deepnum.no_grad() or use the out-of-place op"
        )
    result = compute(self)
    self.array = result.array
    if _GradMode.enabled and self.requires_grad:
        self.grad_fn, self.output_nr = result.grad_fn, result.output_nr
    return self


def _t_(self) -> Tensor:
    """In-place ``t()``: this tensor becomes its transpose (at most 2-D)."""
    from deepnum.ops.shape import t

    return _rebind_view(self, "t_", t)


def _squeeze_(self, dim=None) -> Tensor:
    """In-place ``squeeze(dim)``."""
    from deepnum.ops.shape import squeeze

    return _rebind_view(self, "squeeze_", lambda s: squeeze(s, dim))


def _unsqueeze_(self, dim: int) -> Tensor:
    """In-place ``unsqueeze(dim)``."""
    from deepnum.ops.shape import unsqueeze

    return _rebind_view(self, "unsqueeze_", lambda s: unsqueeze(s, dim))


def _fill_diagonal_(self, fill_value, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal (all dimensions equal when ndim > 2).

    ``wrap=True`` restarts the diagonal after every ``ncols + 1`` rows of a tall matrix,
    as ``torch.Tensor.fill_diagonal_``.
    """
    from deepnum.ops.inplace import apply_inplace
    from deepnum.ops.elementwise import where

    if self.ndim < 2:
        raise RuntimeError(
            f"fill_diagonal_: dimensions must larger than 1 (got a {self.ndim}-d tensor)"
        )
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError(
            f"fill_diagonal_: all dimensions of input must be of equal length (got shape {tuple(self.shape)})"
        )
    mask = np.zeros(self.shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    value = np.asarray(fill_value, dtype=self.dtype)
    return apply_inplace(
        self,
        "fill_diagonal_",
        lambda s: where(
            Tensor._make(mask, False, None, 0), Tensor._make(value, False, None, 0), s
        ),
    )


def _is_contiguous(self, memory_format=None) -> bool:
    """Whether the values are laid out in row-major order without gaps."""
    return bool(self.array.flags.c_contiguous)


def _new(self, *args, **kwargs) -> Tensor:
    """Legacy ``x.new(sizes...)`` (uninitialised; here zeros) or ``x.new(data)``, with ``x``'s dtype."""
    from deepnum.ops.creation import tensor

    if len(args) == 1 and not isinstance(args[0], int):
        return tensor(args[0], dtype=self.dtype)
    if not all(isinstance(a, (int, np.integer)) for a in args):
        raise TypeError(f"new(): expected sizes (ints) or one sequence of data, got {args!r}")
    return Tensor._make(np.zeros(tuple(int(a) for a in args), dtype=self.dtype), False, None, 0)


def _multinomial_method(
    self, num_samples: int, replacement: bool = False, *, generator=None
) -> Tensor:
    from deepnum.ops.creation import multinomial

    return multinomial(self, num_samples, replacement, generator=generator)


def _cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    """Always raises: deepnum has no GPU; the message says how to write device-agnostic code."""
    raise RuntimeError(
        f"Tensor.cuda(): deepnum runs on the CPU only, so this tensor (shape {tuple(self.shape)}) "
        "cannot be moved to a CUDA device; write device = deepnum.device('cuda' if "
        "deepnum.cuda.is_available() else 'cpu') and use x.to(device), or x.cpu()"
    )


def masked_scatter(input, mask, source) -> Tensor:
    """``input`` with the positions where ``mask`` (broadcast) is True filled, in row-major
    order, by the first elements of ``source``; differentiable in ``input`` and ``source``."""
    from deepnum.ops._util import as_tensor_arg, cast
    from deepnum.ops.index_put import IndexPut

    x, src = as_tensor_arg(input), as_tensor_arg(source)
    m = np.broadcast_to(
        np.asarray(mask.array if isinstance(mask, Tensor) else mask, dtype=bool), x.shape
    )
    positions = np.nonzero(m)
    count = positions[0].size if positions else 0
    if count > src.numel():
        raise RuntimeError(
            f"masked_scatter: the mask selects {count} elements but source has only {src.numel()}"
        )
    values = cast(src.reshape(-1)[:count], x.dtype)
    return IndexPut.apply(x, values, positions, False)


def _masked_scatter_(self, mask, source) -> Tensor:
    from deepnum.ops.inplace import apply_inplace

    return apply_inplace(self, "masked_scatter_", lambda s, v: masked_scatter(s, mask, v), source)


def _index_copy_(self, dim: int, index, source) -> Tensor:
    from deepnum.ops import index_copy
    from deepnum.ops.inplace import apply_inplace

    return apply_inplace(self, "index_copy_", lambda s, v: index_copy(s, dim, index, v), source)


def _apply_(self, callable) -> Tensor:
    """Replace every element by ``callable(element)`` (a Python loop; not differentiable)."""
    if _GradMode.enabled and self.requires_grad:
        raise RuntimeError(
            "apply_: the tensor requires grad; apply_ is not differentiable (use deepnum.no_grad())"
        )
    flat = self.array.reshape(-1)
    flat[...] = [callable(v) for v in flat.tolist()]
    if not np.shares_memory(flat, self.array):
        self.array[...] = flat.reshape(self.array.shape)
    return self


def _data_ptr(self) -> int:
    """Address of the first element (equal for tensors sharing memory at the same offset)."""
    return int(self.array.__array_interface__["data"][0])


def _share_memory_(self) -> Tensor:
    """Nothing to do: deepnum loads data in-process, so there is no other process to share with."""
    return self


__all__ = ["is_tensor", "numel", "is_floating_point", "masked_scatter"]

TENSOR_METHODS = {
    "t_": _t_,
    "squeeze_": _squeeze_,
    "unsqueeze_": _unsqueeze_,
    "fill_diagonal_": _fill_diagonal_,
    "is_contiguous": _is_contiguous,
    "new": _new,
    "multinomial": _multinomial_method,
    "cuda": _cuda,
    "masked_scatter": masked_scatter,
    "masked_scatter_": _masked_scatter_,
    "index_copy_": _index_copy_,
    "apply_": _apply_,
    "data_ptr": _data_ptr,
    "share_memory_": _share_memory_,
    "is_shared": lambda self: False,
}
