"""``Distribution``: the base of deepnum's probability distributions (``torch.distributions``).

Parameters broadcast to a ``batch_shape``; one draw has ``event_shape``. ``sample`` draws
without gradient, ``rsample`` draws x = loc + scale·ε (the reparameterisation trick) so that
gradients reach the parameters; ``log_prob``, ``entropy``, ``mean``, ``stddev`` follow
PyTorch's definitions and numbers.
"""

from __future__ import annotations

import numpy as np

from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Size, Tensor


def as_float_tensor(value, like=None) -> Tensor:
    """A floating tensor for a distribution parameter (numbers take the default dtype)."""
    t = as_tensor_arg(value)
    if t.dtype.kind != "f":
        t = t.to(like.dtype if like is not None and like.dtype.kind == "f" else np.float32)
    return t


class Distribution:
    """Base class: subclasses set ``batch_shape``/``event_shape`` and implement the methods."""

    has_rsample = False
    _validate_args = True

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None) -> None:
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        return tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape)

    def sample(self, sample_shape=()) -> Tensor:
        from deepnum.autograd.grad_mode import no_grad

        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampler (rsample); use sample()")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _check(self, name: str, value: Tensor, ok: np.ndarray, constraint: str, fix: str) -> None:
        """Raise PyTorch's ValueError for parameters outside their constraint, with the fix."""
        if self._validate_args and not np.all(ok):
            raise ValueError(
                f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of distribution "
                f"{type(self).__name__} to satisfy the constraint {constraint}, but found invalid "
                f"values:\n{value.detach()!r}\n{fix}"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
