"""``Parameter``: a tensor that a ``Module`` registers as learnable."""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that modules list in ``parameters()``."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data.array
        else:
            array = np.asarray(data)
        Tensor.__init__(self, array, dtype=array.dtype)
        self.array = array
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self.detach()).replace("tensor(", "tensor(", 1)[:-1] + ", requires_grad=True)"


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a module (PyTorch's ``nn.Buffer``)."""

    __slots__ = ("persistent",)

    def __init__(self, data, persistent: bool = True) -> None:
        array = data.array if isinstance(data, Tensor) else np.asarray(data)
        Tensor.__init__(self, array, dtype=array.dtype)
        self.array = array
        self.persistent = persistent
