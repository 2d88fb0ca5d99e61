"""Dense layers (000 §5: z = W a + b) and shape helpers: Linear, Bilinear, Identity, Flatten,
Unflatten, and maxout units (003 §1.2)."""

from __future__ import annotations

import math

import numpy as np

from deepnum import _dtype
from deepnum.nn import functional as F
from deepnum.nn import init
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten", "Maxout"]


def _empty(*shape, dtype=None) -> Parameter:
    return Parameter(np.empty(shape, dtype=_dtype.to_dtype(dtype) if dtype else _dtype.get_default_dtype()))


class Identity(Module):
    """y = x; any constructor arguments are ignored (a placeholder that keeps layer indices)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x Wᵀ + b (000 §5).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).

    Shape:
        input ``(*, in_features)`` → output ``(*, out_features)``.
        ``weight``: ``(out_features, in_features)``, ``bias``: ``(out_features,)``, both
        U(-1/√in_features, 1/√in_features) (PyTorch's default; 003 §2.4's U(±n^-0.5)).

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> nn.Linear(20, 30)(deepnum.randn(128, 20)).shape
        deepnum.Size([128, 30])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty(out_features, in_features, dtype=dtype)
        if bias:
            self.bias = _empty(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=√5) is U(±1/√fan_in): PyTorch's default, kept for identical draws' law
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"Linear(in_features={self.in_features}): input has "
                f"{input.shape[-1] if input.ndim else 0} features (shape {tuple(input.shape)})"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y_k = x₁ᵀ A_k x₂ + b_k.

    Shape:
        ``(*, in1_features)``, ``(*, in2_features)`` → ``(*, out_features)``.
        ``weight``: ``(out_features, in1_features, in2_features)``, ``bias``: ``(out_features,)``,
        both U(-1/√in1_features, 1/√in1_features).
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = _empty(out_features, in1_features, in2_features, dtype=dtype)
        if bias:
            self.bias = _empty(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` into one: ``(N, C, H, W)`` → ``(N, C·H·W)`` by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dim ``dim`` into ``unflattened_size``: ``(N, 12)`` → ``(N, 3, 4)``."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        d = self.dim % input.ndim if input.ndim else 0
        sizes = list(self.unflattened_size)
        known = int(np.prod([s for s in sizes if s != -1]))
        if sizes.count(-1) > 1 or (-1 not in sizes and known != input.shape[d]) or (
            -1 in sizes and (known == 0 or input.shape[d] % known)
        ):
            raise RuntimeError(
                f"Unflatten(dim={self.dim}, unflattened_size={self.unflattened_size}): cannot "
                f"unflatten dimension of size {input.shape[d]} (input shape {tuple(input.shape)})"
            )
        return input.reshape(tuple(input.shape[:d]) + tuple(sizes) + tuple(input.shape[d + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Maxout(Module):
    """Maxout units: yⱼ = maxₖ (w_{jk}ᵀ x + b_{jk}), k = 1..pieces (003 §1.2).

    A linear layer with ``out_features · pieces`` outputs followed by ``F.maxout``: unit j
    takes the maximum of its ``pieces`` affine pieces, a learned convex piecewise-linear
    activation. The gradient reaches only the winning piece.

    Args:
        in_features, out_features: as ``Linear``.
        pieces: number of affine pieces per unit (003 shows 2).

    Shape:
        ``(*, in_features)`` → ``(*, out_features)``; ``weight``: ``(out_features·pieces,
        in_features)`` and ``bias``: ``(out_features·pieces,)``, initialised as ``Linear``'s;
        rows ``j·pieces ... j·pieces + pieces - 1`` belong to unit j.

    References:
        003 §1.2; Goodfellow et al., "Maxout Networks", ICML 2013, arXiv:1302.4389.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int = 2, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be a positive integer, got {pieces}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.weight = _empty(out_features * pieces, in_features, dtype=dtype)
        if bias:
            self.bias = _empty(out_features * pieces, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    reset_parameters = Linear.reset_parameters

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"Maxout(in_features={self.in_features}): input has "
                f"{input.shape[-1] if input.ndim else 0} features (shape {tuple(input.shape)})"
            )
        return F.maxout(F.linear(input, self.weight, self.bias), self.pieces)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}, bias={self.bias is not None}")
