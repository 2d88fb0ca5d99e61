"""Pooling vs PyTorch: max / avg / LP / adaptive, every option, indices, errors, gradchecks."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs

TF = torch.nn.functional

MAX_CASES = [
    ("max_pool2d", (2, 3, 8, 10), dict(kernel_size=2)),  # the 2x2 stride-2 fast case
    ("max_pool2d", (2, 3, 9, 9), dict(kernel_size=2)),  # odd size: last row dropped
    ("max_pool2d", (2, 3, 9, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (2, 3, 10, 9), dict(kernel_size=2, stride=2, ceil_mode=True)),
    (
        "max_pool2d",
        (2, 3, 9, 10),
        dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)),
    ),
    ("max_pool2d", (3, 7, 7), dict(kernel_size=3, stride=1)),  # unbatched, overlapping
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_pool1d", (2, 3, 12), dict(kernel_size=4, stride=1, padding=2, dilation=1)),
    ("max_pool1d", (2, 3, 12), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
    ("max_pool3d", (1, 2, 5, 6, 5), dict(kernel_size=2, stride=(1, 2, 2), padding=1)),
]

AVG_CASES = [
    ("avg_pool2d", (2, 3, 8, 10), dict(kernel_size=2)),
    (
        "avg_pool2d",
        (2, 3, 9, 10),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ),
    (
        "avg_pool2d",
        (2, 3, 9, 10),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=True),
    ),
    ("avg_pool2d", (2, 3, 9, 10), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0))),
    ("avg_pool2d", (2, 3, 9, 10), dict(kernel_size=3, padding=1, divisor_override=4)),
    (
        "avg_pool1d",
        (2, 3, 10),
        dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False),
    ),
    ("avg_pool1d", (3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (
        "avg_pool3d",
        (1, 2, 5, 6, 5),
        dict(kernel_size=2, stride=2, padding=1, count_include_pad=False),
    ),
]

ADAPTIVE_CASES = [
    ("adaptive_avg_pool2d", (2, 3, 9, 10), dict(output_size=(4, 3))),
    ("adaptive_avg_pool2d", (2, 3, 8, 8), dict(output_size=1)),
    ("adaptive_avg_pool2d", (3, 7, 5), dict(output_size=(3, None))),
    ("adaptive_avg_pool1d", (2, 3, 9), dict(output_size=4)),
    ("adaptive_max_pool2d", (2, 3, 9, 10), dict(output_size=(4, 3))),
    ("adaptive_max_pool2d", (2, 3, 5, 7), dict(output_size=(5, 9))),  # upsampling windows overlap
    ("adaptive_max_pool1d", (2, 3, 9), dict(output_size=4)),
    ("adaptive_avg_pool3d", (2, 3, 5, 7, 6), dict(output_size=(2, 3, 4))),
    ("adaptive_avg_pool3d", (3, 4, 4, 5), dict(output_size=(6, None, 1))),  # unbatched, upsampling
    ("adaptive_max_pool3d", (2, 3, 5, 7, 6), dict(output_size=(2, 3, 4))),
    ("adaptive_max_pool3d", (1, 2, 3, 4, 5), dict(output_size=(5, 2, 7))),  # windows overlap
]


@pytest.mark.parametrize("name,shape,kw", MAX_CASES + AVG_CASES + ADAPTIVE_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_matches_torch(name, shape, kw, dtype):
    x = random_inputs(shape, dtype=dtype, rng=np.random.default_rng(sum(shape)))[0]
    check_against_torch(
        lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), [x]
    )


@pytest.mark.parametrize("shape", [(2, 3, 8, 10), (2, 2, 7, 9), (1, 1, 2, 2), (3, 6, 6)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_2x2_with_ties_everywhere(shape, dtype):
    """Values from {0, 1, 2}: most windows hold their maximum twice or more, in every
    arrangement; the gradient must reach the first one in row-major order, as in PyTorch
    (odd sizes: the last row / column belongs to no window and gets no gradient)."""
    values = np.random.default_rng(sum(shape)).integers(0, 3, shape).astype(dtype)
    x = deepnum.tensor(values, requires_grad=True)
    check_against_torch(lambda a: F.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [x])


def test_max_pool_ties_go_to_first_maximum():
    """After a ReLU many windows are all zeros: the gradient goes to the first one (PyTorch)."""
    x = deepnum.tensor(
        np.maximum(np.random.default_rng(0).standard_normal((2, 3, 8, 8)), 0).astype(np.float32),
        requires_grad=True,
    )
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        check_against_torch(lambda a: F.max_pool2d(a, **kw), lambda a: TF.max_pool2d(a, **kw), [x])
        x.grad = None


@pytest.mark.parametrize(
    "name,shape,kw",
    [c for c in MAX_CASES if c[0] != "max_pool3d"]
    + [("adaptive_max_pool2d", (2, 3, 9, 10), dict(output_size=(4, 3)))],
)
def test_return_indices_match_torch(name, shape, kw):
    x = random_inputs(shape, requires_grad=False)[0]
    y, idx = getattr(F, name)(x, return_indices=True, **kw)
    ty, tidx = getattr(TF, name)(torch.from_numpy(x.numpy().copy()), return_indices=True, **kw)
    assert_close(y, ty)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.parametrize(
    "p,kw",
    [
        (2, dict(kernel_size=2)),
        (2, dict(kernel_size=3, stride=2, ceil_mode=True)),
        (3, dict(kernel_size=(2, 3), stride=1)),
        (1.5, dict(kernel_size=2)),
    ],
)
def test_lp_pool_matches_torch(p, kw):
    # positive inputs: a fractional power of a negative sum is NaN in both frameworks
    x = random_inputs((2, 3, 7, 8), low=0.1, high=2.0)[0]
    check_against_torch(lambda a: F.lp_pool2d(a, p, **kw), lambda a: TF.lp_pool2d(a, p, **kw), [x])
    y = random_inputs((2, 3, 9), low=0.1, high=2.0)[0]
    check_against_torch(lambda a: F.lp_pool1d(a, p, 3), lambda a: TF.lp_pool1d(a, p, 3), [y])


def test_l2_pooling_is_window_norm():
    """003 §3.1: L2 pooling = the Euclidean norm of each window."""
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4)).astype(np.float32)
    y = F.lp_pool2d(deepnum.tensor(x), 2, 2).numpy()
    blocks = x.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)
    np.testing.assert_allclose(y[0, 0], np.linalg.norm(blocks, axis=-1), rtol=1e-6)


@pytest.mark.parametrize(
    "cls,args,shape",
    [
        ("MaxPool1d", (3, 2, 1), (2, 3, 10)),
        ("MaxPool2d", (2,), (2, 3, 8, 8)),
        ("MaxPool2d", (3, 2, 1, 1, False, True), (2, 3, 9, 9)),
        ("AvgPool1d", (3, 2, 1), (2, 3, 10)),
        ("AvgPool2d", (3, 2, 1, True, False), (2, 3, 9, 9)),
        ("LPPool2d", (2, 2), (2, 3, 8, 8)),
        ("LPPool1d", (2, 3), (2, 3, 9)),
        ("AdaptiveAvgPool1d", (4,), (2, 3, 9)),
        ("AdaptiveAvgPool2d", ((3, 4),), (2, 3, 9, 9)),
        ("AdaptiveMaxPool2d", ((3, 4),), (2, 3, 9, 9)),
        ("AdaptiveMaxPool1d", (4,), (2, 3, 9)),
        ("MaxPool3d", (2,), (1, 2, 4, 4, 4)),
        ("AdaptiveAvgPool3d", ((2, 3, 1),), (1, 2, 5, 6, 4)),
        ("AdaptiveMaxPool3d", ((2, 3, 1),), (1, 2, 5, 6, 4)),
    ],
)
def test_modules_match_torch(cls, args, shape):
    x = random_inputs(shape, low=0.1)[0]
    layer, tlayer = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args)
    check_against_torch(layer, tlayer, [x])
    assert layer.state_dict() == {} or len(layer.state_dict()) == 0
    assert repr(layer) == repr(tlayer)


def test_max_pool_module_return_indices():
    x = random_inputs((1, 2, 6, 6), requires_grad=False)[0]
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    _, tidx = torch.nn.MaxPool2d(2, return_indices=True)(torch.from_numpy(x.numpy().copy()))
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_gradcheck_float64():
    rng = np.random.default_rng(0)
    x = deepnum.tensor(
        rng.standard_normal((1, 2, 5, 6)), dtype=deepnum.float64, requires_grad=True
    )
    gc = deepnum.autograd.gradcheck
    assert gc(lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), (x,))
    assert gc(lambda a: F.avg_pool2d(a, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))
    assert gc(lambda a: F.adaptive_avg_pool2d(a, (2, 4)), (x,))
    assert gc(lambda a: F.adaptive_max_pool2d(a, (2, 4)), (x,))
    x3 = deepnum.tensor(rng.standard_normal((1, 2, 3, 5, 4)), requires_grad=True)
    assert gc(lambda a: F.adaptive_avg_pool3d(a, (2, 3, 3)), (x3,))
    assert gc(lambda a: F.adaptive_max_pool3d(a, (2, 3, 3)), (x3,))
    assert gc(lambda a: F.lp_pool2d(a * a + 0.5, 2, 2), (x,))
    assert deepnum.autograd.gradgradcheck(lambda a: F.avg_pool2d(a, 2, 1, 1), (x,))


def test_errors():
    with pytest.raises(
        RuntimeError, match=r"MaxPool2d\(kernel_size=\(2, 2\)\): pad should be at most half"
    ):
        nn.MaxPool2d(2, padding=2)(deepnum.zeros(1, 1, 6, 6))
    with pytest.raises(
        RuntimeError,
        match=r"max_pool2d: expected input of shape \(N, C, H, W\) or \(C, H, W\), "
        r"got \(6, 6\)",
    ):
        F.max_pool2d(deepnum.zeros(6, 6), 2)
    with pytest.raises(
        RuntimeError,
        match=r"AvgPool2d\(kernel_size=\(5, 5\).*output size \(0, 0\) is too small "
        r"for input \(1, 1, 4, 4\)",
    ):
        nn.AvgPool2d(5)(deepnum.zeros(1, 1, 4, 4))
    with pytest.raises(
        ValueError, match="max_pool1d: kernel_size must be an int or a tuple of 1 ints"
    ):
        F.max_pool1d(deepnum.zeros(1, 1, 4), (2, 2))


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=3, stride=1, dilation=2),
    ],
)
def test_max_pool_second_derivatives(kw):
    """create_graph through max pooling: its backward is a differentiable scatter."""
    x = random_inputs((2, 3, 7, 8), dtype=np.float64)[0]
    assert deepnum.autograd.gradgradcheck(lambda a: F.max_pool2d(a, **kw), (x,))
    tx = torch.from_numpy(x.detach().numpy().copy()).requires_grad_()
    (g,) = deepnum.autograd.grad((F.max_pool2d(x, **kw) ** 3).sum(), (x,), create_graph=True)
    (g**2).sum().backward()
    (tg,) = torch.autograd.grad((TF.max_pool2d(tx, **kw) ** 3).sum(), (tx,), create_graph=True)
    (tg**2).sum().backward()
    assert_close(x.grad, tx.grad)


@pytest.mark.parametrize(
    "name,shape,size",
    [("adaptive_max_pool1d", (2, 3, 9), 4), ("adaptive_max_pool2d", (2, 3, 9, 7), (4, 3)),
     ("adaptive_max_pool3d", (2, 2, 5, 6, 7), (2, 4, 3))],
)
def test_adaptive_max_pool_indices_match_torch(name, shape, size):
    x = random_inputs(shape, requires_grad=False)[0]
    _, idx = getattr(F, name)(x, size, return_indices=True)
    _, tidx = getattr(TF, name)(torch.from_numpy(x.numpy().copy()), size, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
