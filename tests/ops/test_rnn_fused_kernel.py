"""Fused recurrent kernels: BLAS threads of the step products; unused input gradients skipped."""

import numpy as np
import pytest

import deepnum
from deepnum import _blas_threads, nn
from deepnum.ops import rnn


@pytest.fixture
def blas():
    functions = _blas_threads.blas_functions()
    if not functions:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    before = functions[1]()
    functions[0](2)
    yield functions
    functions[0](before)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_step_loops_run_on_one_thread_and_restore(blas, mode, monkeypatch):
    set_threads, get_threads = blas
    seen = []
    original = rnn._steps

    def spy(T, reverse):
        seen.append(get_threads())
        return original(T, reverse)

    monkeypatch.setattr(rnn, "_steps", spy)
    layer = getattr(nn, mode)(3, 4)
    out, *_ = layer(deepnum.randn(5, 2, 3))
    out.sum().backward()
    assert len(seen) == 2 and all(n == 1 for n in seen)  # forward and backward loops
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
