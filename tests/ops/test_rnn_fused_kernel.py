"""Fused recurrent kernels: BLAS threads of the step products; unused input gradients skipped."""

import numpy as np
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
    monkeypatch.setattr(rnn, "_cores_busy", lambda: True)
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


def test_large_step_or_idle_cores_keep_all_threads(blas, monkeypatch):
    set_threads, get_threads = blas
    set_threads(2)
    monkeypatch.setattr(rnn, "_cores_busy", lambda: True)
    with rnn._step_threads(1024, 1024, 4096):
        assert get_threads() == 2
    with rnn._step_threads(32, 256, 1024):
        assert get_threads() == 1
    assert get_threads() == 2
    monkeypatch.setattr(rnn, "_cores_busy", lambda: False)
    with rnn._step_threads(32, 256, 1024):
        assert get_threads() == 2


def test_cores_busy_follows_the_load(monkeypatch):
    monkeypatch.setattr(rnn.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(rnn.os, "getloadavg", lambda: (2.3, 0.0, 0.0))
    assert not rnn._cores_busy()
    monkeypatch.setattr(rnn.os, "getloadavg", lambda: (2.7, 0.0, 0.0))
    assert rnn._cores_busy()


def test_restored_after_an_error(blas, monkeypatch):
    set_threads, get_threads = blas
    set_threads(2)
    monkeypatch.setattr(rnn, "_cores_busy", lambda: True)
    with pytest.raises(ValueError, match="boom"):
        with rnn._step_threads(2, 2, 2):
            raise ValueError("boom")
    assert get_threads() == 2


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_constant_input_skips_its_gradient_and_keeps_the_others(mode):
    deepnum.manual_seed(0)
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True)
    x = deepnum.randn(6, 2, 3)
    grads = []
    for requires_grad in (True, False):
        layer.zero_grad()
        xi = x.detach().requires_grad_(requires_grad)
        out, *_ = layer(xi)
        (out * out).sum().backward()
        assert (xi.grad is not None) == requires_grad
        grads.append([p.grad.numpy().copy() for p in layer.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
