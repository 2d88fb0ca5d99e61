"""Dropout layers (000 §6.3, 002, 004 Def. 6.16): active in ``train()`` mode, identity in ``eval()``.

``p`` is the probability of dropping a unit (PyTorch's meaning); the notes' survival
probability is ``1 - p``. Survivors are scaled by ``1 / (1 - p)`` (inverted dropout).
"""

from __future__ import annotations

from deepnum.nn import functional as F
from deepnum.nn.modules.module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _fn = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    @property
    def survival_probability(self) -> float:
        """1 - p: the probability that a unit is kept (000 §6.3's "survival" probability)."""
        return 1.0 - self.p

    def forward(self, input):
        return type(self)._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes each element with probability ``p`` in training and scales the rest by 1/(1-p).

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> drop = nn.Dropout(p=0.5).eval()
        >>> drop(deepnum.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    _fn = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, L)`` (or ``(C, L)``) input with probability ``p``."""

    _fn = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, H, W)`` input; 3-D input is taken as ``(N, C, L)`` (warns)."""

    _fn = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, D, H, W)`` (or unbatched) input."""

    _fn = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU activations at zero mean and unit variance (Klambauer et al., 2017)."""

    _fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels."""

    _fn = staticmethod(F.feature_alpha_dropout)
