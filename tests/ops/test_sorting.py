"""sort, argsort, topk, kthvalue and median against PyTorch."""

import numpy as np
import pytest
import torch

import deepnum
from tests.ops._common import compare

SORTING = [
    ("sort", lambda m, x: m.sort(x)),
    ("sort_dim0_desc", lambda m, x: x.sort(0, descending=True)),
    ("argsort", lambda m, x: m.argsort(x, dim=1)),
    ("argsort_desc", lambda m, x: x.argsort(-1, descending=True)),
    ("topk", lambda m, x: m.topk(x, 2)),
    ("topk_smallest_dim0", lambda m, x: x.topk(2, dim=0, largest=False)),
    ("kthvalue", lambda m, x: m.kthvalue(x, 3, 1)),
    ("kthvalue_keep", lambda m, x: x.kthvalue(1, 0, keepdim=True)),
    ("median_all", lambda m, x: x.median()),
    ("median_dim", lambda m, x: m.median(x, 1)),
    ("median_dim_keep", lambda m, x: x.median(-2, keepdim=True)),
]


@pytest.mark.parametrize("name,fn", SORTING, ids=[s[0] for s in SORTING])
def test_sorting(name, fn):
    compare(fn, [(4, 5)])


TIES = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.0, 0.0, 5.0, 5.0, 0.0]])


@pytest.mark.parametrize("fn", [
    lambda m, x: m.sort(x, stable=True), lambda m, x: x.sort(descending=True, stable=True),
    lambda m, x: x.argsort(stable=True), lambda m, x: x.median(),
    lambda m, x: m.sort(x.reshape(-1), stable=True),
], ids=lambda f: "")
def test_sorting_ties(fn):
    compare(fn, [], inputs=[deepnum.tensor(TIES, requires_grad=True)], gradcheck=False)


def test_sorting_nan_is_largest():
    values = [2.0, float("nan"), -1.0]
    for descending in (False, True):
        ours = deepnum.sort(deepnum.tensor(values), descending=descending)
        theirs = torch.sort(torch.tensor(values), descending=descending)
        assert ours.indices.tolist() == theirs.indices.tolist()


def test_topk_k_out_of_range():
    with pytest.raises(RuntimeError, match=r"topk: k \(6\) is out of range for dimension 1 of size 5"):
        deepnum.zeros(2, 5).topk(6)
    with pytest.raises(IndexError, match="dimension out of range"):
        deepnum.zeros(2, 5).sort(2)
