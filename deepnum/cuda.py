"""``deepnum.cuda``: deepnum computes on the CPU; these answer as PyTorch does without a GPU."""

from __future__ import annotations


def is_available() -> bool:
    """False: deepnum has no GPU backend."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Accepted for compatibility; there is no GPU generator to seed."""


def manual_seed_all(seed: int) -> None:
    """Accepted for compatibility; there is no GPU generator to seed."""


def synchronize(device=None) -> None:
    """Nothing to wait for on the CPU."""


def current_device() -> int:
    raise RuntimeError("deepnum.cuda.current_device(): no CUDA device; deepnum runs on the CPU only")
