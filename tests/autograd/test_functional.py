"""autograd.functional against torch.autograd.functional in float64."""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import deepnum
import deepnum.autograd.functional as F
from tests.helpers import assert_close


def _pair(*shape, seed=0, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return (deepnum.tensor(a, dtype=deepnum.float64, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _same(dn, th):
    """Compare nested (tuple) structures of results leaf by leaf."""
    if isinstance(th, tuple):
        assert isinstance(dn, tuple) and len(dn) == len(th), (type(dn), len(th))
        for a, b in zip(dn, th):
            _same(a, b)
        return
    assert isinstance(dn, deepnum.Tensor), type(dn)
    assert_close(dn, th)


# Written with the methods both libraries share, so one function serves deepnum and torch.
def f_single(x):
    return (x.exp() * x.sin()).sum(dim=-1)  # vector output


def f_scalar(x):
    return (x**3).sum() + (x[0] * x[1]).sum()


def f_two_in(x, y):
    return (x @ y).tanh()


def f_two_out(x):
    return x * 2, (x**2).sum()


def f_scalar_two(x, y):
    return (x.sin() * y.cos()).sum() + (x**2 * y).sum()


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_single_input_output(create_graph):
    x, tx = _pair(3, 4)
    _same(F.jacobian(f_single, x, create_graph=create_graph), TF.jacobian(f_single, tx))


def test_jacobian_structures():
    x, tx = _pair(2, 3)
    y, ty = _pair(3, 2, seed=1)
    _same(F.jacobian(f_two_in, (x, y)), TF.jacobian(f_two_in, (tx, ty)))
    _same(F.jacobian(f_two_out, x), TF.jacobian(f_two_out, tx))
    _same(F.jacobian(f_two_out, (x,)), TF.jacobian(f_two_out, (tx,)))
    _same(F.jacobian(f_single, (x,), vectorize=True), TF.jacobian(f_single, (tx,), vectorize=True))


def test_jacobian_shape_is_output_then_input():
    x, _ = _pair(2, 3)
    y, _ = _pair(3, 4, seed=1)
    jx, jy = F.jacobian(f_two_in, (x, y))
    assert jx.shape == (2, 4, 2, 3) and jy.shape == (2, 4, 3, 4)


def test_hessian_single_and_tuple():
    x, tx = _pair(2, 3)
    _same(F.hessian(f_scalar, x), TF.hessian(f_scalar, tx))
    x, tx = _pair(3)
    y, ty = _pair(3, seed=1)
    _same(F.hessian(f_scalar_two, (x, y)), TF.hessian(f_scalar_two, (tx, ty)))


def test_vjp_and_jvp():
    x, tx = _pair(2, 3)
    y, ty = _pair(3, 2, seed=1)
    v, tv = _pair(2, 2, seed=2)
    _same(F.vjp(f_two_in, (x, y), v), TF.vjp(f_two_in, (tx, ty), tv))
    u1, tu1 = _pair(2, 3, seed=3)
    u2, tu2 = _pair(3, 2, seed=4)
    _same(F.jvp(f_two_in, (x, y), (u1, u2)), TF.jvp(f_two_in, (tx, ty), (tu1, tu2)))
    w, tw = _pair(2, 3, seed=5)
    _same(F.jvp(f_two_out, x, w), TF.jvp(f_two_out, tx, tw))


def test_vjp_scalar_output_allows_v_none():
    x, tx = _pair(4)
    _same(F.vjp(f_scalar, x), TF.vjp(f_scalar, tx))


def test_vjp_v_none_for_vector_output_raises():
    x, _ = _pair(4)
    with pytest.raises(RuntimeError, match="v can only be None"):
        F.vjp(f_single, x.reshape(2, 2))


def test_vhp_and_hvp():
    x, tx = _pair(3)
    y, ty = _pair(3, seed=1)
    a, ta = _pair(3, seed=2)
    b, tb = _pair(3, seed=3)
    _same(F.vhp(f_scalar_two, (x, y), (a, b)), TF.vhp(f_scalar_two, (tx, ty), (ta, tb)))
    _same(F.hvp(f_scalar_two, (x, y), (a, b)), TF.hvp(f_scalar_two, (tx, ty), (ta, tb)))
    z, tz = _pair(2, 3, seed=4)
    w, tw = _pair(2, 3, seed=5)
    _same(F.hvp(f_scalar, z, w), TF.hvp(f_scalar, tz, tw))


def test_hvp_requires_scalar_function():
    x, _ = _pair(3)
    with pytest.raises(RuntimeError, match="single element"):
        F.hvp(lambda t: t * 2, x, x)


def test_unused_input_gives_zeros_or_strict_error():
    x, tx = _pair(3)
    y, ty = _pair(3, seed=1)
    _same(F.jacobian(lambda a, b: a * 2, (x, y)), TF.jacobian(lambda a, b: a * 2, (tx, ty)))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    _same(F.vjp(lambda a, b: a.sum(), (x, y)), TF.vjp(lambda a, b: a.sum(), (tx, ty)))


def test_results_are_detached_unless_create_graph():
    x, _ = _pair(3, requires_grad=True)
    assert not F.jacobian(f_scalar, x).requires_grad
    j = F.jacobian(f_scalar, x, create_graph=True)
    assert j.requires_grad
    (g,) = deepnum.autograd.grad(j.sum(), x)
    tx = torch.tensor(x.array, requires_grad=True)
    (tg,) = torch.autograd.grad(TF.jacobian(f_scalar, tx, create_graph=True).sum(), tx)
    assert_close(g, tg)


def test_hessian_create_graph_gives_third_derivative():
    x, tx = _pair(3, requires_grad=True)
    h = F.hessian(lambda t: (t**4).sum(), x, create_graph=True)
    (g,) = deepnum.autograd.grad(h.sum(), x)
    assert_close(g, 24 * x.array)


def test_mismatched_v_shape_raises():
    x, _ = _pair(3)
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*\(3,\)"):
        F.jvp(lambda t: t * 2, x, deepnum.ones(2, dtype=deepnum.float64))
