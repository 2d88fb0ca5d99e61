"""deepnum: a deep-learning framework on NumPy with PyTorch's API.

    >>> import deepnum as torch
    >>> x = torch.ones(2, 3, requires_grad=True)
    >>> (x * 2).sum().backward()
    >>> x.grad
    tensor([[2., 2., 2.],
            [2., 2., 2.]])
"""

from __future__ import annotations

from deepnum._allocator import tune_malloc as _tune_malloc

_tune_malloc()  # reuse freed heap blocks instead of fresh mmap pages every step (see _allocator)
from deepnum._dtype import (
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from deepnum.tensor import Size, Tensor
from deepnum import autograd
from deepnum.autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from deepnum import ops
from deepnum.ops import *  # noqa: F401,F403 - the op functions: deepnum.exp, deepnum.matmul, ...
from deepnum.ops.creation import Generator, default_generator
from deepnum.device import device
from deepnum import serialization
from deepnum.io import load, save
from deepnum import nn
from deepnum import data, utils  # torch.utils.data as deepnum.data and deepnum.utils.data
from deepnum import optim
from deepnum import accelerator, cuda, distributions, onnx
from deepnum import amp, backends, jit, testing
from deepnum.amp import autocast
from deepnum import _random_api as random
from deepnum.compat import *  # noqa: F401,F403 - FloatTensor, pi, finfo, compile, ...

__version__ = "0.1.0"

import sys as _sys

_sys.modules.setdefault("deepnum.random", random)  # so that `import deepnum.random` works too
