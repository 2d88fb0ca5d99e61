"""Transcendental functions, predicates, matrix helpers and selection helpers against PyTorch."""

import numpy as np
import pytest
import torch

import deepnum
from tests.helpers import assert_close
from tests.ops._common import compare, inputs_for

SPECIAL = [
    ("tan", lambda m, x: m.tan(x), -1.2, 1.2),
    ("asin", lambda m, x: m.asin(x), -0.9, 0.9),
    ("acos", lambda m, x: x.acos(), -0.9, 0.9),
    ("atan", lambda m, x: m.atan(x), -3, 3),
    ("sinh", lambda m, x: m.sinh(x), -2, 2),
    ("cosh", lambda m, x: x.cosh(), -2, 2),
    ("log2", lambda m, x: m.log2(x), 0.2, 3),
    ("log10", lambda m, x: x.log10(), 0.2, 3),
    ("exp2", lambda m, x: m.exp2(x), -2, 2),
    ("logit", lambda m, x: m.logit(x), 0.1, 0.9),
    ("logit_eps", lambda m, x: x.logit(eps=0.2), 0.0, 1.0),
    ("nan_to_num", lambda m, x: m.nan_to_num(m.log(x)), -1, 2),
    ("remainder_scalar", lambda m, x: x % 0.7, -2, 2),
    ("fmod_scalar", lambda m, x: m.fmod(x, 0.7), -2, 2),
    ("cumprod", lambda m, x: m.cumprod(x, 1), 0.5, 1.5),
    ("cumprod_neg", lambda m, x: x.cumprod(-2), -1.5, -0.5),
    ("diagonal", lambda m, x: m.diagonal(x), -2, 2),
    ("diagonal_offset", lambda m, x: x.diagonal(1, 0, 1), -2, 2),
    ("diagonal_neg", lambda m, x: m.diagonal(x, -1), -2, 2),
    ("diag_of_matrix", lambda m, x: m.diag(x, 1), -2, 2),
    ("diag_of_vector", lambda m, x: m.diag(x[0], -1), -2, 2),
    ("diag_embed", lambda m, x: m.diag_embed(x), -2, 2),
    ("trace", lambda m, x: m.trace(x), -2, 2),
    ("movedim", lambda m, x: m.movedim(x.unsqueeze(0), 0, -1), -2, 2),
    ("movedim_list", lambda m, x: x.unsqueeze(0).movedim([0, 2], [1, 0]), -2, 2),
    ("unflatten", lambda m, x: m.unflatten(x, 1, (2, -1)), -2, 2),
    ("broadcast_to", lambda m, x: m.broadcast_to(x[:1], (2, 3, 4)), -2, 2),
    ("atleast_2d", lambda m, x: m.atleast_2d(x[0]), -2, 2),
    ("tile", lambda m, x: m.tile(x, (2,)), -2, 2),
    ("select", lambda m, x: m.select(x, 1, -2), -2, 2),
    ("masked_select", lambda m, x: m.masked_select(x, x[:1] > 0), -2, 2),
    ("take", lambda m, x: m.take(x, m.tensor([[0, 5], [11, 5]])), -2, 2),
    ("take_along_dim", lambda m, x: m.take_along_dim(x, m.tensor([[0], [3], [1]]), 1), -2, 2),
    ("take_along_dim_flat", lambda m, x: m.take_along_dim(x, m.tensor([3, 1])), -2, 2),
    ("take_along_dim_bcast", lambda m, x: m.take_along_dim(x, m.tensor([[0, 2]]), dim=1), -2, 2),
    ("diff", lambda m, x: m.diff(x), -2, 2),
    ("diff_twice", lambda m, x: x.diff(n=2, dim=0), -2, 2),
    ("index_add", lambda m, x: m.index_add(x, 0, m.tensor([0, 2, 0]), x * 2, alpha=0.5), -2, 2),
    ("meshgrid_ij", lambda m, x: m.meshgrid(x[0], x[1, :2], indexing="ij"), -2, 2),
    ("meshgrid_xy", lambda m, x: m.meshgrid(x[0], x[1, :2], indexing="xy"), -2, 2),
    ("logaddexp_self", lambda m, x: m.logaddexp(x, x.flip(0)), -2, 2),
]


@pytest.mark.parametrize("name,fn,low,high", SPECIAL, ids=[s[0] for s in SPECIAL])
def test_special(name, fn, low, high):
    compare(fn, [(3, 4)], low=low, high=high, gradcheck=name != "nan_to_num")


BINARY = [
    ("atan2", lambda m, a, b: m.atan2(a, b)),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b)),
    ("remainder", lambda m, a, b: m.remainder(a, b + 3)),
    ("fmod", lambda m, a, b: a.fmod(b - 3)),
    ("addmm", lambda m, a, b: m.addmm(a[0, :3], a, b, beta=0.5, alpha=2)),
    ("cross", lambda m, a, b: m.cross(a[:, :3], b[:, :3], dim=1)),
    ("cdist", lambda m, a, b: m.cdist(a, b)),
    ("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1)),
    ("dist", lambda m, a, b: m.dist(a, b)),
    ("tensordot", lambda m, a, b: m.tensordot(a, b, dims=([1], [1]))),
    ("broadcast_tensors", lambda m, a, b: m.broadcast_tensors(a[:, :1], b[:1])),
    ("xlogy", lambda m, a, b: m.xlogy(a, b * b + 0.1)),
    ("xlogy_zero", lambda m, a, b: m.xlogy(m.relu(a), b * b)),
    ("special_namespace", lambda m, a, b: m.special.expit(a) * m.special.ndtr(b) + m.special.erfc(a)
     + m.special.logsumexp(a, 1, keepdim=True) * m.special.softmax(b, 0)),
]


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
def test_binary_extras(name, fn):
    shapes = [(3, 4), (4, 3)] if name == "addmm" else [(3, 4), (2, 4)] if "cdist" in name else [(3, 4), (3, 4)]
    compare(fn, shapes)


def test_baddbmm_and_tensordot_int_dims():
    compare(lambda m, i, a, b: m.baddbmm(i, a, b, beta=2.0), [(2, 3, 5), (2, 3, 4), (2, 4, 5)])
    compare(lambda m, a, b: m.tensordot(a, b, 2), [(2, 3, 4), (3, 4, 5)])


PREDICATES = [
    lambda m, x: m.isnan(x), lambda m, x: x.isinf(), lambda m, x: m.isfinite(x),
    lambda m, x: x.signbit(), lambda m, x: m.all(x > -5), lambda m, x: x.any(dim=1),
    lambda m, x: (x > 0).all(0, keepdim=True), lambda m, x: m.nonzero(x > 0),
    lambda m, x: m.nonzero(x > 0, as_tuple=True), lambda m, x: m.count_nonzero(x > 0, dim=1),
    lambda m, x: m.isclose(x, x + 1e-9), lambda m, x: x // 0.5, lambda m, x: m.floor_divide(x, -0.3),
    lambda m, x: m.unique(m.round(x)), lambda m, x: m.unique(m.round(x), return_inverse=True, return_counts=True),
    lambda m, x: m.bincount(m.tensor([0, 3, 3, 1])), lambda m, x: m.bincount(m.tensor([0, 3, 3]), weights=x[0, :3], minlength=6),
    lambda m, x: m.tensor([7, -7]) % 3, lambda m, x: m.tensor([7, -7]) // 2, lambda m, x: m.fmod(m.tensor([7, -7]), 3),
    lambda m, x: m.nonzero(x[0, 0] > 0),
]


@pytest.mark.parametrize("fn", PREDICATES, ids=[str(i) for i in range(len(PREDICATES))])
def test_predicates_and_integer_ops(fn):
    x = deepnum.tensor(np.array([[0.5, -1.0, np.inf, np.nan], [0.0, 2.5, -np.inf, -0.25]]))
    ours, theirs = fn(deepnum, x), fn(torch, torch.tensor(x.numpy()))
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for o, t in zip(ours, theirs, strict=True):
        assert str(o.dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_allclose_and_equal():
    a = deepnum.tensor([1.0, 2.0])
    assert deepnum.allclose(a, a + 1e-9) and not deepnum.allclose(a, a + 1e-3)
    assert deepnum.equal(a, deepnum.tensor([1.0, 2.0])) and not deepnum.equal(a, deepnum.tensor([1.0]))


def test_cross_without_dim_warns_like_torch():
    a, b = inputs_for([(2, 3), (2, 3)], requires_grad=False)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        out = deepnum.cross(a, b)
    assert_close(out, torch.linalg.cross(torch.tensor(a.numpy()), torch.tensor(b.numpy())))


def test_inplace_variants_of_extras():
    x = deepnum.tensor([[0.5, -1.5], [2.0, 3.0]])
    x.remainder_(1.0)
    x.index_add_(0, deepnum.tensor([1]), deepnum.ones(1, 2))
    t = torch.tensor([[0.5, -1.5], [2.0, 3.0]])
    t.remainder_(1.0)
    t.index_add_(0, torch.tensor([1]), torch.ones(1, 2))
    assert_close(x, t)


@pytest.mark.parametrize("fn", [
    lambda m: ~m.tensor([1, -2]), lambda m: ~m.tensor([True, False]), lambda m: m.tensor([6, 3]) & m.tensor([3, 1]),
    lambda m: m.tensor([6, 3]) | 8, lambda m: m.tensor([True, False]) ^ m.tensor([True, True]),
    lambda m: (m.arange(4) > 1) & (m.arange(4) < 3), lambda m: m.arange(3.0) == 1.0, lambda m: m.arange(3) != m.tensor([0, 0, 2]),
    lambda m: m.logical_xor(m.tensor([1, 0]), m.tensor([1, 1])), lambda m: m.tensor([1.0, 2.0]) >= m.tensor([[1], [3]]),
    lambda m: m.norm(m.tensor([0.0, 1.5, -2.0]), p=0),
], ids=lambda f: "")
def test_comparisons_and_bitwise(fn):
    ours, theirs = fn(deepnum), fn(torch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_comparison_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"lt: shapes \(2,\) and \(3,\) do not broadcast"):
        deepnum.zeros(2) < deepnum.zeros(3)
