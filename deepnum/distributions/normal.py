"""Normal and Uniform distributions (continuous, reparameterisable)."""

from __future__ import annotations

import math

import numpy as np

from deepnum import ops
from deepnum.distributions.distribution import Distribution, as_float_tensor
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["Normal", "Uniform"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _broadcast(*params: Tensor) -> tuple[Tensor, ...]:
    shape = np.broadcast_shapes(*(p.shape for p in params))
    return tuple(p.expand(*shape) if tuple(p.shape) != shape else p for p in params)


class Normal(Distribution):
    """N(loc, scale²): log p(x) = −(x−μ)²/(2σ²) − log σ − ½ log 2π.

    Examples:
        >>> import deepnum
        >>> d = deepnum.distributions.Normal(0.0, 1.0)
        >>> round(d.log_prob(deepnum.tensor(0.0)).item(), 4)
        -0.9189
    """

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        loc = as_float_tensor(loc)
        scale = as_float_tensor(scale, loc)
        self.loc, self.scale = _broadcast(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)
        self._check("scale", self.scale, self.scale.array > 0, "GreaterThan(lower_bound=0.0)",
                    "The scale (standard deviation) must be positive; pass e.g. scale.exp() or softplus(scale).")

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = Tensor._make(_rng(None).standard_normal(shape).astype(self.loc.dtype), False, None, 0)
        return self.loc + eps * self.scale  # reparameterisation: x = μ + σ ε

    def log_prob(self, value) -> Tensor:
        value = as_float_tensor(value, self.loc)
        return -((value - self.loc) ** 2) / (2 * self.variance) - ops.log(self.scale) - _LOG_SQRT_2PI

    def cdf(self, value) -> Tensor:
        """Φ((x − μ)/σ) = ½ (1 + erf((x − μ) / (σ √2)))."""
        value = as_float_tensor(value, self.loc)
        return 0.5 * (1 + ops.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def entropy(self) -> Tensor:
        return 0.5 + _LOG_SQRT_2PI + ops.log(self.scale)  # ½ log(2πe σ²)

    def __repr__(self) -> str:
        return f"Normal(loc: {self.loc!r}, scale: {self.scale!r})"


class Uniform(Distribution):
    """U[low, high): density 1/(high − low) inside, log p = −inf outside."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None) -> None:
        low = as_float_tensor(low)
        high = as_float_tensor(high, low)
        self.low, self.high = _broadcast(low, high)
        super().__init__(self.low.shape, (), validate_args)
        self._check("low", self.low, self.low.array < self.high.array, f"LessThan(upper_bound={self.high!r})",
                    "Uniform needs low < high elementwise.")

    @property
    def mean(self) -> Tensor:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / math.sqrt(12)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = Tensor._make(_rng(None).random(shape).astype(self.low.dtype), False, None, 0)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = as_float_tensor(value, self.low)
        inside = (value.array >= self.low.array) & (value.array < self.high.array)
        log_density = -ops.log(self.high - self.low)
        return ops.where(Tensor._make(inside, False, None, 0), log_density, float("-inf"))

    def entropy(self) -> Tensor:
        return ops.log(self.high - self.low)

    def __repr__(self) -> str:
        return f"Uniform(low: {self.low!r}, high: {self.high!r})"
