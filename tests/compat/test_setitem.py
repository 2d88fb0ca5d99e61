"""``x[idx] = value`` with slices, strides, integer arrays and masks, against PyTorch.

Outside autograd the write goes into the tensor (and into any tensor sharing its memory);
inside autograd it is recorded, and the gradients of both the overwritten tensor and the
written value match PyTorch's.
"""

import numpy as np
import pytest
import torch

import deepnum
from tests.helpers import assert_close, to_torch

MASK = np.array(
    [
        [True, False, True, False],
        [False, False, True, True],
        [True, True, False, False],
        [False, True, False, True],
        [True, False, False, False],
    ]
)

# (index builder taking the tensor library, shape of the written region)
INDEXES = {
    "int": (lambda lib: 1, (4,)),
    "slice": (lambda lib: slice(1, 3), (2, 4)),
    "stride": (lambda lib: (slice(None, None, 2), slice(1, None, 2)), (3, 2)),
    "negative": (lambda lib: (-1, slice(None, -1)), (3,)),
    "int_array": (lambda lib: lib.tensor([4, 0, 2]), (3, 4)),
    "int_list": (lambda lib: [0, 3], (2, 4)),
    "rows_cols": (lambda lib: (lib.tensor([0, 2, 4]), lib.tensor([1, 3, 0])), (3,)),
    "slice_and_array": (lambda lib: (slice(1, 4), lib.tensor([0, 3])), (3, 2)),
    "mask": (lambda lib: lib.tensor(MASK), (int(MASK.sum()),)),
    "row_mask": (lambda lib: lib.tensor([True, False, False, True, True]), (3, 4)),
    "ellipsis": (lambda lib: (Ellipsis, 2), (5,)),
}


def _value(shape, rng, broadcast):
    if broadcast == "scalar":
        return rng.standard_normal(()).astype(np.float32)
    if broadcast == "row" and len(shape) >= 1:
        return rng.standard_normal(shape[-1:]).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("name", list(INDEXES))
@pytest.mark.parametrize("broadcast", ["full", "row", "scalar"])
def test_setitem_outside_autograd_matches_torch(name, broadcast):
    build, shape = INDEXES[name]
    rng = np.random.default_rng(0)
    base = rng.standard_normal((5, 4)).astype(np.float32)
    v = _value(shape, rng, broadcast)
    x, t = deepnum.tensor(base), torch.tensor(base)
    x[build(deepnum)] = deepnum.tensor(v)
    t[build(torch)] = torch.tensor(v)
    assert_close(x, t)
    x, t = deepnum.tensor(base), torch.tensor(base)
    x[build(deepnum)] = 2.5  # a Python number
    t[build(torch)] = 2.5
    assert_close(x, t)


@pytest.mark.parametrize("name", list(INDEXES))
@pytest.mark.parametrize("broadcast", ["full", "row", "scalar"])
def test_setitem_recorded_gradients_of_tensor_and_value(name, broadcast):
    build, shape = INDEXES[name]
    rng = np.random.default_rng(1)
    a = deepnum.tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    v = deepnum.tensor(_value(shape, rng, broadcast), requires_grad=True)
    w = rng.standard_normal((5, 4)).astype(np.float32)
    ta, tv = to_torch(a), to_torch(v)

    x = a * 2  # a non-leaf: PyTorch records the assignment
    x[build(deepnum)] = v * 3
    tx = ta * 2
    tx[build(torch)] = tv * 3
    assert_close(x, tx)
    ((x**2) * deepnum.tensor(w)).sum().backward()
    ((tx**2) * torch.tensor(w)).sum().backward()
    assert_close(a.grad, ta.grad, msg="gradient of the overwritten tensor")
    assert_close(v.grad, tv.grad, msg="gradient of the value")


def test_setitem_into_constant_tensor_records_value_gradient():
    v = deepnum.tensor([1.0, -2.0], requires_grad=True)
    tv = to_torch(v)
    x, tx = deepnum.zeros(2, 3), torch.zeros(2, 3)
    x[:, 1] = v
    tx[:, 1] = tv
    assert x.requires_grad and not x.is_leaf
    (x.exp().sum()).backward()
    (tx.exp().sum()).backward()
    assert_close(v.grad, tv.grad)


def test_setitem_repeated_on_the_same_tensor():
    """A loop filling rows one by one (as sequence models collect outputs) differentiates right."""
    h = deepnum.tensor(np.arange(3, dtype=np.float32), requires_grad=True)
    th = to_torch(h)
    out, tout = deepnum.zeros(4, 3), torch.zeros(4, 3)
    cur, tcur = h, th
    for i in range(4):
        cur, tcur = deepnum.tanh(cur * 0.5 + i), torch.tanh(tcur * 0.5 + i)
        out[i] = cur
        tout[i] = tcur
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert_close(h.grad, th.grad)


def test_setitem_through_views_and_data():
    x = deepnum.zeros(3, 4)
    x[1][2] = 5.0  # x[1] is a view, as in PyTorch
    x[:, 0][::2] = 1.0
    t = torch.zeros(3, 4)
    t[1][2] = 5.0
    t[:, 0][::2] = 1.0
    assert_close(x, t)
    w = deepnum.ones(2, 2, requires_grad=True)
    w.data[0] = 0.0
    with deepnum.no_grad():
        w[1, 1] = 3.0
    assert w.tolist() == [[0.0, 0.0], [1.0, 3.0]] and w.requires_grad and w.is_leaf


def test_setitem_casts_to_the_tensor_dtype():
    x = deepnum.zeros(3, dtype=deepnum.int64)
    x[0] = 2.7
    x[1:] = deepnum.tensor([1.9, -1.5])
    t = torch.zeros(3, dtype=torch.int64)
    t[0] = 2.7
    t[1:] = torch.tensor([1.9, -1.5])
    assert x.tolist() == t.tolist() and x.dtype == deepnum.int64


def test_setitem_errors_like_torch():
    w = deepnum.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 2.0
    x = deepnum.zeros(2, 3)
    with pytest.raises((RuntimeError, ValueError), match=r"shape|broadcast"):
        x[0] = deepnum.ones(4)
    with pytest.raises(IndexError, match="5"):
        x[5] = 1.0


@pytest.mark.parametrize(
    "case", ["chained_setitem", "three_levels", "view_mul_", "constant_base", "slice_view"]
)
def test_recorded_inplace_on_a_view_reaches_the_base(case):
    """PyTorch's views: ``x[0][1] = v`` or ``x[1].mul_(3)`` inside autograd change ``x`` and its graph."""
    rng = np.random.default_rng(7)
    a = deepnum.tensor(rng.standard_normal((3, 4, 2)).astype(np.float32), requires_grad=True)
    v = deepnum.tensor(rng.standard_normal(()).astype(np.float32), requires_grad=True)
    w = rng.standard_normal((3, 4, 2)).astype(np.float32)
    ta, tv = to_torch(a), to_torch(v)

    def run(lib, a, v):
        x = a * 2 if case != "constant_base" else lib.zeros(3, 4, 2)
        if case == "chained_setitem":
            x[0][1] = v
        elif case == "three_levels":
            x[1][2][0] = v * 3
        elif case == "view_mul_":
            x[1].mul_(v)
        elif case == "constant_base":
            x[2][1] = v
        else:
            view = x[:, 1:3]
            view[0] = v
            view.add_(1.0)
        return x

    x, tx = run(deepnum, a, v), run(torch, ta, tv)
    assert_close(x, tx)
    (x * deepnum.tensor(w)).sum().backward()
    (tx * torch.tensor(w)).sum().backward()
    if case != "constant_base":
        assert_close(a.grad, ta.grad)
    assert_close(v.grad, tv.grad)


SHAPE_VIEWS = {  # views that hold all of the base's elements, and narrow
    "view_add_": lambda x, v: x.view(12, 2).add_(v),
    "reshape_mul_": lambda x, v: x.reshape(-1).mul_(v),
    "flatten_setitem": lambda x, v: x.flatten().__setitem__(slice(3, 7), v),
    "transpose_setitem": lambda x, v: x.transpose(0, 2).__setitem__((1, 0), v),
    "permute_mul_": lambda x, v: x.permute(2, 0, 1)[1].mul_(v),
    "mT_add_": lambda x, v: x.mT.add_(v),
    "unsqueeze_squeeze": lambda x, v: x.unsqueeze(1).squeeze(1)[2].sub_(v),
    "narrow_mul_": lambda x, v: x.narrow(1, 1, 2).mul_(v),
    "view_of_view": lambda x, v: x.view(3, 8).t()[2].add_(v),
}


@pytest.mark.parametrize("case", sorted(SHAPE_VIEWS))
def test_recorded_inplace_on_a_reshaped_or_permuted_view_reaches_the_base(case):
    """``x.view(...).add_(v)``, ``x.transpose(0, 2)[1, 0] = v``... inside autograd change ``x``
    and its graph as in PyTorch, and the view keeps reading the base."""
    rng = np.random.default_rng(11)
    a = deepnum.tensor(rng.standard_normal((3, 4, 2)).astype(np.float32), requires_grad=True)
    v = deepnum.tensor(rng.standard_normal(()).astype(np.float32), requires_grad=True)
    w = rng.standard_normal((3, 4, 2)).astype(np.float32)
    ta, tv = to_torch(a), to_torch(v)
    x, tx = a * 2, ta * 2
    SHAPE_VIEWS[case](x, v)
    SHAPE_VIEWS[case](tx, tv)
    assert_close(x, tx)
    (x * deepnum.tensor(w)).sum().backward()
    (tx * torch.tensor(w)).sum().backward()
    assert_close(a.grad, ta.grad)
    assert_close(v.grad, tv.grad)


def test_inplace_through_views_gradcheck_float64():
    def f(a, v):
        x = a * 1.5
        x.view(4, 3).t()[1].mul_(v)
        x.transpose(0, 1).narrow(0, 1, 2).add_(v * v)
        return x * a

    rng = np.random.default_rng(5)
    a = deepnum.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    v = deepnum.tensor(rng.standard_normal(()), requires_grad=True)
    assert deepnum.autograd.gradcheck(f, (a, v))
    f(a, v).sum().backward()
    assert v.grad.item() != 0  # the in-place ops on the views did reach x


EARLIER_VIEWS = {  # views taken before an in-place op recorded on their base (or a sibling)
    "view": lambda x, v: [x.view(6, 4)],
    "transpose": lambda x, v: [x.transpose(0, 2)],
    "index": lambda x, v: [x[1:, 2]],
    "view_of_view": lambda x, v: [x.view(3, 8).t()[2:5]],
    "siblings": lambda x, v: [x[0], x[1:].reshape(-1)],
}
BASE_CHANGES = {
    "mul_": lambda x, views, v: x.mul_(v),
    "add_then_exp_": lambda x, views, v: x.add_(v).exp_(),
    "setitem": lambda x, views, v: x.__setitem__((slice(None), 1), v),
    "through_a_view": lambda x, views, v: views[0].mul_(v),
    "through_another_view": lambda x, views, v: x.view(-1)[3:9].sub_(v),
}


@pytest.mark.parametrize("change", sorted(BASE_CHANGES))
@pytest.mark.parametrize("views", sorted(EARLIER_VIEWS))
def test_views_taken_earlier_read_the_base_after_a_recorded_inplace_op(views, change):
    """PyTorch's views share their base's memory: after ``x.mul_(v)`` (or an in-place op on
    another view of x) a view taken before holds x's new values, and gradients through it
    reach v and the in-place op's graph."""
    rng = np.random.default_rng(len(views) + len(change))
    a = deepnum.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    v = deepnum.tensor(rng.standard_normal(()), requires_grad=True)
    ta, tv = to_torch(a), to_torch(v)

    def run(a, v):
        x = a * 1.5
        taken = EARLIER_VIEWS[views](x, v)
        BASE_CHANGES[change](x, taken, v)
        return sum((t * (i + 2)).sum() for i, t in enumerate(taken)) + (x * x).sum(), taken

    (out, taken), (tout, ttaken) = run(a, v), run(ta, tv)
    for view, tview in zip(taken, ttaken):
        assert_close(view, tview)
    assert_close(out, tout)
    out.backward()
    tout.backward()
    assert_close(a.grad, ta.grad)
    assert_close(v.grad, tv.grad)


def test_earlier_views_gradcheck_float64():
    def f(a, v):
        x = a * 1.5
        rows, cols = x[1], x.t()
        x.mul_(v)
        cols[0].add_(v * v)
        return rows * cols[:, 1] + x[0]

    rng = np.random.default_rng(9)
    a = deepnum.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    v = deepnum.tensor(rng.standard_normal(()), requires_grad=True)
    assert deepnum.autograd.gradcheck(f, (a, v))


def test_a_view_made_under_no_grad_reads_its_base_after_a_recorded_inplace_op():
    """PyTorch refuses to use such a view (it calls the case ambiguous); deepnum's reads the
    base's new values."""
    a = deepnum.ones(2, 3, requires_grad=True)
    x = a * 1
    with deepnum.no_grad():
        flat = x.view(6)
    x.add_(a)
    assert flat.tolist() == [2.0] * 6
    with deepnum.no_grad():
        y = deepnum.zeros(2, 3)
        y.view(6)[0] = 5.0  # outside autograd every view shares the array
    assert y[0, 0].item() == 5.0


def test_a_reshape_that_copies_is_not_a_view():
    a = deepnum.ones(2, 3, requires_grad=True)
    x = a * 1
    copy = x.t().reshape(6)  # not contiguous: reshape copies, in PyTorch too
    copy.add_(1)
    assert x.tolist() == [[1.0] * 3] * 2


def test_inplace_on_a_view_of_a_leaf_raises_like_torch():
    a = deepnum.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf tensor that requires grad"):
        a[0][1] = 2.0
    with pytest.raises(RuntimeError, match=r"mul_: a view of a leaf tensor that requires grad"):
        a[1].mul_(2)
    with deepnum.no_grad():
        a[0][1] = 7.0
    assert a.tolist() == [[1.0, 7.0, 1.0], [1.0, 1.0, 1.0]] and a.is_leaf
