"""``instance_norm``: normalise every channel of every sample over its own positions.

y[n, c] = (x[n, c] − mean(x[n, c])) / sqrt(var(x[n, c]) + eps) · γ[c] + β[c], the biased
variance over the spatial positions; this is ``group_norm`` with one group per channel. With
running statistics (``use_input_stats=False``) it uses them instead, as ``batch_norm`` in eval.

References:
    Ulyanov, Vedaldi & Lempitsky, "Instance Normalization: The Missing Ingredient for Fast
    Stylization", arXiv:1607.08022.
"""

from __future__ import annotations

import numpy as np

from deepnum.nn.functional.normalization import batch_norm, group_norm
from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Tensor

__all__ = ["instance_norm"]


def instance_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalisation of ``(N, C, *spatial)`` input (see the module docstring).

    When ``use_input_stats`` and running buffers are given, the buffers are updated in place
    with the batch mean of the per-instance means and (unbiased) variances, as PyTorch does.
    """
    x = as_tensor_arg(input)
    if x.ndim < 3:
        raise ValueError(
            f"instance_norm: expected input of shape (N, C, *spatial) with at least one spatial dim, got {tuple(x.shape)}"
        )
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: use_input_stats=False needs running_mean and running_var"
            )
        return batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=eps)
    if running_mean is not None and running_var is not None:
        flat = x.array.reshape(x.shape[0], x.shape[1], -1).astype(np.float64)
        count = flat.shape[-1]
        mean = flat.mean(-1).mean(0)
        var = flat.var(-1, ddof=1 if count > 1 else 0).mean(0)
        rm, rv = running_mean.array, running_var.array
        rm *= 1 - momentum
        rm += (momentum * mean).astype(rm.dtype)
        rv *= 1 - momentum
        rv += (momentum * var).astype(rv.dtype)
    return group_norm(x, x.shape[1], weight, bias, eps)
