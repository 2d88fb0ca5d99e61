"""Categorical and Bernoulli distributions, parameterised by ``probs`` or ``logits``."""

from __future__ import annotations

import numpy as np

from deepnum import ops
from deepnum.distributions.distribution import Distribution, as_float_tensor
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["Categorical", "Bernoulli"]


def _exactly_one(name: str, probs, logits) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both.")


class Categorical(Distribution):
    """A draw from {0, …, K−1} with P(k) = probs[k] (probs are normalised over the last dim).

    ``logits`` are unnormalised log-probabilities: log P(k) = logits[k] − logsumexp(logits).
    """

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        _exactly_one("Categorical", probs, logits)
        if probs is not None:
            p = as_float_tensor(probs)
            if p.ndim < 1:
                raise ValueError("Categorical: `probs` parameter must be at least one-dimensional.")
            self._check("probs", p, np.isfinite(p.array) & (p.array >= 0), "Simplex()",
                        "Probabilities must be finite and non-negative (they are normalised to sum to one).")
            self.probs = p / p.sum(-1, keepdim=True)
            self.logits = ops.log(ops.clamp(self.probs, min=np.finfo(p.dtype).tiny))
        else:
            lg = as_float_tensor(logits)
            if lg.ndim < 1:
                raise ValueError("Categorical: `logits` parameter must be at least one-dimensional.")
            self.logits = lg - ops.logsumexp(lg, dim=-1, keepdim=True)
            self.probs = ops.softmax(lg, dim=-1)
        self._num_events = self.probs.shape[-1]
        super().__init__(self.probs.shape[:-1], (), validate_args)

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self) -> Tensor:
        return ops.full(tuple(self.batch_shape), float("nan"), dtype=self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return ops.full(tuple(self.batch_shape), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return ops.argmax(self.probs, dim=-1)

    def sample(self, sample_shape=()) -> Tensor:
        probs = self.probs.array.astype(np.float64).reshape(-1, self._num_events)
        n = int(np.prod(sample_shape)) if sample_shape else 1
        cumulative = probs.cumsum(axis=-1)
        u = _rng(None).random((n, probs.shape[0], 1)) * cumulative[None, :, -1:]
        draws = (cumulative[None] < u).sum(axis=-1).clip(0, self._num_events - 1)
        return Tensor._make(draws.reshape(tuple(sample_shape) + tuple(self.batch_shape)).astype(np.int64), False, None, 0)

    def log_prob(self, value) -> Tensor:
        value = value if isinstance(value, Tensor) else Tensor._make(np.asarray(value, dtype=np.int64), False, None, 0)
        self._check("value", value, (value.array >= 0) & (value.array < self._num_events),
                    f"IntegerInterval(lower_bound=0, upper_bound={self._num_events - 1})",
                    "Categorical values are class indices.")
        shape = np.broadcast_shapes(value.shape, tuple(self.batch_shape))
        logits = self.logits.expand(*(shape + (self._num_events,)))
        index = Tensor._make(np.broadcast_to(value.array.astype(np.int64), shape)[..., None].copy(), False, None, 0)
        return ops.gather(logits, -1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        min_real = np.finfo(self.logits.dtype).min
        logits = ops.clamp(self.logits, min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = np.arange(self._num_events, dtype=np.int64).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            values = np.broadcast_to(values, (self._num_events,) + tuple(self.batch_shape)).copy()
        return Tensor._make(values, False, None, 0)

    def __repr__(self) -> str:
        return f"Categorical(probs: {self.probs.shape})"


class Bernoulli(Distribution):
    """1 with probability p, 0 otherwise; log p(x) = x log p + (1 − x) log(1 − p), computed from logits."""

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        _exactly_one("Bernoulli", probs, logits)
        if probs is not None:
            p = as_float_tensor(probs)
            self._check("probs", p, (p.array >= 0) & (p.array <= 1), "Interval(lower_bound=0.0, upper_bound=1.0)",
                        "Bernoulli probabilities must lie in [0, 1]; pass logits= for unbounded scores.")
            self.probs = p
            eps = np.finfo(p.dtype).eps
            clamped = ops.clamp(p, min=eps, max=1 - eps)
            self.logits = ops.log(clamped) - ops.log1p(-clamped)
        else:
            self.logits = as_float_tensor(logits)
            self.probs = ops.sigmoid(self.logits)
        super().__init__(self.probs.shape, (), validate_args)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    @property
    def mode(self) -> Tensor:
        return (self.probs >= 0.5).to(self.probs.dtype)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = _rng(None).random(shape)
        return Tensor._make((u < np.broadcast_to(self.probs.array, shape)).astype(self.probs.dtype), False, None, 0)

    def log_prob(self, value) -> Tensor:
        value = as_float_tensor(value, self.logits)
        # −BCEWithLogits(logits, x) = x·l − softplus(l), stable at extreme logits
        l = self.logits
        softplus = ops.relu(l) + ops.log1p(ops.exp(-ops.abs(l)))
        return value * l - softplus

    def entropy(self) -> Tensor:
        l = self.logits
        softplus = ops.relu(l) + ops.log1p(ops.exp(-ops.abs(l)))
        return softplus - self.probs * l

    def __repr__(self) -> str:
        return f"Bernoulli(probs: {self.probs!r})"
