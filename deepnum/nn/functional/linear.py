"""Affine maps: ``linear`` (y = x Wᵀ + b, 000 §5) and ``bilinear`` (y = x₁ᵀ A x₂ + b).

``linear`` is the hottest op of most networks, so it is one fused ``Function``: one graph node
for the matrix product and the bias, both gradients from one backward (003 §2.1: for
``X = A B``, grad_A = G Bᵀ and grad_B = Aᵀ G).
"""

from __future__ import annotations

import math

import numpy as np

from deepnum._blas_threads import small_product
from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Tensor

__all__ = ["linear", "bilinear", "identity"]


class Linear(Function):
    """y = x Wᵀ + b over the last dimension of ``x``; ``x`` may have any leading dimensions."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        # one BLAS thread if the product is small and the machine busy (deepnum._blas_threads)
        # (*, in) as one (n, in) matrix: one GEMM, not one small product per leading index
        x2 = x.reshape((-1, x.shape[-1])) if x.ndim != 2 else x
        with small_product(2.0 * math.prod(x.shape) * weight.shape[0]):
            out = np.matmul(x2, weight.T).reshape(x.shape[:-1] + (weight.shape[0],))
        if bias is not None:
            out += bias  # in place: ``out`` is a fresh array
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        out_features, in_features = weight.shape
        grad_x = grad_w = grad_b = None
        g2 = grad.reshape((-1, out_features)) if grad.ndim != 2 else grad
        with small_product(2.0 * math.prod(x.shape) * out_features):
            if need_x:
                grad_x = (g2 @ weight).reshape(x.shape)  # dL/dx = G W
            if need_w or need_b:
                if need_w:
                    x2 = x.reshape((-1, in_features)) if x.ndim != 2 else x
                    grad_w = g2.T @ x2  # dL/dW = Gᵀ X, summed over every leading dimension
                if need_b:
                    grad_b = g2.sum(axis=0)  # dL/db = Σ_n G_n
        return grad_x, grad_w, grad_b


def _check_linear(x: Tensor, weight: Tensor, bias, op: str) -> None:
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"{op}(in_features={weight.shape[1]}): input has "
            f"{x.shape[-1] if x.ndim else 0} features (shape {tuple(x.shape)})"
        )
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(
            f"{op}: input, weight and bias must have the same dtype, got input {x.dtype}, "
            f"weight {weight.dtype}" + (f", bias {bias.dtype}" if bias is not None else "")
        )
    if bias is not None and tuple(bias.shape) not in ((weight.shape[0],), ()):
        raise RuntimeError(f"{op}: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")


def linear(input, weight, bias=None) -> Tensor:
    """Affine map y = x Wᵀ + b (000 §5: z = W a + b, written for row-vector batches).

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    Returns:
        ``(*, out_features)``.

    Examples:
        >>> import deepnum
        >>> import deepnum.nn.functional as F
        >>> F.linear(deepnum.ones(2, 3), deepnum.ones(4, 3), deepnum.zeros(4)).shape
        deepnum.Size([2, 4])
    """
    x, w = as_tensor_arg(input), as_tensor_arg(weight)
    b = as_tensor_arg(bias) if bias is not None else None
    _check_linear(x, w, b, "linear")
    return Linear.apply(x, w, b)


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """y_k = x₁ᵀ A_k x₂ + b_k for every output feature k.

    Args:
        input1: ``(*, in1_features)``; input2: ``(*, in2_features)`` (same leading dims).
        weight: ``(out_features, in1_features, in2_features)``; bias: ``(out_features,)``.
    """
    x1, x2, w = as_tensor_arg(input1), as_tensor_arg(input2), as_tensor_arg(weight)
    if w.ndim != 3 or x1.shape[-1] != w.shape[1] or x2.shape[-1] != w.shape[2]:
        raise RuntimeError(
            f"bilinear: expected input1 (*, {w.shape[1] if w.ndim == 3 else '?'}), input2 "
            f"(*, {w.shape[2] if w.ndim == 3 else '?'}) for weight {tuple(w.shape)}, got "
            f"{tuple(x1.shape)} and {tuple(x2.shape)}"
        )
    if x1.shape[:-1] != x2.shape[:-1]:
        raise RuntimeError(
            f"bilinear: input1 and input2 must have the same leading dimensions, got "
            f"{tuple(x1.shape)} and {tuple(x2.shape)}"
        )
    lead = tuple(x1.shape[:-1])
    a = x1.reshape(-1, x1.shape[-1])
    c = x2.reshape(-1, x2.shape[-1])
    # (x1 A_k) . x2 as one matrix product: x1 @ A reshaped to (in1, out*in2)
    t = linear(a, w.permute(0, 2, 1).reshape(-1, w.shape[1]))  # (n, out*in2)
    y = (t.reshape(-1, w.shape[0], w.shape[2]) * c.reshape(-1, 1, w.shape[2])).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (w.shape[0],))


def identity(input) -> Tensor:
    """The input itself."""
    return input
