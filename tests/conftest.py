"""Shared test set-up: torch (the test-only oracle) on one thread, seeded runs."""

import os

# NumPy's BLAS on one thread too (set before NumPy loads it): the tests' matrices are small, and
# on a busy 2-core machine BLAS threads waiting for each other made small GEMMs 10-20x slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
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
