"""Less common helpers against PyTorch: windows, rotations, running extremes, quantiles, NaN-aware sums."""

import numpy as np
import pytest
import torch

import deepnum
from tests.ops._common import compare

OPS = [
    ("ravel", lambda m, x: x.ravel(), [(2, 3, 4)]),
    ("fliplr_flipud", lambda m, x: m.fliplr(x) * m.flipud(x), [(3, 3)]),
    ("rot90", lambda m, x: m.rot90(x, 1, (1, 2)), [(2, 3, 4)]),
    ("rot90_k2", lambda m, x: x.rot90(2), [(3, 4)]),
    ("rot90_k3", lambda m, x: m.rot90(x, -1, (0, 2)), [(2, 3, 4)]),
    ("unfold", lambda m, x: x.unfold(0, 3, 2), [(9,)]),
    ("unfold_mid", lambda m, x: x.unfold(1, 2, 1), [(2, 4, 3)]),
    ("unfold_last", lambda m, x: x.unfold(-1, 4, 3), [(2, 10)]),
    ("atleast_3d", lambda m, x: m.atleast_3d(x), [(3, 4)]),
    ("hsplit_vsplit", lambda m, x: m.hsplit(x, 2) + m.vsplit(x, [1]), [(3, 4)]),
    ("dstack", lambda m, x: m.dstack([x, x * 2]), [(3, 4)]),
    ("column_stack", lambda m, x: m.column_stack([x[0], x.T]), [(4, 4)]),
    ("block_diag", lambda m, x: m.block_diag(x, x[:2, :1], x[0]), [(3, 4)]),
    ("cartesian_prod", lambda m, x: m.cartesian_prod(x[0], x[1, :2]), [(2, 3)]),
    ("index_copy", lambda m, x: x.index_copy(1, m.tensor([2, 0]), x[:, :2] * 3), [(3, 4)]),
    ("cummax", lambda m, x: m.cummax(x, 1), [(3, 5)]),
    ("cummin", lambda m, x: x.cummin(dim=-1), [(2, 6)]),
    ("quantile", lambda m, x: m.quantile(x, 0.3), [(3, 5)]),
    ("quantile_dim", lambda m, x: x.quantile(m.tensor([0.25, 0.5, 1.0], dtype=x.dtype), dim=1, keepdim=True), [(3, 5)]),
    ("quantile_lower", lambda m, x: m.quantile(x, 0.4, dim=0, interpolation="lower"), [(4, 3)]),
    ("quantile_midpoint", lambda m, x: m.quantile(x, 0.4, dim=-1, interpolation="midpoint"), [(4, 3)]),
    ("quantile_nearest", lambda m, x: m.quantile(x, 0.65, interpolation="nearest"), [(4, 3)]),
    ("msort", lambda m, x: m.msort(x), [(4, 3)]),
    ("nansum", lambda m, x: m.nansum(m.where(x > 1, float("nan"), x), 1), [(3, 4)]),
    ("nanmean", lambda m, x: x.masked_fill(x > 1, float("nan")).nanmean(0, keepdim=True), [(3, 4)]),
    ("deg2rad", lambda m, x: m.deg2rad(x) + m.rad2deg(x), [(3,)]),
    ("sgn", lambda m, x: x.sgn() * x, [(3,)]),
]


@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[o[0] for o in OPS])
def test_more_ops(name, fn, shapes):
    compare(fn, shapes, gradcheck=not name.startswith("nan"))


def test_cummax_ties_take_the_latest_index():
    compare(lambda m, x: m.cummax(x, 0), [], inputs=[deepnum.tensor([1.0, 3.0, 3.0, 2.0, 5.0, 5.0], requires_grad=True)],
            gradcheck=False)


@pytest.mark.parametrize("fn", [
    lambda m: m.triu_indices(3, 4, 1), lambda m: m.tril_indices(4, 3, -1),
    lambda m: m.histc(m.tensor([1.0, 2.0, 1.0, 4.0]), bins=4, min=0, max=3),
    lambda m: m.histc(m.tensor([1.0, 2.0, 1.0, 4.0]), bins=3),
    lambda m: m.arange(6).reshape(2, 3).t().stride(),
], ids=lambda f: "")
def test_no_grad_helpers(fn):
    ours, theirs = fn(deepnum), fn(torch)
    if isinstance(theirs, tuple):
        assert ours == theirs
        return
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_unfold_size_too_large():
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 3 but size is 4"):
        deepnum.zeros(3).unfold(0, 4, 1)
