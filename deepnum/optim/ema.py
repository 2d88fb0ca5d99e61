"""``EMA``: the exponential moving average of a stream of numbers, arrays or tensors."""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor

__all__ = ["EMA"]


class EMA:
    r"""Exponential moving average ``⟨q⟩_k = β⟨q⟩_{k−1} + (1−β)q_k`` from ``⟨q⟩_0 = 0``.

    The average starts at zero, so early values are biased towards it; with
    ``bias_correction=True`` (the default) ``value`` is the corrected average
    ``⟨q⟩_k / (1 − β^k)`` of 000 eq. 15-16, which is exact for a constant stream from the first
    update on. (000 eq. 14 as printed repeats the factor ``1/(1−β^k)``; the uncorrected average
    is the recursion of eq. 18, which is what ``bias_correction=False`` returns.) The average
    remembers roughly the last ``1/(1−β)`` values.

    Args:
        beta: decay rate β in [0, 1) (default 0.9).
        bias_correction: report the bias-corrected average (default True).

    Examples:
        >>> ema = EMA(beta=0.5, bias_correction=False)
        >>> for q in [1.0, 1.0]:
        ...     _ = ema.update(q)
        >>> ema.value  # 0.5·(0.5·1) + 0.5·1
        0.75
        >>> EMA(beta=0.5).update(1.0)  # corrected: exact for a constant stream
        1.0

    References:
        000 eq. 13-16 (EMA, bias correction), eq. 17-19 (its use for momentum).
    """

    def __init__(self, beta: float = 0.9, bias_correction: bool = True) -> None:
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"EMA: beta must be in [0, 1), got {beta}")
        self.beta = beta
        self.bias_correction = bias_correction
        self.reset()

    def reset(self) -> None:
        """Forget all values: ``⟨q⟩_0 = 0`` (000 eq. 13)."""
        self.average = None
        self.count = 0
        self._as_tensor = False

    def update(self, q):
        """Fold in the next value ``q_k`` and return the (corrected) average."""
        self._as_tensor = isinstance(q, Tensor)
        x = q.detach().array if self._as_tensor else np.asarray(q)
        if self.average is None:
            dtype = x.dtype if x.dtype.kind == "f" else np.float64
            self.average = np.zeros(x.shape, dtype=dtype)  # ⟨q⟩_0 = 0   (000 eq. 13)
        self.average *= self.beta
        self.average += (1 - self.beta) * x  # ⟨q⟩_k = β⟨q⟩_{k−1} + (1−β)q_k
        self.count += 1
        return self.value

    @property
    def value(self):
        """The current average: bias-corrected ``⟨q⟩_k/(1−β^k)`` (000 eq. 16) if enabled."""
        if self.average is None:
            raise RuntimeError("EMA.value: no value has been averaged yet; call update() first")
        v = self.average
        if self.bias_correction:
            v = v / (1 - self.beta**self.count)  # bias correction (000 eq. 16)
        else:
            v = v.copy()
        if self._as_tensor:
            return Tensor._make(v, False, None, 0)
        return v.item() if v.ndim == 0 else v

    def state_dict(self) -> dict:
        return {"beta": self.beta, "bias_correction": self.bias_correction, "count": self.count,
                "average": None if self.average is None else self.average.copy(),
                "as_tensor": self._as_tensor}

    def load_state_dict(self, state_dict: dict) -> None:
        self.beta = state_dict["beta"]
        self.bias_correction = state_dict["bias_correction"]
        self.count = state_dict["count"]
        avg = state_dict["average"]
        if isinstance(avg, Tensor):
            avg = avg.array
        self.average = None if avg is None else np.array(avg)
        self._as_tensor = state_dict.get("as_tensor", False)

    def __repr__(self) -> str:
        return f"EMA(beta={self.beta}, bias_correction={self.bias_correction}, count={self.count})"
