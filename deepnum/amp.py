"""``deepnum.amp``: mixed precision is off on deepnum; the training-loop idioms still run.

``autocast(...)`` is a context manager (and decorator) that computes in the tensors' own
dtypes; ``GradScaler`` behaves as PyTorch's does when disabled (which is what PyTorch does on a
machine without a GPU): ``scale(loss)`` returns ``loss``, ``step(optimizer)`` calls
``optimizer.step()``, ``update()`` does nothing. Mixed precision buys speed on GPUs; NumPy on
the CPU gains nothing from float16.
"""

from __future__ import annotations

import functools

__all__ = ["autocast", "GradScaler"]


class autocast:
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: no casting."""

    def __init__(
        self, device_type: str = "cpu", dtype=None, enabled: bool = True, cache_enabled=None
    ) -> None:
        self.device_type, self.fast_dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


class GradScaler:
    """Loss scaling for float16 training, always disabled here (no float16 autocast)."""

    def __init__(
        self,
        device: str = "cpu",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._enabled = False

    def is_enabled(self) -> bool:
        return self._enabled

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer) -> None:
        return None

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        return None

    def get_scale(self) -> float:
        return 1.0

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict) -> None:
        return None
