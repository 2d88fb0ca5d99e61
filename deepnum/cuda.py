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


def empty_cache() -> None:
    """Nothing to free: there is no GPU memory."""


def get_device_name(device=None) -> str:
    raise RuntimeError("deepnum.cuda.get_device_name(): no CUDA device; deepnum runs on the CPU only")


class amp:
    """``torch.cuda.amp``'s names (``autocast``, ``GradScaler``), disabled as on a CPU-only machine."""

    from deepnum.amp import GradScaler

    class autocast:  # noqa: N801 - PyTorch's name
        def __init__(self, enabled: bool = True, dtype=None, cache_enabled=None) -> None:
            from deepnum.amp import autocast

            self._ctx = autocast("cuda", dtype, enabled)

        def __enter__(self):
            return self._ctx.__enter__()

        def __exit__(self, *exc):
            return self._ctx.__exit__(*exc)
