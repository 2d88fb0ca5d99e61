"""Every PyTorch optimiser in float32: trajectories against torch.optim, dtype kept."""

from __future__ import annotations

import numpy as np
import pytest

from tests.optim._problem import Pair, run_pair
from tests.optim.test_optimizers import CASES, _id, _make


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_trajectory_float32_stays_float32(case):
    name, options = case
    pair = Pair(np.float32, maximize=options.get("maximize", False))
    dn, t = _make(name, pair, options)
    run_pair(pair, dn, t)
    for state in dn.state.values():
        for key, value in state.items():
            if key != "step":
                assert value.dtype == np.float32, f"state {key} is {value.dtype}"
