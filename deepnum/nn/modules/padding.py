"""Padding layers: ``ZeroPad2d``, ``ConstantPad1d/2d/3d``, ``ReflectionPad1d/2d/3d``,
``ReplicationPad1d/2d/3d``, ``CircularPad1d/2d/3d`` — each ``F.pad`` with a fixed mode."""

from __future__ import annotations

from deepnum.nn.functional.conv import pad
from deepnum.nn.modules.module import Module

__all__ = []


class _Pad(Module):
    """Pad the last ``n`` dims; ``padding`` is an int (all sides) or ``(left, right, top, bottom, ...)``."""

    n, mode = 1, "constant"

    def __init__(self, padding, value: float = 0.0) -> None:
        super().__init__()
        self.padding = (padding,) * (2 * self.n) if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 2 * self.n:
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or a {2 * self.n}-tuple, got {padding!r}"
            )
        self.value = value

    def forward(self, input):
        if self.mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        shows_value = self.mode == "constant" and not type(self).__name__.startswith("Zero")
        return f"padding={self.padding}, value={self.value}" if shows_value else f"{self.padding}"


def _make(name: str, n: int, mode: str):
    cls = type(
        name,
        (_Pad,),
        {"n": n, "mode": mode, "__doc__": f"``F.pad`` of the last {n} dims, mode {mode!r}."},
    )
    cls.__module__ = __name__
    globals()[name] = cls
    __all__.append(name)


for _n in (1, 2, 3):
    _make(f"ConstantPad{_n}d", _n, "constant")
    _make(f"ZeroPad{_n}d", _n, "constant")
    _make(f"ReflectionPad{_n}d", _n, "reflect")
    _make(f"ReplicationPad{_n}d", _n, "replicate")
    _make(f"CircularPad{_n}d", _n, "circular")
