"""``deepnum.random``: PyTorch's ``torch.random`` names for the default generator.

The file is not called ``random.py`` so that running a file inside the package directory
never shadows Python's own ``random`` module; ``deepnum/__init__.py`` registers it as
``deepnum.random``.
"""

from __future__ import annotations

from deepnum.ops.creation import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state"]
