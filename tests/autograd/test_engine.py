"""Semantics of the autograd engine, side by side with PyTorch."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
import torch

import deepnum
from deepnum.autograd import Function
from tests.helpers import assert_close, to_torch


def _pair(*shape, seed=0, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return deepnum.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


# ------------------------------------------------------------------ accumulation, retain_grad
def test_leaf_grad_accumulates_across_backward_calls():
    x, tx = _pair(3, 2)
    for _ in range(3):
        (x * x).sum().backward()
        (tx * tx).sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(x.grad, 6 * x.array)


def test_grad_accumulates_over_shared_subexpressions():
    x, tx = _pair(4)
    y, ty = x.exp(), tx.exp()
    (y * y + y.sin() * x).sum().backward()
    (ty * ty + ty.sin() * tx).sum().backward()
    assert_close(x.grad, tx.grad)


def test_retain_grad_on_non_leaf():
    x, tx = _pair(3)
    y, ty = x * 2, tx * 2
    y.retain_grad()
    ty.retain_grad()
    z, tz = y * y, ty * ty
    assert y.grad is None
    z.sum().backward()
    tz.sum().backward()
    assert_close(y.grad, ty.grad)
    assert_close(x.grad, tx.grad)
    assert not y.grad.requires_grad


def test_non_leaf_grad_not_kept_without_retain_grad():
    x, _ = _pair(3)
    y = x * 2
    (y * y).sum().backward()
    assert y.grad is None and x.grad is not None


# ------------------------------------------------------------------------- retain_graph
def test_second_backward_through_freed_graph_raises():
    x, tx = _pair(3)
    y = (x.exp() * x).sum()
    y.backward()
    second_time = "backward through the graph a second time.*retain_graph=True"
    with pytest.raises(RuntimeError, match=second_time):
        y.backward()
    ty = (tx.exp() * tx).sum()
    ty.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ty.backward()


def test_retain_graph_allows_second_backward():
    x, tx = _pair(3)
    y, ty = (x.exp() * x).sum(), (tx.exp() * tx).sum()
    y.backward(retain_graph=True)
    y.backward()
    ty.backward(retain_graph=True)
    ty.backward()
    assert_close(x.grad, tx.grad)


def test_graph_without_saved_values_can_be_backwarded_twice():
    # as in PyTorch: only nodes that saved values for backward complain once freed
    x, tx = _pair(3)
    y, ty = (x + 1).sum(), (tx + 1).sum()
    y.backward()
    y.backward()
    ty.backward()
    ty.backward()
    assert_close(x.grad, tx.grad)


# ------------------------------------------------------------------------- errors
def test_backward_on_non_scalar_without_gradient_raises():
    x, tx = _pair(3)
    implicit = "grad can be implicitly created only for scalar outputs"
    with pytest.raises(RuntimeError, match=implicit):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=implicit):
        (tx * 2).backward()


def test_backward_with_explicit_gradient():
    x, tx = _pair(2, 3)
    g = np.random.default_rng(5).standard_normal((2, 3))
    (x.sin() * 2).backward(deepnum.tensor(g))
    (tx.sin() * 2).backward(torch.tensor(g))
    assert_close(x.grad, tx.grad)


def test_backward_gradient_shape_mismatch_raises():
    x, _ = _pair(2, 3)
    mismatch = r"gradient has shape \(3,\) but the output has shape \(2, 3\)"
    with pytest.raises(RuntimeError, match=mismatch):
        (x * 2).backward(deepnum.ones(3, dtype=deepnum.float64))


def test_backward_on_tensor_not_requiring_grad_raises():
    x = deepnum.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


def test_requires_grad_on_integer_tensor_raises():
    x = deepnum.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="only tensors of floating point dtype"):
        x.requires_grad_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2, 3]).requires_grad_()


def test_inplace_on_leaf_requiring_grad_raises():
    x, tx = _pair(3)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tx.add_(1)
    with deepnum.no_grad():
        x.add_(1)  # allowed, as in PyTorch (an optimiser step)
    with torch.no_grad():
        tx.add_(1)
    assert_close(x, tx)


def test_inplace_on_non_leaf_is_differentiated():
    x, tx = _pair(3)
    y, ty = x * 2, tx * 2
    y.add_(x).mul_(3)
    ty.add_(tx).mul_(3)
    y, ty = y * y, ty * ty
    y.sum().backward()
    ty.sum().backward()
    assert_close(x.grad, tx.grad)


# ------------------------------------------------------------------------- grad modes
def test_no_grad_enable_grad_set_grad_enabled():
    x, _ = _pair(3)
    with deepnum.no_grad():
        assert not (x * 2).requires_grad
        assert not deepnum.is_grad_enabled()
        with deepnum.enable_grad():
            assert (x * 2).requires_grad
    with deepnum.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert deepnum.is_grad_enabled()
    deepnum.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    deepnum.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_grad_modes_as_decorators():
    x, _ = _pair(3)

    @deepnum.no_grad()
    def double(t):
        return t * 2

    @deepnum.enable_grad()
    def triple(t):
        return t * 3

    assert not double(x).requires_grad
    with deepnum.no_grad():
        assert triple(x).requires_grad
    assert double.__name__ == "double"
    assert deepnum.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with deepnum.no_grad():
            raise ValueError
    assert deepnum.is_grad_enabled()


def test_detach_shares_memory_and_cuts_graph():
    x, _ = _pair(3)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    z = x.detach()
    z.array[0] = 42.0
    assert x.array[0] == 42.0


def test_detach_blocks_gradient_flow():
    x, tx = _pair(3)
    (x * x.detach()).sum().backward()
    (tx * tx.detach()).sum().backward()
    assert_close(x.grad, tx.grad)


# ------------------------------------------------------------------------- hooks, grad
def test_register_hook_on_leaf_and_non_leaf_can_replace_gradient():
    x, tx = _pair(3)
    seen = []
    for a in (x, tx):
        y = a * 3
        y.register_hook(lambda g: g * 10)
        a.register_hook(lambda g: seen.append(g.clone() if isinstance(g, torch.Tensor) else g))
        (y * y).sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(seen[0], seen[1])


def test_leaf_hook_sees_the_summed_gradient_once():
    results = []
    for a in _pair(3):
        calls = []
        # a non-linear hook tells "once on the sum" from "once per contribution"
        a.register_hook(lambda g, calls=calls: (calls.append(1), g.clamp(max=1.0))[1])
        (a * a * a + a.exp()).sum().backward()
        results.append((len(calls), a.grad))
    assert results[0][0] == results[1][0] == 1
    assert_close(results[0][1], results[1][1])


def test_hooks_also_apply_in_autograd_grad():
    x, tx = _pair(3)
    out = []
    for a, grad in ((x, deepnum.autograd.grad), (tx, torch.autograd.grad)):
        a.register_hook(lambda g: g * 2)
        y = a * 1.5
        y.register_hook(lambda g: g * 10)
        out.append(grad((y * 3).sum(), a)[0])
        out.append(grad((y * 3).sum(), y)[0])
    assert_close(out[0], out[2])
    assert_close(out[1], out[3])


def test_register_hook_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        deepnum.tensor([1.0]).register_hook(lambda g: g)


def test_autograd_grad_does_not_touch_dot_grad_and_allow_unused():
    x, tx = _pair(3)
    y, ty = _pair(3, seed=1)
    gx, gy = deepnum.autograd.grad((x * x).sum(), [x, y], allow_unused=True)
    tgx, tgy = torch.autograd.grad((tx * tx).sum(), [tx, ty], allow_unused=True)
    assert_close(gx, tgx)
    assert gy is None and tgy is None
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        deepnum.autograd.grad((x * x).sum(), [x, y])


def test_autograd_grad_with_respect_to_non_leaf():
    x, tx = _pair(3)
    h, th = x.exp(), tx.exp()
    (g,) = deepnum.autograd.grad((h * h).sum(), h)
    (tg,) = torch.autograd.grad((th * th).sum(), th)
    assert_close(g, tg)


def test_grad_with_respect_to_non_leaf_leaves_the_rest_of_the_graph_alone():
    # only the part of the graph between output and requested input runs (and is freed)
    x, tx = _pair(3)
    for a, grad in ((x, deepnum.autograd.grad), (tx, torch.autograd.grad)):
        h = a.exp()
        (g,) = grad((h * h).sum(), h)
        assert_close(g, 2 * h.detach())
        (h * 3).sum().backward()  # ExpBackward's saved output is still there
    assert_close(x.grad, tx.grad)


def test_grad_skips_branches_that_do_not_lead_to_inputs():
    calls = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g

    x, _ = _pair(3)
    w, _ = _pair(3, seed=1)
    y = (Spy.apply(w) * x).sum()
    (gx,) = deepnum.autograd.grad(y, x)
    assert_close(gx, w.detach())
    assert calls == []
    y = (Spy.apply(w) * x).sum()
    y.backward()
    assert calls == [1]


def test_third_derivative_of_polynomial():
    x, tx = _pair(5)
    results = []
    for a, grad in ((x, deepnum.autograd.grad), (tx, torch.autograd.grad)):
        y = (a**4 - 3 * a**3 + a).sum()
        (g1,) = grad(y, a, create_graph=True)
        (g2,) = grad(g1.sum(), a, create_graph=True)
        (g3,) = grad(g2.sum(), a)
        results.append(g3)
    assert_close(results[0], results[1])
    assert_close(results[0], 24 * x.array - 18)


def test_backward_create_graph_accumulates_differentiable_grad():
    x, tx = _pair(3)
    (x**3).sum().backward(create_graph=True)
    (tx**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g,) = deepnum.autograd.grad(x.grad.sum(), x)
    (tg,) = torch.autograd.grad(tx.grad.sum(), tx)
    assert_close(g, tg)


def test_ten_thousand_op_chain():
    x = deepnum.tensor([0.5], dtype=deepnum.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = (y * 1.0001).sin() + 0.0
    y.sum().backward()
    tx = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    ty = tx
    for _ in range(10_000):
        ty = (ty * 1.0001).sin() + 0.0
    ty.sum().backward()
    assert_close(x.grad, tx.grad)


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


# ------------------------------------------------------------------------- anomaly
def test_detect_anomaly_names_forward_op_and_user_line():
    x = deepnum.tensor([-1.0, 2.0], requires_grad=True)
    with deepnum.autograd.detect_anomaly():
        log_nan = r"Function 'Log' produced nan.*test_engine\.py:\d+"
        with pytest.raises(RuntimeError, match=log_nan):
            x.log()
        y = deepnum.tensor([0.0], requires_grad=True)
        with pytest.raises(RuntimeError, match=r"'Div' produced nan.*test_engine\.py"):
            y / y


def test_detect_anomaly_names_backward_op():
    x = deepnum.tensor([0.0, 4.0], requires_grad=True)
    with deepnum.autograd.detect_anomaly():
        y = x.sqrt().sum()  # forward is finite; d sqrt(x)/dx at 0 is inf
        with pytest.raises(RuntimeError, match=r"'SqrtBackward' returned inf.*test_engine\.py"):
            y.backward()


def test_without_anomaly_mode_nan_passes_silently_as_in_torch():
    x, tx = deepnum.tensor([0.0], requires_grad=True), torch.tensor([0.0], requires_grad=True)
    x.sqrt().sum().backward()
    tx.sqrt().sum().backward()
    assert np.isinf(x.grad.array).all() and torch.isinf(tx.grad).all()
    assert not deepnum.autograd.is_anomaly_enabled()


class Failing(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        raise ValueError("broken backward")


def test_anomaly_mode_notes_where_a_failing_backward_op_was_created():
    x = deepnum.tensor([1.0], requires_grad=True)
    with deepnum.autograd.detect_anomaly():
        y = Failing.apply(x).sum()
        with pytest.raises(ValueError, match="broken backward") as info:
            y.backward()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "FailingBackward" in notes and "test_engine.py" in notes


def test_detect_anomaly_check_nan_false_and_decorator():
    x = deepnum.tensor([-1.0], requires_grad=True)
    with deepnum.autograd.detect_anomaly(check_nan=False):
        assert deepnum.autograd.is_anomaly_enabled()
        assert np.isnan(x.log().detach().numpy()).all()

    @deepnum.autograd.detect_anomaly()
    def bad(t):
        return t.log()

    with pytest.raises(RuntimeError, match="'Log' produced nan"):
        bad(x)
    assert not deepnum.autograd.is_anomaly_enabled()
    assert deepnum.autograd.is_anomaly_check_nan_enabled()


def test_set_detect_anomaly_as_context_and_call():
    with deepnum.autograd.set_detect_anomaly(True):
        assert deepnum.autograd.is_anomaly_enabled()
    assert not deepnum.autograd.is_anomaly_enabled()


# ------------------------------------------------------------------------- custom Function
class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * ctx.scale * x * x, None


def test_custom_function_first_and_second_order():
    x, tx = _pair(4)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and "Cube" in repr(y.grad_fn)
    (g,) = deepnum.autograd.grad(y.sum(), x, create_graph=True)
    assert_close(g, 6 * x.array**2)
    (h,) = deepnum.autograd.grad(g.sum(), x)
    assert_close(h, 12 * x.array)
    assert deepnum.autograd.gradcheck(lambda t: Cube.apply(t, 2.0), (x,))
    assert deepnum.autograd.gradgradcheck(lambda t: Cube.apply(t, 2.0), (x,))
    to_torch(x)  # the helper accepts tensors that require grad


class WrongCount(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_backward_returning_wrong_number_of_gradients_raises():
    x, _ = _pair(2)
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 1 gradients, expected 2"):
        WrongCount.apply(x, x).sum().backward()


class WrongShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_backward_returning_wrong_shape_raises():
    x, _ = _pair(2, 3)
    wrong = r"WrongShape backward returned a gradient of shape \(\).*\(2, 3\)"
    with pytest.raises(RuntimeError, match=wrong):
        WrongShape.apply(x).backward()
