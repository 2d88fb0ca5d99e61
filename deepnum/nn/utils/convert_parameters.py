"""Flattening parameters to one vector and back (for second-order and black-box optimisers)."""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """All parameters concatenated into one 1-D tensor (differentiable, like ``torch.cat``)."""
    from deepnum.ops import cat

    params = list(parameters) if not isinstance(parameters, Tensor) else [parameters]
    if not params:
        raise RuntimeError("parameters_to_vector: expected a non-empty iterable of parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters (in place, no gradient)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected deepnum.Tensor, but got: {type(vec).__name__}")
    params = list(parameters) if not isinstance(parameters, Tensor) else [parameters]
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(
            f"vector_to_parameters: vec has shape {tuple(vec.shape)}, the parameters need {total} values"
        )
    offset = 0
    for p in params:
        n = p.numel()
        np.copyto(p.array, vec.array[offset:offset + n].reshape(p.array.shape), casting="unsafe")
        offset += n
