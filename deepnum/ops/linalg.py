"""Matrix products: ``matmul`` with NumPy/PyTorch batching and broadcasting rules.

For ``X = A B`` the gradients are ``grad_A = G Bᵀ`` and ``grad_B = Aᵀ G`` (003 §2.1),
summed over broadcast batch dimensions.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops._util import as_tensor_arg, binary_operands, sum_to
from deepnum.tensor import Tensor


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        # treat vectors as matrices so that one formula serves every case
        a2 = a.reshape((1, -1)) if a_vec else a
        b2 = b.reshape((-1, 1)) if b_vec else b
        g = grad
        if a_vec and b_vec:
            g = grad.reshape((1, 1))
        elif a_vec:
            g = grad.reshape(grad.shape[:-1] + (1, grad.shape[-1]))
        elif b_vec:
            g = grad.reshape(grad.shape + (1,))
        if need_a:
            grad_a = g @ b2.swapaxes(-1, -2)  # G Bᵀ
            if grad_a.shape != a2.shape:
                grad_a = sum_to(grad_a, a2.shape)
            grad_a = grad_a.reshape(a.shape)
        if need_b:
            grad_b = a2.swapaxes(-1, -2) @ g  # Aᵀ G
            grad_b = sum_to(grad_b, b2.shape) if grad_b.shape != b2.shape else grad_b
            grad_b = grad_b.reshape(b.shape)
        return grad_a, grad_b


def _describe(a: Tensor, b: Tensor) -> str:
    return f"{tuple(a.shape)} @ {tuple(b.shape)}"


def matmul(input, other) -> Tensor:
    """Matrix product with broadcasting over batch dimensions (``torch.matmul``)."""
    a, b = binary_operands(as_tensor_arg(input), as_tensor_arg(other))
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got {_describe(a, b)}"
        )
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise RuntimeError(
            f"matmul: {_describe(a, b)}: inner dimensions {ka} and {kb} differ"
        )
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim > 1 else ())
        except ValueError:
            raise RuntimeError(
                f"matmul: {_describe(a, b)}: batch dimensions do not broadcast"
            ) from None
    return MatMul.apply(a, b)


def mm(input, mat2) -> Tensor:
    """Product of two matrices (2-D only)."""
    input, mat2 = as_tensor_arg(input), as_tensor_arg(mat2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected two 2-D tensors, got {_describe(input, mat2)}")
    return matmul(input, mat2)


def bmm(input, mat2) -> Tensor:
    """Batched product of (B, n, m) and (B, m, p) tensors."""
    input, mat2 = as_tensor_arg(input), as_tensor_arg(mat2)
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected two 3-D tensors, got {_describe(input, mat2)}")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(
            f"bmm: {_describe(input, mat2)}: batch sizes {input.shape[0]} and {mat2.shape[0]} "
            "differ"
        )
    return matmul(input, mat2)


def outer(input, vec2) -> Tensor:
    """Outer product ``out_ij = input_i * vec2_j`` of two vectors."""
    from deepnum.ops.elementwise import mul

    a, b = as_tensor_arg(input), as_tensor_arg(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(
            f"outer: expected two 1-D tensors, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return mul(a.reshape(-1, 1), b.reshape(1, -1))


ger = outer


def dot(input, other) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise RuntimeError(
            f"dot: expected two 1-D tensors of the same size, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    return matmul(a, b)


def mv(input, vec) -> Tensor:
    """Matrix-vector product of a (n, m) matrix and an (m,) vector."""
    a, b = as_tensor_arg(input), as_tensor_arg(vec)
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(
            f"mv: expected a 2-D and a 1-D tensor, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return matmul(a, b)


from deepnum.ops.einsum import einsum  # noqa: E402 - einsum builds on this module's helpers

# torch.linalg's functions: this module is also ``deepnum.linalg``
from deepnum.ops.linalg_functions import (  # noqa: E402
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    logdet,
    matrix_exp,
    matrix_norm,
    matrix_power,
    multi_dot,
    norm,
    qr,
    slogdet,
    solve,
    svdvals,
    vecdot,
    vector_norm,
)
from deepnum.ops.linalg_functions import linalg_cross as cross  # noqa: E402
from deepnum.ops.linalg_functions import linalg_diagonal as diagonal  # noqa: E402

inverse = inv

TENSOR_METHODS = {
    "matmul": matmul, "__matmul__": matmul, "__rmatmul__": lambda self, other: matmul(other, self),
    "mm": mm, "bmm": bmm, "outer": outer, "ger": outer, "dot": dot, "mv": mv,
    "inverse": inv, "det": det, "logdet": logdet, "slogdet": slogdet, "matrix_power": matrix_power,
    "matrix_exp": matrix_exp,
    "cholesky": cholesky,
}
UFUNCS = {"matmul": matmul}
