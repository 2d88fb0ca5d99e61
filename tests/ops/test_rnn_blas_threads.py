"""The fused recurrent kernels run small per-step products on one BLAS thread and restore the count."""

import pytest

import deepnum
from deepnum import nn
from deepnum.ops import rnn


@pytest.fixture
def blas():
    rnn._step_threads(1, 1, 1).__enter__()  # probes the library once
    if not rnn._blas_threads:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    before = rnn._blas_threads[1]()
    yield rnn._blas_threads
    rnn._blas_threads[0](before)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_thread_count_is_one_inside_and_restored_after(blas, mode, monkeypatch):
    set_threads, get_threads = blas
    set_threads(2)
    seen = []
    original = rnn._steps

    def spy(T, reverse):
        seen.append(get_threads())
        return original(T, reverse)

    monkeypatch.setattr(rnn, "_steps", spy)
    layer = getattr(nn, mode)(3, 4)
    out, *_ = layer(deepnum.randn(5, 2, 3))
    out.sum().backward()
    assert seen and all(n == 1 for n in seen)
    assert get_threads() == 2


def test_large_step_keeps_all_threads(blas):
    set_threads, get_threads = blas
    set_threads(2)
    with rnn._step_threads(1024, 1024, 4096):
        assert get_threads() == 2
    with rnn._step_threads(32, 256, 1024):
        assert get_threads() == 1
    assert get_threads() == 2


def test_restored_after_an_error(blas):
    set_threads, get_threads = blas
    set_threads(2)
    with pytest.raises(ValueError, match="boom"):
        with rnn._step_threads(2, 2, 2):
            raise ValueError("boom")
    assert get_threads() == 2
