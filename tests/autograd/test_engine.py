"""Semantics of the autograd engine, side by side with PyTorch: accumulation, retain_graph,
errors, grad modes, hooks and ``autograd.grad``."""

import numpy as np
import pytest
import torch

import deepnum
from deepnum.autograd import Function
from tests.autograd._pair import random_pair as _pair
from tests.helpers import assert_close


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
