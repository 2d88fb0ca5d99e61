"""In-place methods: recorded by autograd on non-leaf tensors, in place outside autograd."""

import numpy as np
import pytest
import torch

import deepnum
from tests.ops._common import compare

INPLACE = [
    ("add_", lambda m, y, v: y.add_(v, alpha=2)),
    ("mul_", lambda m, y, v: y.mul_(v)),
    ("div_", lambda m, y, v: y.div_(v * v + 1)),
    ("clamp_", lambda m, y, v: y.clamp_(min=-0.5, max=0.5).mul_(v)),
    ("exp_", lambda m, y, v: y.add_(v).exp_()),
    ("floor_", lambda m, y, v: y.floor_().add_(v)),
    ("masked_fill_", lambda m, y, v: y.masked_fill_(v > 0, 2.0).add_(v)),
    ("scatter_", lambda m, y, v: y.scatter_(1, m.tensor([[0, 2], [1, 0], [3, 1]]), v[:, :2])),
    ("scatter_add_", lambda m, y, v: y.scatter_add_(0, m.tensor([[0, 2, 1, 0]]), v[:1])),
    ("index_put_", lambda m, y, v: y.index_put_((m.tensor([0, 2]),), v[1])),
    ("iadd", lambda m, y, v: y.__iadd__(v)),
    ("copy_", lambda m, y, v: y.copy_(v[0])),
    ("lerp_", lambda m, y, v: y.lerp_(v, 0.25)),
    ("addcmul_", lambda m, y, v: y.addcmul_(v, v, value=0.5)),
]


@pytest.mark.parametrize("name,op", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_on_non_leaf_is_recorded(name, op):
    def fn(m, x, v):
        y = x * 1.5
        out = op(m, y, v)
        assert out is y
        return y * x

    compare(fn, [(3, 4), (3, 4)], gradcheck=name != "floor_")


@pytest.mark.parametrize("name,op", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_outside_autograd_writes_into_the_array(name, op):
    rng = np.random.default_rng(0)
    x, v = rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (3, 4))
    ours = deepnum.tensor(x)
    alias = ours.data
    op(deepnum, ours, deepnum.tensor(v))
    theirs = torch.tensor(x)
    op(torch, theirs, torch.tensor(v))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    np.testing.assert_allclose(alias.numpy(), theirs.numpy())


def test_inplace_on_leaf_requiring_grad_raises():
    w = deepnum.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1)
    with deepnum.no_grad():
        w.add_(1)
    assert w.tolist() == [2.0, 2.0]
