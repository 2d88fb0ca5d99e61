"""Shared test set-up: torch (the test-only oracle) on one thread, seeded runs."""

import numpy as np
import pytest

import deepnum

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is part of the test extra
    torch = None


@pytest.fixture(autouse=True)
def _seed():
    deepnum.manual_seed(0)
    np.random.seed(0)
    if torch is not None:
        torch.manual_seed(0)
    yield
