"""Gradient clipping by global norm and by value (003 §4.6, 004): a cure for exploding gradients."""

from __future__ import annotations

import math

import numpy as np

from deepnum.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """‖(‖g₁‖, ‖g₂‖, ...)‖: the ``norm_type``-norm of all tensors seen as one vector."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    arrays = [t.array for t in tensors]
    norm_type = float(norm_type)
    dtype = arrays[0].dtype if arrays else np.dtype(np.float32)
    if not arrays:
        total = 0.0
    elif math.isinf(norm_type):
        total = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    else:
        per = [np.linalg.norm(a.ravel().astype(np.float64), ord=norm_type) for a in arrays]
        total = float(np.linalg.norm(np.array(per), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
            "it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(np.asarray(total, dtype=dtype), False, None, 0)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescale all gradients together so that their joint norm is at most ``max_norm``.

    g ← g · min(1, max_norm / (‖g‖ + 1e-6)), the norm taken over every gradient as one vector
    (``norm_type`` may be ``inf``). Returns the total norm before clipping.

    References:
        003 §4.6 (gradient clipping); Pascanu, Mikolov & Bengio, "On the difficulty of
        training recurrent neural networks", ICML 2013, arXiv:1211.5063.
    """
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    coef = float(max_norm) / (float(total.array) + 1e-6)
    if coef < 1.0 or not math.isfinite(coef):
        for g in grads:
            g.array *= np.asarray(min(coef, 1.0) if math.isfinite(coef) else coef, g.array.dtype)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` (003 §4.6)."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g.array, -clip_value, clip_value, out=g.array)
