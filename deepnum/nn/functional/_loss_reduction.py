"""What every loss shares: the ``reduction`` argument, argument checks and target handling.

A loss first computes one value per element (or per sample) and then reduces them:
``'none'`` keeps them, ``'sum'`` adds them, ``'mean'`` averages them, the cost
J = (1/m) Σ L(y, ỹ) of 000 Def. 2.
"""

from __future__ import annotations

import numpy as np

from deepnum import _dtype
from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` / ``reduce`` flags mapped onto ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def check_reduction(op: str, reduction: str, allowed: tuple = _REDUCTIONS) -> str:
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: reduction must be one of {choices}, got {reduction!r}")
    return reduction


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """Apply ``reduction`` to a tensor of per-element losses."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def as_float_tensor(x, op: str, name: str) -> Tensor:
    """A floating tensor for a loss argument (arrays and numbers are accepted as constants)."""
    x = as_tensor_arg(x)
    if x.array.dtype.kind not in "fc":
        x = Tensor._make(x.array.astype(_dtype.get_default_dtype()), False, None, 0)
    return x


def check_same_shape(op: str, input: Tensor, target: Tensor) -> None:
    """Losses compare input and target element by element: their shapes must agree.

    PyTorch only warns and broadcasts here, which silently turns an (N, 1) prediction and
    an (N,) target into an (N, N) loss; deepnum refuses.
    """
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{op}: input and target must have the same shape, got input {tuple(input.shape)} "
            f"and target {tuple(target.shape)}"
        )


def weighted_mean(loss: Tensor, weight: Tensor, op: str, input: Tensor, reduction: str) -> Tensor:
    """PyTorch's ``weight`` of mse_loss / l1_loss: per-element, mean divides by Σ weight."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(
            f"{op}: weight must have the input's shape {tuple(input.shape)}, got "
            f"{tuple(weight.shape)}"
        )
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return reduce_loss(loss, reduction)


def shape_str(x) -> str:
    return str(tuple(np.shape(x.array if isinstance(x, Tensor) else x)))
