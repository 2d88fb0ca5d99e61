"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``."""

from __future__ import annotations

import functools


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """True when new operations are recorded for automatic differentiation."""
    return _GradMode.enabled


class set_grad_enabled:
    """Context manager (and function) that sets gradient recording on or off."""

    def __init__(self, mode: bool) -> None:
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev


class _ModeContext:
    mode = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):  # bare decorator: @deepnum.no_grad
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self) -> None:
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev

    def __call__(self, fn):
        """Use as a decorator: ``@deepnum.no_grad()``."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_ModeContext):
    """Operations inside do not record a graph: results have ``requires_grad=False``."""

    mode = False


class enable_grad(_ModeContext):
    """Re-enable recording inside a ``no_grad`` block."""

    mode = True


class inference_mode(no_grad):
    """Alias of ``no_grad`` (deepnum has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode
