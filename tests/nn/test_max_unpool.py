"""MaxUnpool1d/2d/3d vs PyTorch: values, gradients, output_size, modules, errors, gradcheck."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs

TF = torch.nn.functional

# (nd, input shape, pool keywords, output_size or None)
CASES = [
    (2, (2, 3, 8, 10), dict(kernel_size=2), None),
    (2, (2, 3, 9, 7), dict(kernel_size=2), (9, 7)),  # odd sizes restored by output_size
    (2, (2, 3, 9, 7), dict(kernel_size=2), (2, 3, 9, 7)),  # output_size with N and C
    (2, (2, 3, 10, 9), dict(kernel_size=3, stride=2, padding=1), (10, 9)),  # overlapping windows
    (2, (3, 8, 8), dict(kernel_size=2), None),  # unbatched
    (1, (2, 4, 11), dict(kernel_size=3, stride=2), None),
    (1, (4, 12), dict(kernel_size=2), None),  # unbatched
    (3, (1, 2, 6, 5, 4), dict(kernel_size=2), (6, 5, 4)),
]


def _pair(nd, shape, kw, output_size, dtype=np.float32, seed=0):
    (x,) = random_inputs(shape, dtype=dtype, rng=np.random.default_rng(seed), requires_grad=False)
    y, idx = getattr(F, f"max_pool{nd}d")(x, **kw, return_indices=True)
    unpool_kw = {k: v for k, v in kw.items() if k in ("kernel_size", "stride", "padding")}
    return y.detach().requires_grad_(), idx, unpool_kw


@pytest.mark.parametrize("nd,shape,kw,output_size", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_unpool_matches_torch(nd, shape, kw, output_size, dtype):
    y, idx, ukw = _pair(nd, shape, kw, output_size, dtype)
    t_idx = torch.from_numpy(idx.numpy())
    dn = getattr(F, f"max_unpool{nd}d")
    tf = getattr(TF, f"max_unpool{nd}d")
    check_against_torch(
        lambda a: dn(a, idx, **ukw, output_size=output_size),
        lambda a: tf(a, t_idx, **ukw, output_size=output_size),
        [y],
    )


def test_pool_then_unpool_keeps_each_maximum_in_place():
    (x,) = random_inputs((2, 3, 6, 6), requires_grad=False)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    u = F.max_unpool2d(y, idx, 2).numpy()
    kept = u != 0
    assert kept.reshape(2, 3, 3, 2, 3, 2).sum(axis=(3, 5)).max() == 1  # one survivor per window
    np.testing.assert_array_equal(u[kept], x.numpy()[kept])
    np.testing.assert_array_equal(np.sort(u[kept]), np.sort(y.numpy().ravel()))


@pytest.mark.parametrize("cls,nd", [(nn.MaxUnpool1d, 1), (nn.MaxUnpool2d, 2), (nn.MaxUnpool3d, 3)])
def test_modules_match_torch(cls, nd):
    shape = (2, 3) + (8,) * nd
    pool = getattr(nn, f"MaxPool{nd}d")(2, return_indices=True)
    t_pool = getattr(torch.nn, f"MaxPool{nd}d")(2, return_indices=True)
    unpool, t_unpool = cls(2), getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    assert repr(unpool) == repr(t_unpool)
    assert (unpool.kernel_size, unpool.stride, unpool.padding) == (
        t_unpool.kernel_size, t_unpool.stride, t_unpool.padding
    )
    (x,) = random_inputs(shape)
    y, idx = pool(x)
    t_x = torch.from_numpy(x.detach().numpy()).requires_grad_()
    t_y, t_idx = t_pool(t_x)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    out, t_out = unpool(y, idx, output_size=x.shape), t_unpool(t_y, t_idx, output_size=t_x.shape)
    assert_close(out, t_out)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(deepnum.tensor(g))
    t_out.backward(torch.from_numpy(g))
    assert_close(x.grad, t_x.grad)


def test_gradcheck_float64():
    y, idx, ukw = _pair(2, (1, 2, 6, 6), dict(kernel_size=2), None, dtype=np.float64)
    assert deepnum.autograd.gradcheck(lambda a: F.max_unpool2d(a, idx, **ukw), (y,))
    assert deepnum.autograd.gradgradcheck(lambda a: F.max_unpool2d(a, idx, **ukw), (y,))


def test_errors_name_the_op_and_what_came():
    y, idx, _ = _pair(2, (1, 1, 4, 4), dict(kernel_size=2), None)
    with pytest.raises(ValueError, match=r"max_unpool2d: invalid output_size \(7, 4\) \(dim 0 must be between 2 and 6\)"):
        F.max_unpool2d(y, idx, 2, output_size=(7, 4))
    with pytest.raises(ValueError, match="output_size should have 2 or 4 elements, got 3"):
        F.max_unpool2d(y, idx, 2, output_size=(1, 4, 4))
    bad = deepnum.tensor(np.full((1, 1, 2, 2), 16, dtype=np.int64))
    with pytest.raises(RuntimeError, match=r"max_unpool2d: found an invalid max index 16 \(output planes are of size 4x4"):
        F.max_unpool2d(y, bad, 2)
    with pytest.raises(RuntimeError, match=r"indices must have the input's shape \(1, 1, 2, 2\), got \(1, 1, 4\)"):
        F.max_unpool2d(y, deepnum.tensor(np.zeros((1, 1, 4), dtype=np.int64)), 2)
    with pytest.raises(RuntimeError, match=r"MaxUnpool1d: expected input of shape"):
        nn.MaxUnpool1d(2)(y, idx)
