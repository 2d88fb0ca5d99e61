"""Inverted dropout (000 §6.3, 002, 004 Def. 6.16), element-wise, channel-wise and alpha dropout.

``p`` is the probability of *dropping* a unit, as in PyTorch; the notes speak of the
survival (keep) probability, which is ``1 - p``. Inverted dropout divides the kept
activations by ``1 - p`` during training so that nothing needs rescaling at test time.
The masks are drawn from deepnum's global generator, so ``deepnum.manual_seed`` fixes them.
"""

from __future__ import annotations

import warnings

import numpy as np

from deepnum.autograd.function import Function
from deepnum.ops.creation import default_generator
from deepnum.ops.elementwise import _float_input
from deepnum.ops.inplace import apply_inplace
from deepnum.tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


class MaskScale(Function):
    """y = x ⊙ m + c for a constant mask m (broadcast over x) and offset c."""

    @staticmethod
    def forward(ctx, x, mask, offset):
        ctx.mask = mask
        y = x * mask
        if offset is not None:
            y += offset
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask, None, None  # dy/dx = m


def _check_p(p: float, op: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p: float, dtype) -> np.ndarray:
    """Bernoulli(1 - p) survivors, already divided by the survival probability 1 - p."""
    if p == 1.0:
        return np.zeros(shape, dtype)
    keep = default_generator.rng.random(shape, dtype=np.float32 if dtype == np.float32 else np.float64) >= p
    return keep.astype(dtype) * np.asarray(1.0 / (1.0 - p), dtype)


def _apply(input, inplace: bool, op: str, fn) -> Tensor:
    x = _float_input(input)
    if inplace:
        return apply_inplace(input, op + "_", fn)
    return fn(x)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """y = x ⊙ m / (1 - p) with m ~ Bernoulli(1 - p) element-wise in training; x otherwise.

    Args:
        p: probability of an element being zeroed (the survival probability is 1 - p).
        training: apply dropout only when True.

    References:
        000 §6.3 (inverse dropout with survival probability); Srivastava et al., "Dropout: a
        simple way to prevent neural networks from overfitting", JMLR 2014.
    """
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    return _apply(input, inplace, "dropout", lambda x: MaskScale.apply(x, _keep_mask(x.shape, p, x.dtype), None))


def _feature_dropout(input, p: float, inplace: bool, op: str) -> Tensor:
    """Zero whole channels: one draw per (sample, channel), shared over the remaining dims."""

    def fn(x):
        shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
        return MaskScale.apply(x, _keep_mask(shape, p, x.dtype), None)

    return _apply(input, inplace, op, fn)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel-wise dropout on ``(N, C, L)`` or unbatched ``(C, L)`` input."""
    _check_p(p, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input "
            f"(shape {tuple(input.shape)})"
        )
    if not training or p == 0.0:
        return input
    if input.ndim == 2:
        return _feature_dropout(input.unsqueeze(0), p, False, "dropout1d").squeeze(0)
    return _feature_dropout(input, p, inplace, "dropout1d")


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel-wise dropout on ``(N, C, H, W)``.

    As in PyTorch, a 3-D input is taken as ``(N, C, L)`` (1-D channel dropout, with a warning),
    and any other rank is accepted with a warning and dropped per ``(dim 0, dim 1)`` entry.
    """
    _check_p(p, "dropout2d")
    ndim = input.ndim
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead.",
            UserWarning,
            stacklevel=2,
        )
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. To maintain the 1D channel-wise dropout behavior, please switch "
            "to using dropout1d instead.",
            UserWarning,
            stacklevel=2,
        )
    if not training or p == 0.0:
        return input
    return _feature_dropout(input, p, inplace, "dropout2d")


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel-wise dropout on ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)``."""
    _check_p(p, "dropout3d")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"dropout3d: Expected 4D or 5D input, got shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    if input.ndim == 4:
        return _feature_dropout(input.unsqueeze(0), p, False, "dropout3d").squeeze(0)
    return _feature_dropout(input, p, inplace, "dropout3d")


# SELU's negative saturation value -λα: alpha dropout sets dropped units to it
_ALPHA_PRIME = 1.7580993408473766


def _alpha(input, p: float, mask_shape_fn, inplace: bool, op: str) -> Tensor:
    def fn(x):
        shape = mask_shape_fn(x)
        keep = (default_generator.rng.random(shape) >= p).astype(x.dtype)
        # affine correction (a, b) keeps zero mean and unit variance (Klambauer et al., 2017)
        a = 1.0 / np.sqrt((_ALPHA_PRIME**2 * p + 1) * (1 - p))
        offset = (keep - 1 + p) * np.asarray(_ALPHA_PRIME * a, x.dtype)
        return MaskScale.apply(x, keep * np.asarray(a, x.dtype), np.broadcast_to(offset, x.shape))

    return _apply(input, inplace, op, fn)


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units take the value -λα, then an affine correction
    a·y + b restores zero mean and unit variance (Klambauer et al., "Self-Normalizing Neural
    Networks", 2017)."""
    _check_p(p, "alpha_dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return _alpha(input, p, lambda x: x.shape, inplace, "alpha_dropout")


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    _check_p(p, "feature_alpha_dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    shape_fn = lambda x: tuple(x.shape[:2]) + (1,) * (x.ndim - 2)  # noqa: E731
    return _alpha(input, p, shape_fn, inplace, "feature_alpha_dropout")
