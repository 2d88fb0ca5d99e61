"""Activations of the notes that PyTorch lacks: maxout units (003 §1.2), the Heaviside step
(003 §1.2), and the sigmoid and tanh with a slope α (002)."""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import normalize_dim
from deepnum.ops.elementwise import Sigmoid, _float_input
from deepnum.tensor import Tensor

__all__ = ["maxout", "step", "scaled_sigmoid", "scaled_tanh"]


class Maxout(Function):
    @staticmethod
    def forward(ctx, x, pieces):
        groups = x.reshape(x.shape[:-1] + (x.shape[-1] // pieces, pieces))
        idx = groups.argmax(axis=-1)
        ctx.onehot = (np.arange(pieces) == idx[..., None]).astype(x.dtype)  # ties: first piece
        ctx.in_shape = x.shape
        return np.take_along_axis(groups, idx[..., None], axis=-1)[..., 0]

    @staticmethod
    def backward(ctx, grad):
        # the gradient flows only to the winning piece of each unit
        g = grad.reshape(tuple(grad.shape) + (1,)) * ctx.onehot
        return g.reshape(ctx.in_shape), None


def maxout(input, pieces: int, dim: int = -1) -> Tensor:
    """maxₖ zⱼₖ over groups of ``pieces`` consecutive features along ``dim`` (003 §1.2).

    With z = Wx + b from a linear layer of ``out_features · pieces`` outputs this is the maxout
    unit max(w₁ᵀx + b₁, w₂ᵀx + b₂, ...) of Goodfellow et al. (2013). Unit j takes features
    ``j·pieces ... j·pieces + pieces - 1``.

    Shape:
        input ``(*, C·pieces, *)`` → output ``(*, C, *)`` (``dim`` shrinks by ``pieces``).
    """
    x = _float_input(input)
    if pieces < 1:
        raise ValueError(f"maxout: pieces must be a positive integer, got {pieces}")
    d = normalize_dim(dim, x.ndim, "maxout")
    if x.ndim == 0 or x.shape[d] % pieces:
        raise RuntimeError(
            f"maxout(pieces={pieces}): dimension {dim} of the input has size "
            f"{x.shape[d] if x.ndim else 0}, not a multiple of {pieces} (shape {tuple(x.shape)})"
        )
    if d == x.ndim - 1:
        return Maxout.apply(x, pieces)
    return Maxout.apply(x.transpose(d, -1), pieces).transpose(d, -1)


class Step(Function):
    @staticmethod
    def forward(ctx, x, a):
        return np.where(x >= 0, np.asarray(a, x.dtype), np.asarray(0, x.dtype))

    @staticmethod
    def backward(ctx, grad):
        return grad * 0, None  # flat on both sides; the jump at 0 has no derivative


def step(input, a: float = 1.0) -> Tensor:
    """Heaviside step f(z) = a for z ≥ 0, 0 for z < 0 (003 §1.2).

    Its derivative is zero wherever it exists, so the gradient that flows back through a step
    is zero: gradient descent cannot train the layers beneath it (the universal-approximation
    demo of 004 Thm. 6.6 builds the network by hand instead).
    """
    return Step.apply(_float_input(input), a)


class ScaledSigmoid(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        y = Sigmoid.forward(ctx, x * np.asarray(alpha, x.dtype))
        ctx.alpha = alpha
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * ctx.alpha * y * (1 - y), None  # f'(x) = α σ(αx)(1 - σ(αx))  (002)


def scaled_sigmoid(input, alpha: float = 1.0) -> Tensor:
    """σ(αx) = 1 / (1 + e^{-αx}): the sigmoid with slope α of 002; α = 1 is ``sigmoid``."""
    return ScaledSigmoid.apply(_float_input(input), alpha)


class ScaledTanh(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        y = np.tanh(x * np.asarray(alpha, x.dtype))
        ctx.alpha = alpha
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * ctx.alpha * (1 - y * y), None  # f'(x) = α (1 - tanh²(αx))  (002)


def scaled_tanh(input, alpha: float = 1.0) -> Tensor:
    """tanh(αx): the tanh with slope α of 002; α = 1 is ``tanh``."""
    return ScaledTanh.apply(_float_input(input), alpha)
