"""Devices: deepnum runs on the CPU; ``device('cpu')`` exists so PyTorch code runs unchanged."""

from __future__ import annotations


class device:
    """The device a tensor lives on: always ``cpu`` in deepnum."""

    def __init__(self, type="cpu", index=None) -> None:
        if isinstance(type, device):
            type = type.type
        name = str(type).split(":")[0]
        if name != "cpu":
            raise RuntimeError(
                f"device({type!r}): deepnum runs on the CPU only; use device('cpu') "
                "(or check deepnum.cuda.is_available(), which is False)"
            )
        self.type = "cpu"
        self.index = index

    def __eq__(self, other) -> bool:
        return isinstance(other, (device, str)) and str(other).split(":")[0] == "cpu"

    def __hash__(self) -> int:
        return hash("cpu")

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"
