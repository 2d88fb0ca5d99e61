"""Small synthetic datasets for tests, demos and intuition: XOR, parity, two moons, spirals,
and the noisy sinusoid of 002.

Each function returns ``(X, y)`` as deepnum tensors: float32 inputs of shape ``(n, d)``, int64
class labels of shape ``(n,)`` for the classification sets and float32 targets of shape
``(n, 1)`` for the regression set. Randomness comes from deepnum's generator (or the one
passed), so ``deepnum.manual_seed`` makes the data reproducible.
"""

from __future__ import annotations

import numpy as np

from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["xor", "parity", "two_moons", "spirals", "noisy_sinusoid"]

_F32 = np.float32


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor]:
    return Tensor._make(np.ascontiguousarray(x), False, None, 0), Tensor._make(np.ascontiguousarray(y), False, None, 0)


def parity(n: int = 256, n_bits: int = 4, generator=None) -> tuple[Tensor, Tensor]:
    """Random bit vectors ``x ∈ {0, 1}^n_bits`` labelled by their parity ``y = Σ x_i mod 2``.

    Not linearly separable for ``n_bits >= 2``: the classic task a single-layer perceptron
    cannot learn and a one-hidden-layer MLP can.

    Examples:
        >>> X, y = parity(8, n_bits=3)
        >>> bool(((X.numpy().sum(1) % 2) == y.numpy()).all())
        True
    """
    bits = _rng(generator).integers(0, 2, size=(n, n_bits))
    return _pair(bits.astype(_F32), (bits.sum(axis=1) % 2).astype(np.int64))


def xor(n: int = 200, noise: float = 0.1, generator=None) -> tuple[Tensor, Tensor]:
    """Points scattered with Gaussian ``noise`` around the four corners of the unit square,
    labelled ``y = x_1 XOR x_2`` of the corner (2-bit parity in the plane)."""
    rng = _rng(generator)
    corners = rng.integers(0, 2, size=(n, 2))
    x = corners + noise * rng.standard_normal((n, 2))
    return _pair(x.astype(_F32), (corners[:, 0] ^ corners[:, 1]).astype(np.int64))


def two_moons(n: int = 200, noise: float = 0.1, generator=None) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles: class 0 on ``(cos t, sin t)``, class 1 on
    ``(1 - cos t, 1/2 - sin t)``, ``t ~ U[0, π]``, plus Gaussian ``noise``."""
    rng = _rng(generator)
    y = np.arange(n) % 2
    t = rng.uniform(0.0, np.pi, size=n)
    x = np.stack([np.cos(t), np.sin(t)], axis=1)
    x[y == 1] = np.stack([1.0 - np.cos(t[y == 1]), 0.5 - np.sin(t[y == 1])], axis=1)
    x += noise * rng.standard_normal((n, 2))
    return _pair(x.astype(_F32), y.astype(np.int64))


def spirals(n: int = 300, classes: int = 2, noise: float = 0.2, generator=None) -> tuple[Tensor, Tensor]:
    """``classes`` interleaved spiral arms: radius ``r ∈ [0, 1]`` and angle
    ``θ = 4k + 4r + noise·ε`` for arm ``k``, point ``r (sin θ, cos θ)``."""
    rng = _rng(generator)
    y = np.arange(n) % classes
    r = rng.uniform(0.0, 1.0, size=n)
    theta = 4.0 * y + 4.0 * r + noise * rng.standard_normal(n)
    x = r[:, None] * np.stack([np.sin(theta), np.cos(theta)], axis=1)
    return _pair(x.astype(_F32), y.astype(np.int64))


def noisy_sinusoid(n: int = 10, noise: float = 0.3, generator=None) -> tuple[Tensor, Tensor]:
    """The sinusoidal regression set of 002: ``t = sin(2πx) + ε``, ``ε ~ N(0, noise²)``,
    with ``x ~ U[0, 1]``; ten points and noise 0.3 are the textbook's choice.

    A two-layer net with 10 hidden units fits these 10 points, noise included: the
    over-fitting example of 002 ("Overfitting").

    References:
        002 "Overfitting"; C. Bishop, "Pattern Recognition and Machine Learning", 2006, §1.1.
    """
    rng = _rng(generator)
    x = rng.uniform(0.0, 1.0, size=(n, 1))
    t = np.sin(2.0 * np.pi * x) + noise * rng.standard_normal((n, 1))
    return _pair(x.astype(_F32), t.astype(_F32))
