"""Reductions, extremes and the log-domain ops against PyTorch (dim, keepdim, ties, edge shapes)."""

import numpy as np
import pytest
import torch

import deepnum
from tests.helpers import assert_close
from tests.ops._common import compare, inputs_for

REDUCTIONS = [
    ("sum_all", lambda m, x: x.sum()),
    ("sum_dim", lambda m, x: m.sum(x, 1)),
    ("sum_neg_keep", lambda m, x: x.sum(-1, keepdim=True)),
    ("sum_tuple", lambda m, x: x.sum((0, 2))),
    ("mean_all", lambda m, x: x.mean()),
    ("mean_dim", lambda m, x: m.mean(x, dim=-2, keepdim=True)),
    ("mean_tuple", lambda m, x: x.mean((0, -1))),
    ("var_all", lambda m, x: x.var()),
    ("var_dim", lambda m, x: m.var(x, 1)),
    ("var_biased", lambda m, x: x.var(-1, unbiased=False, keepdim=True)),
    ("var_correction", lambda m, x: m.var(x, dim=(0, 1), correction=0)),
    ("var_legacy_bool", lambda m, x: m.var(x, False)),
    ("std_all", lambda m, x: x.std()),
    ("std_dim", lambda m, x: m.std(x, dim=0, keepdim=True)),
    ("std_correction", lambda m, x: x.std(dim=1, correction=2)),
    ("prod_all", lambda m, x: x.prod()),
    ("prod_dim", lambda m, x: m.prod(x, 1)),
    ("prod_keep", lambda m, x: x.prod(-1, keepdim=True)),
    ("cumsum", lambda m, x: m.cumsum(x, 1)),
    ("cumsum_neg", lambda m, x: x.cumsum(-1)),
    ("norm", lambda m, x: x.norm()),
    ("norm_dim", lambda m, x: m.norm(x, dim=1)),
    ("norm_fro", lambda m, x: m.norm(x, p="fro", dim=(1, 2), keepdim=True)),
    ("norm_p1", lambda m, x: x.norm(p=1, dim=-1)),
    ("norm_p3", lambda m, x: x.norm(p=3)),
    ("norm_inf", lambda m, x: m.norm(x, p=float("inf"), dim=0)),
    ("norm_ninf", lambda m, x: m.norm(x, p=float("-inf"))),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1)),
    ("logsumexp_tuple", lambda m, x: x.logsumexp((0, 2), keepdim=True)),
    ("softmax", lambda m, x: m.softmax(x, 1)),
    ("softmax_neg", lambda m, x: x.softmax(-1)),
    ("log_softmax", lambda m, x: m.log_softmax(x, 0)),
    ("log_softmax_neg", lambda m, x: x.log_softmax(dim=-1)),
    ("max_all", lambda m, x: x.max()),
    ("min_all", lambda m, x: m.min(x)),
    ("max_dim", lambda m, x: m.max(x, 1)),
    ("max_dim_keep", lambda m, x: x.max(dim=-1, keepdim=True)),
    ("min_dim", lambda m, x: m.min(x, 0)),
    ("amax", lambda m, x: m.amax(x, 1)),
    ("amax_tuple", lambda m, x: x.amax((0, 2), keepdim=True)),
    ("amin", lambda m, x: m.amin(x, -1)),
    ("argmax", lambda m, x: m.argmax(x, 1)),
    ("argmax_all", lambda m, x: x.argmax()),
    ("argmin_keep", lambda m, x: m.argmin(x, -1, keepdim=True)),
]


@pytest.mark.parametrize("name,fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction(name, fn):
    compare(fn, [(3, 4, 2)], low=0.3 if "prod" in name else -2.0)


@pytest.mark.parametrize("name,fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction_float32(name, fn):
    compare(fn, [(4, 3, 5)], dtype=np.float32, gradcheck=False)


ZERO_D = [
    lambda m, x: x.sum(), lambda m, x: x.sum(0), lambda m, x: x.mean(-1), lambda m, x: x.prod(0),
    lambda m, x: x.cumsum(0), lambda m, x: x.max(), lambda m, x: x.max(0), lambda m, x: x.amax(0),
    lambda m, x: x.argmax(0), lambda m, x: m.softmax(x, 0), lambda m, x: m.log_softmax(x, -1),
    lambda m, x: x.logsumexp(0), lambda m, x: x.norm(), lambda m, x: x.var(correction=0),
]


@pytest.mark.parametrize("fn", ZERO_D, ids=[str(i) for i in range(len(ZERO_D))])
def test_zero_dim_reductions(fn):
    compare(fn, [()])


EMPTY = [
    lambda m, x: x.sum(), lambda m, x: x.sum(0), lambda m, x: x.sum(1), lambda m, x: x.mean(1),
    lambda m, x: x.prod(0), lambda m, x: x.cumsum(0), lambda m, x: x.amax(1), lambda m, x: x.max(1),
    lambda m, x: x.argmax(1), lambda m, x: m.softmax(x, 0), lambda m, x: m.logsumexp(x, 1),
    lambda m, x: x.norm(dim=1),
]


@pytest.mark.parametrize("fn", EMPTY, ids=[str(i) for i in range(len(EMPTY))])
def test_empty_reductions(fn):
    compare(fn, [(0, 3)], gradcheck=False)


def test_mean_of_empty_is_nan_like_torch():
    compare(lambda m, x: x.mean(), [(0, 3)], gradcheck=False)


# ------------------------------------------------------------------------------ ties
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 5.0], [4.0, 1.0, 4.0, 4.0]])
TIE_FNS = [
    ("max_all_even", lambda m, x: x.max()),
    ("min_all_even", lambda m, x: x.min()),
    ("amax_even", lambda m, x: m.amax(x, 1)),
    ("amin_even", lambda m, x: x.amin(0)),
    ("max_dim_index", lambda m, x: m.max(x, 1)),
    ("min_dim_index", lambda m, x: m.min(x, 1, keepdim=True)),
    ("argmax_first", lambda m, x: m.argmax(x, 1)),
    ("argmin_first", lambda m, x: m.argmin(x)),
    ("norm_inf_even", lambda m, x: m.norm(x, p=float("inf"))),
]


@pytest.mark.parametrize("name,fn", TIE_FNS, ids=[t[0] for t in TIE_FNS])
def test_ties_follow_torch(name, fn):
    x = deepnum.tensor(TIES, requires_grad=True)
    compare(fn, [], inputs=[x], gradcheck=False)


def test_max_with_dim_returns_named_values_and_indices():
    x = deepnum.tensor(TIES)
    out = deepnum.max(x, dim=1)
    values, indices = out
    assert out.values is values and out.indices is indices
    assert indices.dtype == deepnum.int64
    assert indices.tolist() == [1, 3, 0]


def test_prod_with_zeros_matches_torch():
    x = deepnum.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]], dtype=deepnum.float64, requires_grad=True)
    compare(lambda m, x: m.prod(x, 1), [], inputs=[x], gradcheck=False)
    x.grad = None
    compare(lambda m, x: x.prod(), [], inputs=[x], gradcheck=False)


def test_norm_gradient_at_zero_is_zero():
    compare(lambda m, x: x.norm(dim=1), [], inputs=[deepnum.zeros(2, 3, dtype=deepnum.float64, requires_grad=True)],
            gradcheck=False)


def test_var_with_too_few_elements_warns_and_gives_nan():
    x = deepnum.tensor([1.0])
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(x.var().item())


# ------------------------------------------------------------------ numerical stability
def test_softmax_and_logsumexp_are_stable_for_huge_inputs():
    x = deepnum.tensor([[1000.0, 1000.0, -1000.0], [-1e4, 0.0, 1e4]], requires_grad=True)
    for fn in (lambda m, x: m.softmax(x, 1), lambda m, x: m.log_softmax(x, 1), lambda m, x: m.logsumexp(x, 1)):
        x.grad = None
        compare(fn, [], inputs=[x], gradcheck=False)


def test_logsumexp_of_all_minus_inf_is_minus_inf():
    y = deepnum.logsumexp(deepnum.tensor([-float("inf"), -float("inf")]), 0)
    assert y.item() == -float("inf")


def test_softmax_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = deepnum.softmax(deepnum.ones(2, 3))
    assert_close(y, torch.full((2, 3), 1 / 3))


@pytest.mark.parametrize("dtype", [deepnum.float64, deepnum.float32])
def test_softmax_dtype_argument(dtype):
    x = inputs_for([(2, 3)], dtype=np.float32)[0]
    for name in ("softmax", "log_softmax"):
        ours = getattr(deepnum, name)(x, 1, dtype=dtype)
        theirs = getattr(torch, name)(torch.tensor(x.detach().numpy()), 1, dtype=getattr(torch, str(dtype)))
        assert ours.dtype == dtype
        assert_close(ours, theirs)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("fn", [
    lambda x: x.sum(3), lambda x: x.mean(-4), lambda x: x.max(2), lambda x: x.argmax(5),
    lambda x: x.softmax(2), lambda x: x.cumsum(-3), lambda x: x.amax((0, 3)), lambda x: x.var(2),
    lambda x: x.logsumexp(2), lambda x: x.prod(2), lambda x: x.norm(dim=4),
], ids=lambda f: "")
def test_bad_dim_is_index_error(fn):
    with pytest.raises(IndexError, match=r"Dimension out of range|dimension out of range"):
        fn(deepnum.zeros(2, 3))


def test_reducing_empty_without_dim_raises_like_torch():
    with pytest.raises(RuntimeError, match="max\\(\\): Expected reduction dim to be specified"):
        deepnum.zeros(0, 3).max()
    with pytest.raises(IndexError, match="amax\\(\\): Expected reduction dim 0 to have non-zero size"):
        deepnum.zeros(0, 3).amax(0)
