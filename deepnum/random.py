"""``deepnum.random``: PyTorch's ``torch.random`` names for the default generator."""

from __future__ import annotations

from deepnum.ops.creation import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state"]
