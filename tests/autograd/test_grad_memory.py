"""Who owns a gradient array, and what the engine keeps in memory: ``.grad`` never aliases
another array, saved values are freed by backward, and its peak memory stays bounded."""

import gc
import tracemalloc
import weakref

import numpy as np

import deepnum
from deepnum.autograd import Function
from tests.autograd._pair import random_pair as _pair
from tests.helpers import assert_close


# ------------------------------------------------------------------------- .grad ownership
class KeepsGrad(Function):
    """Returns as gradient an array it also keeps (on ctx and in a module-level list)."""

    kept = []

    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, grad):
        g = grad * 2.0
        KeepsGrad.kept.append(g)
        return g


class KeepsBaseOfView(Function):
    """Returns a view of an array it keeps."""

    kept = []

    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, grad):
        g = grad * 2.0
        KeepsBaseOfView.kept.append(g)
        return g.reshape(g.shape)


class ReturnsStoredTuple(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.result = None
        return x * 2.0

    @staticmethod
    def backward(ctx, grad):
        ctx.result = (grad * 2.0,)
        return ctx.result


def test_leaf_grad_never_aliases_other_arrays():
    x, _ = _pair(3)
    y, _ = _pair(3, seed=1)
    (x + y).backward(deepnum.ones(3, dtype=deepnum.float64))  # Add hands one array to both
    x.grad.array += 1
    np.testing.assert_array_equal(y.grad.array, np.ones(3))
    g = deepnum.ones(3, dtype=deepnum.float64)
    x.grad = None
    x.backward(g)  # a leaf root: .grad must not be the caller's gradient
    x.grad.array += 1
    np.testing.assert_array_equal(g.array, np.ones(3))
    for fn in (KeepsGrad, KeepsBaseOfView, ReturnsStoredTuple):
        z, _ = _pair(3, seed=2)
        out = fn.apply(z)
        out.backward(deepnum.ones(3, dtype=deepnum.float64), retain_graph=True)
        out.backward(deepnum.ones(3, dtype=deepnum.float64))  # accumulates in place
        np.testing.assert_array_equal(z.grad.array, np.full(3, 4.0))
    np.testing.assert_array_equal(KeepsGrad.kept[0], np.full(3, 2.0))
    np.testing.assert_array_equal(KeepsBaseOfView.kept[0], np.full(3, 2.0))


def test_fresh_gradient_is_kept_without_a_copy():
    x, _ = _pair(3)
    w, _ = _pair(3, 3, seed=1)
    seen = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, a):
            return a.copy()

        @staticmethod
        def backward(ctx, grad):
            g = grad * 1.0
            seen.append(g.__array_interface__["data"][0])
            return g

    (Spy.apply(x) @ w).sum().backward()
    assert x.grad.array.__array_interface__["data"][0] == seen[0]
    assert_close(x.grad, w.array.sum(axis=1))



def test_matmul_backward_allocates_no_gradient_copies():
    # MatMul returns reshaped views of fresh products; they become .grad as they are
    n = 300
    a, _ = _pair(n, n)
    b, _ = _pair(n, n, seed=1)
    out = a @ b
    g = deepnum.ones(n, n, dtype=deepnum.float64)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out.backward(g)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    array_bytes = n * n * 8
    assert peak < 2.5 * array_bytes  # dA and dB, and no third array


# ------------------------------------------------------------------------- memory
def _chain(x, n):
    y = x
    for _ in range(n):
        y = (y * 1.001).tanh() * 0.5
    return y.sum()


def test_saved_arrays_are_freed_after_backward():
    x = deepnum.tensor(np.zeros(1000), requires_grad=True)
    y = x
    refs = []
    for _ in range(20):
        y = (y * 1.001).tanh()
        refs.append(weakref.ref(y.grad_fn.saved[0]))
    loss = y.sum()
    gc.collect()
    assert all(r() is not None for r in refs[:-1])
    loss.backward()
    gc.collect()
    # the last exp output is still alive as the array of `y`
    assert sum(r() is not None for r in refs) == 1


def test_retain_graph_keeps_saved_arrays():
    x = deepnum.tensor(np.zeros(1000), requires_grad=True)
    y = x
    refs = []
    for _ in range(5):
        y = (y * 1.001).tanh()
        refs.append(weakref.ref(y.grad_fn.saved[0]))
    loss = y.sum()
    loss.backward(retain_graph=True)
    gc.collect()
    assert all(r() is not None for r in refs)


def test_backward_peak_memory_is_bounded_by_forward_graph():
    n, size = 100, 20_000  # each intermediate array: 160 kB in float64
    x = deepnum.tensor(np.zeros(size), requires_grad=True)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loss = _chain(x, n)
        graph = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        loss.backward()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    array_bytes = size * 8
    assert graph > n * array_bytes  # the forward really keeps what backward needs
    # backward frees saved values as it goes: it never needs much more than the graph held
    assert peak - base < graph + 8 * array_bytes
    # and afterwards only x.grad and a few small objects remain
    assert current - base < 4 * array_bytes
