"""Copies, dtype conversions and device no-ops (``to``, ``float``, ``clone``, ``cpu``...)."""

from __future__ import annotations

import numpy as np

from deepnum import _dtype
from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, cast
from deepnum.tensor import Tensor


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(input) -> Tensor:
    """A copy with its own memory; gradients flow back to ``input``."""
    return Clone.apply(as_tensor_arg(input))


def _parse_to(args, kwargs):
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or type(a).__name__ == "device":
            device = a
        elif a is not None:
            dtype = a
    return dtype, device


def to(self, *args, **kwargs) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(other)``; devices other than the CPU raise."""
    dtype, device = _parse_to(args, kwargs)
    if device is not None:
        from deepnum.device import device as make_device

        make_device(device)  # validates: only 'cpu' exists
    if dtype is None:
        return self
    out = cast(self, _dtype.to_dtype(dtype))
    if kwargs.get("copy") and out is self:
        out = clone(self)
    return out


def _as(dtype):
    return lambda self, memory_format=None: cast(self, dtype)


def type_(self, dtype=None, **kwargs):
    if dtype is None:
        names = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
                 "int32": "IntTensor", "bool": "BoolTensor", "uint8": "ByteTensor"}
        return "deepnum." + names.get(str(self.dtype), str(self.dtype))
    if isinstance(dtype, str) and dtype.endswith("Tensor"):  # x.type('torch.LongTensor')
        from deepnum.compat import tensor_type_dtype

        named = tensor_type_dtype(dtype)
        if named is None:
            raise TypeError(f"type(): unknown tensor type {dtype!r}; use a dtype such as deepnum.float32")
        dtype = named
    return cast(self, _dtype.to_dtype(dtype))


def _new_filled(fill):
    def new(self, *size, dtype=None, device=None, requires_grad=False):
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = size[0]
        t = Tensor._make(fill(tuple(size), _dtype.to_dtype(dtype) or self.dtype), False, None, 0)
        return t.requires_grad_() if requires_grad else t

    return new


def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
    from deepnum.ops.creation import tensor

    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    t = Tensor._make(np.full(tuple(size), fill_value, dtype=_dtype.to_dtype(dtype) or self.dtype), False, None, 0)
    return t.requires_grad_() if requires_grad else t


def _same(self, *args, **kwargs):
    return self


def contiguous(self, memory_format=None) -> Tensor:
    """``self`` if its values are laid out row-major already, else a row-major copy."""
    return self if self.array.flags.c_contiguous else clone(self)


TENSOR_METHODS = {
    "clone": lambda self, memory_format=None: clone(self), "to": to,
    "float": _as(_dtype.float32), "double": _as(_dtype.float64), "long": _as(_dtype.int64),
    "int": _as(_dtype.int32), "bool": _as(_dtype.bool), "half": _as(_dtype.float16),
    "byte": _as(_dtype.uint8), "type": type_, "type_as": lambda self, other: cast(self, other.dtype),
    "cpu": _same, "contiguous": contiguous, "pin_memory": _same,
    "new_zeros": _new_filled(np.zeros), "new_ones": _new_filled(np.ones),
    "new_empty": _new_filled(np.empty), "new_tensor": new_tensor, "new_full": new_full,
}
