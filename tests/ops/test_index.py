"""Indexing, assignment, gather/scatter and masks against PyTorch."""

import numpy as np
import pytest
import torch

import deepnum
from tests.helpers import assert_close
from tests.ops._common import compare, inputs_for


def _idx(m, values):
    return m.tensor(values)


GETITEM = [
    ("int", lambda m, x: x[1]),
    ("neg_int", lambda m, x: x[-1, 2]),
    ("slice", lambda m, x: x[1:, ::2]),
    ("slice_step", lambda m, x: x[:, 1:4:2, -3:]),
    ("none", lambda m, x: x[None, :, None]),
    ("ellipsis", lambda m, x: x[..., 1]),
    ("ellipsis_mid", lambda m, x: x[0, ..., None, 2:]),
    ("int_tensor", lambda m, x: x[_idx(m, [2, 0, 2])]),
    ("int_list", lambda m, x: x[[0, 2, 0]]),
    ("two_int_tensors", lambda m, x: x[_idx(m, [0, 2]), _idx(m, [1, 3])]),
    ("adv_separated", lambda m, x: x[_idx(m, [0, 1]), :, _idx(m, [2, 3])]),
    ("adv_broadcast", lambda m, x: x[_idx(m, [[0], [2]]), _idx(m, [1, 2, 3])]),
    ("int_and_slice", lambda m, x: x[1:, _idx(m, [3, 3, 0])]),
    ("bool_mask", lambda m, x: x[x > 0.5]),
    ("bool_row_mask", lambda m, x: x[_idx(m, [True, False, True])]),
    ("bool_mask_2d", lambda m, x: x[:, _idx(m, [[True, False, True, False, True]] * 4)]),
    ("zero_d_index", lambda m, x: x[m.tensor(1)]),
    ("empty_list", lambda m, x: x[[]]),
    ("empty_slice", lambda m, x: x[2:1]),
]


@pytest.mark.parametrize("name,fn", GETITEM, ids=[g[0] for g in GETITEM])
def test_getitem(name, fn):
    compare(fn, [(3, 4, 5)])


def test_getitem_zero_dim():
    compare(lambda m, x: x[None], [()])
    compare(lambda m, x: x[...], [()])


def test_negative_step_raises_value_error_like_torch():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        deepnum.arange(5)[::-1]


@pytest.mark.parametrize("fn,err,match", [
    (lambda x: x[3], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[0, -5], IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    (lambda x: x[deepnum.tensor([0, 7])], IndexError, "index 7 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[deepnum.tensor([1.0])], IndexError, "tensors used as indices must be long, int, byte or bool"),
    (lambda x: x[deepnum.tensor([True, False])], IndexError, r"shape of the mask \[2\] at index 0 does not match"),
])
def test_getitem_errors(fn, err, match):
    with pytest.raises(err, match=match):
        fn(deepnum.zeros(3, 4))


# --------------------------------------------------------------------- assignment
SETITEM = [
    ("slice", lambda m, v: (slice(1, 3), v[0])),
    ("int", lambda m, v: (0, v[1])),
    ("strided", lambda m, v: ((slice(None), slice(0, 4, 2)), v[:, :2])),
    ("int_tensor", lambda m, v: (_idx(m, [0, 2]), v[:2])),
    ("mask", lambda m, v: (_idx(m, [True, False, True]), v[:2])),
    ("broadcast_value", lambda m, v: ((slice(None), 1), v[0, 0])),
    ("scalar", lambda m, v: ((1, 2), 2.5)),
]


@pytest.mark.parametrize("name,make", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem_recorded_by_autograd(name, make):
    def fn(m, a, v):
        y = a * 1.0
        index, value = make(m, v)
        y[index] = value
        return y * y + v

    compare(fn, [(3, 4), (3, 4)])


def test_setitem_outside_autograd_writes_in_place():
    x = deepnum.zeros(3, 4)
    view = x.data
    x[1:, deepnum.tensor([0, 3])] = 5.0
    x[x > 4] += 1
    x[0] = deepnum.arange(4).float()
    expected = torch.zeros(3, 4)
    expected[1:, torch.tensor([0, 3])] = 5.0
    expected[expected > 4] += 1
    expected[0] = torch.arange(4).float()
    assert_close(x, expected)
    assert_close(view, expected)


def test_setitem_on_leaf_requiring_grad_raises():
    x = deepnum.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] = 1.0


def test_setitem_value_shape_mismatch_names_both():
    y = deepnum.zeros(3, 4, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match=r"value tensor of shape \[3\] cannot be broadcast to indexing result of shape \[2, 4\]"):
        y[1:] = deepnum.ones(3, requires_grad=True)


def test_index_put_accumulate():
    compare(lambda m, a, v: m.index_put(a, (m.tensor([0, 2, 0]),), v, accumulate=True), [(3, 4), (3, 4)])
    compare(lambda m, a, v: m.index_put(a, (m.tensor([0, 2]), m.tensor([1, 3])), v), [(3, 4), (2,)])


# ------------------------------------------------------------------ gather family
GATHER_INDEX = np.array([[0, 2, 2, 1], [1, 1, 0, 0]])
ONLY_X = [
    ("gather", lambda m, x: m.gather(x, 1, m.tensor(GATHER_INDEX))),
    ("gather_dim0", lambda m, x: x.gather(0, m.tensor([[0, 2, 1], [2, 2, 0]]))),
    ("gather_neg_small", lambda m, x: x.gather(-1, m.tensor([[1], [0]]))),
    ("scatter_value", lambda m, x: x.scatter(0, m.tensor([[0, 2, 1, 0]]), 1.5)),
    ("index_select", lambda m, x: m.index_select(x, 1, m.tensor([3, 0, 3]))),
    ("index_select_neg", lambda m, x: x.index_select(-2, m.tensor([2, 2]))),
    ("masked_fill", lambda m, x: x.masked_fill(x > 0, -1.5)),
    ("masked_fill_inf_softmax",
     lambda m, x: m.softmax(m.masked_fill(x, m.tensor([[False, True, False, False]]), float("-inf")), -1)),
    ("index_fill", lambda m, x: x.index_fill(1, m.tensor([0, 2]), 7.0)),
]


@pytest.mark.parametrize("name,fn", ONLY_X, ids=[f[0] for f in ONLY_X])
def test_gather_family(name, fn):
    compare(fn, [(3, 4)])


WITH_SOURCE = [
    ("scatter", lambda m, x, s: m.scatter(x, 1, m.tensor([[0, 2], [1, 3]]), s), (2, 2)),
    ("scatter_add", lambda m, x, s: m.scatter_add(x, 1, m.tensor(GATHER_INDEX[:, :3]), s), (2, 3)),
    ("scatter_add_dim0", lambda m, x, s: x.scatter_add(0, m.tensor([[2, 2, 0, 0], [2, 1, 1, 2]]), s), (2, 4)),
    ("masked_fill_tensor_value", lambda m, x, s: x.masked_fill(x < 0, s), ()),
]


@pytest.mark.parametrize("name,fn,src_shape", WITH_SOURCE, ids=[f[0] for f in WITH_SOURCE])
def test_scatter_family(name, fn, src_shape):
    compare(fn, [(3, 4), src_shape])


def test_scatter_reads_only_the_index_shaped_part_of_a_larger_source():
    x, s = inputs_for([(3, 4), (3, 4)], requires_grad=False)
    index = [[0, 2], [1, 0]]
    out = deepnum.scatter_add(x, 1, deepnum.tensor(index), s)
    ref = torch.scatter_add(torch.tensor(x.numpy()), 1, torch.tensor(index), torch.tensor(s.numpy()))
    assert_close(out, ref)


def test_gather_and_index_select_on_zero_dim():
    compare(lambda m, x: x.gather(0, m.tensor(0)), [()])
    compare(lambda m, x: x.index_select(0, m.tensor([0])), [()])


@pytest.mark.parametrize("fn,err,match", [
    (lambda x: x.gather(1, deepnum.tensor([[0, 1]], dtype=deepnum.int32)), RuntimeError, "Expected dtype int64 for index"),
    (lambda x: x.gather(1, deepnum.tensor([0, 1])), RuntimeError, "same number of dimensions"),
    (lambda x: x.gather(1, deepnum.tensor([[5]])), RuntimeError, "index 5 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.gather(2, deepnum.tensor([[0]])), IndexError, "dimension out of range"),
    (lambda x: x.gather(0, deepnum.tensor([[0, 0, 0, 0, 0]])), RuntimeError, "Size does not match at dimension 1"),
    (lambda x: x.index_select(0, deepnum.tensor([3])), IndexError, "index out of range"),
    (lambda x: x.masked_fill(deepnum.tensor([1, 0, 1, 0]), 0.0), RuntimeError, "only supports boolean masks"),
    (lambda x: x.masked_fill(deepnum.tensor([True, False]), 0.0), RuntimeError, r"mask of shape \(2,\) does not broadcast"),
    (lambda x: x.masked_fill(x > 0, deepnum.zeros(2)), RuntimeError, "0-dimensional value tensor"),
])
def test_gather_family_errors(fn, err, match):
    with pytest.raises(err, match=match):
        fn(deepnum.zeros(3, 4))


def test_in_place_scatter_and_masked_fill_outside_autograd():
    x = deepnum.zeros(2, 3)
    x.masked_fill_(deepnum.tensor([[True, False, False], [False, False, True]]), 2.0)
    x.scatter_(1, deepnum.tensor([[1], [0]]), 3.0)
    t = torch.zeros(2, 3)
    t.masked_fill_(torch.tensor([[True, False, False], [False, False, True]]), 2.0)
    t.scatter_(1, torch.tensor([[1], [0]]), 3.0)
    assert_close(x, t)


def test_empty_index_tensors():
    x = inputs_for([(3, 4)])[0]
    compare(lambda m, x: x[m.tensor([], dtype=m.int64)], [], inputs=[x], gradcheck=False)
    x.grad = None
    compare(lambda m, x: x.index_select(0, m.tensor([], dtype=m.int64)), [], inputs=[x], gradcheck=False)


def test_assigning_into_a_plain_buffer_records_the_value():
    def fn(m, w):
        out = m.zeros(3, 4, dtype=w.dtype)
        out[0] = w[1] * 2
        out[1:] += w[:2] ** 2
        out[:, m.tensor([3])] = w[2:, :1].exp()
        return out

    compare(fn, [(3, 4)])
