"""deepnum._blas_threads: small products on one OpenBLAS thread, decided by size alone."""

import numpy as np
import pytest

import deepnum
from deepnum import _blas_threads, nn


@pytest.fixture
def blas():
    functions = _blas_threads.blas_functions()
    if not functions:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    before = functions[1]()
    functions[0](2)
    yield functions
    functions[0](before)


def test_small_product_uses_one_thread_and_restores(blas):
    set_threads, get_threads = blas
    with _blas_threads.small_product(1e6):
        assert get_threads() == 1
        with _blas_threads.small_product(1e6):  # nested: nothing to restore inside
            assert get_threads() == 1
        assert get_threads() == 1
    assert get_threads() == 2


def test_big_product_keeps_the_threads(blas):
    set_threads, get_threads = blas
    with _blas_threads.small_product(1e9):
        assert get_threads() == 2


def test_thread_count_restored_after_an_error(blas):
    set_threads, get_threads = blas
    with pytest.raises(ValueError, match="boom"):
        with _blas_threads.small_product(1e6):
            raise ValueError("boom")
    assert get_threads() == 2


def test_training_is_bit_identical_whatever_the_threads_outside(blas):
    """The thread choice depends on the product's size only, so runs repeat exactly."""
    set_threads, _ = blas

    def run():
        deepnum.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = deepnum.optim.Adam(model.parameters(), lr=1e-2)
        x, y = deepnum.randn(256, 64), deepnum.randint(0, 10, (256,))
        for _ in range(5):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    set_threads(1)
    first = run()
    set_threads(2)
    second = run()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
