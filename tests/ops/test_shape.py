"""Shape ops, joining/splitting and padding against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepnum
from tests.ops._common import compare, inputs_for

SHAPE_OPS = [
    ("reshape", lambda m, x: x.reshape(4, -1)),
    ("reshape_tuple", lambda m, x: m.reshape(x, (2, 12))),
    ("view", lambda m, x: x.view(-1)),
    ("flatten", lambda m, x: m.flatten(x)),
    ("flatten_range", lambda m, x: x.flatten(1, -1)),
    ("squeeze", lambda m, x: x.reshape(1, 2, 1, 12).squeeze()),
    ("squeeze_dim", lambda m, x: m.squeeze(x.reshape(1, 2, 1, 12), -2)),
    ("squeeze_tuple", lambda m, x: x.reshape(1, 2, 1, 12).squeeze((0, 2))),
    ("unsqueeze", lambda m, x: x.unsqueeze(-1)),
    ("transpose", lambda m, x: m.transpose(x, 0, -1)),
    ("permute", lambda m, x: x.permute(2, 0, 1)),
    ("T", lambda m, x: x[0].T),
    ("mT", lambda m, x: x.mT),
    ("expand", lambda m, x: x[:, :1].expand(2, 3, 4)),
    ("expand_lead", lambda m, x: x[0, 0].expand(5, 3, -1)),
    ("repeat", lambda m, x: x.repeat(2, 1, 3)),
    ("repeat_lead", lambda m, x: x.repeat(2, 1, 1, 2)),
    ("flip", lambda m, x: m.flip(x, (0, 2))),
    ("flip_neg", lambda m, x: x.flip(-1)),
    ("roll", lambda m, x: m.roll(x, 2)),
    ("roll_dims", lambda m, x: x.roll((1, -2), (0, 2))),
    ("narrow", lambda m, x: x.narrow(1, 1, 2)),
    ("narrow_neg", lambda m, x: m.narrow(x, -1, -3, 2)),
    ("tril", lambda m, x: x.tril()),
    ("triu_diag", lambda m, x: m.triu(x, 1)),
    ("tril_neg", lambda m, x: m.tril(x, diagonal=-1)),
    ("cat", lambda m, x: m.cat([x, x * 2], 1)),
    ("cat_neg", lambda m, x: m.cat((x, x[..., :2]), dim=-1)),
    ("stack", lambda m, x: m.stack([x, -x], 1)),
    ("stack_end", lambda m, x: m.stack([x, x], dim=-1)),
    ("split", lambda m, x: m.split(x, 2, dim=2)),
    ("split_list", lambda m, x: x.split([1, 2, 1], -1)),
    ("chunk", lambda m, x: x.chunk(2, 1)),
    ("chunk_uneven", lambda m, x: m.chunk(x, 3, -1)),
    ("unbind", lambda m, x: x.unbind(1)),
    ("repeat_interleave", lambda m, x: x.repeat_interleave(2, dim=1)),
]


@pytest.mark.parametrize("name,fn", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_op(name, fn):
    compare(fn, [(2, 3, 4)])


@pytest.mark.parametrize("fn", [
    lambda m, x: x.reshape(3, 0), lambda m, x: x.flatten(), lambda m, x: m.cat([x, x], 0),
    lambda m, x: m.stack([x, x]), lambda m, x: x.flip(0), lambda m, x: x.roll(1, 1),
    lambda m, x: x.repeat(2, 2), lambda m, x: x.tril(), lambda m, x: x.unsqueeze(0),
    lambda m, x: x.transpose(0, 1), lambda m, x: m.chunk(x, 2, 1),
], ids=lambda f: "")
def test_shape_op_on_empty(fn):
    compare(fn, [(0, 3)], gradcheck=False)


@pytest.mark.parametrize("fn", [
    lambda m, x: x.reshape(1), lambda m, x: x.unsqueeze(0), lambda m, x: x.flatten(),
    lambda m, x: x.expand(2, 3), lambda m, x: x.repeat(2), lambda m, x: m.stack([x, x]),
    lambda m, x: x.flip(0), lambda m, x: x.squeeze(), lambda m, x: x.view(1, 1),
], ids=lambda f: "")
def test_shape_op_on_zero_dim(fn):
    compare(fn, [()])


def test_cat_skips_legacy_empty_and_promotes():
    compare(lambda m, a, b: m.cat([a, m.zeros(0, dtype=a.dtype), b.to(m.float32)], 0), [(2, 3), (1, 3)], gradcheck=False)


# ---------------------------------------------------------------------------- pad
PADS = [
    ("constant", (1, 2)), ("constant", (1, 0, 2, 1)), ("constant", (-1, 2, 0, -1)), ("constant", (1, 1, 1, 1, 1, 1)),
    ("reflect", (2, 1)), ("reflect", (1, 2, 2, 1)), ("replicate", (2, 3)), ("replicate", (1, 2, 3, 1)),
    ("circular", (2, 1)), ("circular", (1, 3, 2, 0)), ("reflect", (0, 0, 1, 2)),
]


@pytest.mark.parametrize("mode,pad", PADS, ids=[f"{m}{p}" for m, p in PADS])
def test_pad(mode, pad):
    shape = (2, 3, 4, 5) if len(pad) >= 4 else (2, 3, 5)
    if len(pad) == 6:
        shape = (2, 1, 3, 4, 5)
    compare(lambda m, x: (m.nn.functional if m is torch else m).pad(x, pad, mode=mode), [shape])


def test_pad_constant_value():
    compare(lambda m, x: (F if m is torch else m).pad(x, (1, 2), value=-3.5), [(2, 3)])


def test_pad_is_a_deepnum_ops_function():
    assert deepnum.ops.pad is deepnum.pad


@pytest.mark.parametrize("mode,pad,shape,err,match", [
    ("constant", (1, 2, 3), (2, 3), RuntimeError, "divisible by 2"),
    ("constant", (1, 1, 1, 1, 1, 1), (2, 3), RuntimeError, "too large"),
    ("reflect", (3, 3), (1, 1, 3), RuntimeError, r"less than the corresponding input dimension.*\(3, 3\) at dimension 2 of input \[1, 1, 3\]"),
    ("circular", (4, 0), (1, 3), RuntimeError, "at most the corresponding input dimension"),
    ("wrap", (1, 1), (1, 3), NotImplementedError, "mode 'wrap' is not supported"),
])
def test_pad_errors(mode, pad, shape, err, match):
    with pytest.raises(err, match=match):
        deepnum.pad(deepnum.zeros(*shape), pad, mode=mode)


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize("fn,err,match", [
    (lambda x: deepnum.cat([x, deepnum.zeros(2, 4)]), RuntimeError,
     r"Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1"),
    (lambda x: deepnum.cat([]), ValueError, "expected a non-empty list"),
    (lambda x: deepnum.stack([x, deepnum.zeros(2, 4)]), RuntimeError,
     r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] at entry 1"),
    (lambda x: deepnum.split(x, [1, 2]), RuntimeError, r"split_with_sizes expects split_sizes to sum exactly to 2 .*split_sizes=\[1, 2\]"),
    (lambda x: x.repeat(2), RuntimeError, "Number of dimensions of repeat dims can not be smaller"),
    (lambda x: deepnum.tril(x[0]), RuntimeError, "tril: input tensor must have at least 2 dimensions"),
    (lambda x: x.narrow(1, 2, 2), RuntimeError, r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
    (lambda x: x.reshape(4, 2), RuntimeError, r"shape \[4, 2\] is invalid for input of size 6"),
    (lambda x: x.expand(3, 3), RuntimeError, "expanded size of the tensor"),
    (lambda x: x.permute(0, 0), RuntimeError, "repeated dim"),
    (lambda x: x.transpose(0, 2), IndexError, "Dimension out of range|dimension out of range"),
    (lambda x: x.unsqueeze(3), IndexError, "dimension out of range"),
    (lambda x: x.flip(2), IndexError, "dimension out of range"),
    (lambda x: deepnum.cat([x, x], 2), IndexError, "dimension out of range"),
])
def test_shape_errors(fn, err, match):
    x = inputs_for([(2, 3)], requires_grad=False)[0]
    with pytest.raises(err, match=match):
        fn(x)


def test_repeat_matches_numpy_tile():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(deepnum.tensor(x).repeat(2, 1, 2).numpy(), np.tile(x, (2, 1, 2)))


def test_keyword_forms_like_torch():
    compare(lambda m, x: m.flip(x, dims=[0, 1]), [(2, 3)])
    compare(lambda m, x: x.permute(dims=(1, 0)), [(2, 3)])
    compare(lambda m, x: m.cat([x, x], axis=1), [(2, 3)])
    compare(lambda m, x: m.where(x > 0), [(2, 3)], gradcheck=False)
