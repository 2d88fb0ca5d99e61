"""Tensor creation from nested data, printing and formatting as PyTorch does."""

from collections import deque

import numpy as np
import pytest
import torch

import deepnum

REPRS = [
    lambda m: m.tensor(2.5), lambda m: m.tensor(0.0), lambda m: m.tensor(1e10), lambda m: m.tensor([1.5, 2.0]),
    lambda m: m.tensor([1e-5, 1.0]), lambda m: m.tensor([1e6, 1.0]), lambda m: m.tensor([1.0, -2.0]),
    lambda m: m.tensor([0.0, 0.0]), lambda m: m.tensor([[1.0, 2], [3, 4]]), lambda m: m.tensor([[-1.25, 3.5], [100.125, 2]]),
    lambda m: m.tensor([float("nan"), 1.0, float("-inf")]), lambda m: m.zeros(0, 3), lambda m: m.zeros(0),
    lambda m: m.tensor([1, 2], dtype=m.int32), lambda m: m.tensor([-1, 100]), lambda m: m.tensor(3.0, dtype=m.float64),
    lambda m: m.tensor([True, False]), lambda m: m.tensor([True, True]), lambda m: m.arange(24.0).reshape(2, 3, 4),
    lambda m: m.arange(30.0) / 3, lambda m: m.arange(2000.0).reshape(40, 50) / 7, lambda m: m.arange(1500),
    lambda m: m.ones(2, requires_grad=True),
]


@pytest.mark.parametrize("make", REPRS, ids=[str(i) for i in range(len(REPRS))])
def test_repr_matches_torch(make):
    assert repr(make(deepnum)).replace("deepnum.", "torch.") == repr(make(torch))


def test_repr_shows_grad_fn():
    y = deepnum.ones(2, requires_grad=True) * 2
    assert repr(y).startswith("tensor([2., 2.], grad_fn=<")


@pytest.mark.parametrize("spec", [".4f", ".2e", "8.3f", "", ">10"])
def test_format_of_zero_dim_tensor(spec):
    loss = deepnum.tensor(0.123456)
    assert f"{loss:{spec}}" == f"{torch.tensor(0.123456):{spec}}"


@pytest.mark.parametrize("data", [
    [deque([1.0, 2.0]), deque([3.0, 4.0])],
    deque([1, 2, 3]),
    [deepnum.tensor(1.5), deepnum.tensor(2.5)],
    [[deepnum.tensor(1), 2], [3, deepnum.tensor(4)]],
    [deepnum.tensor(1.0, requires_grad=True) * 2, 3.0],
    ((1, 2.5), (3, 4)),
    [True, False],
    [],
], ids=str)
def test_tensor_from_nested_data(data):
    def to_torch(d):
        if isinstance(d, deepnum.Tensor):
            return torch.tensor(d.detach().numpy())
        if isinstance(d, (list, tuple, deque)):
            return [to_torch(v) for v in d]
        return d

    ours = deepnum.tensor(data)
    theirs = torch.tensor(to_torch(data))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert not ours.requires_grad


@pytest.mark.parametrize("data", [
    np.float64(1.5), np.int32(3), [np.float64(1.0), 2.0], [np.int32(1), 2.5], [np.float32(1), np.float64(2)],
    [1, 2.5], [True, 2], np.array(2.0), [[1, 2], [3, 4]],
], ids=repr)
def test_tensor_dtype_inference_matches_torch(data):
    assert str(deepnum.tensor(data).dtype) == str(torch.tensor(data).dtype).replace("torch.", "")


@pytest.mark.parametrize("items", [[(1.0, "float64"), 2.0], [(1, "int32"), 2], [(1, "int32"), 2.5]], ids=str)
def test_tensor_dtype_inference_from_zero_dim_tensors(items):
    def build(m):
        return m.tensor([m.tensor(i[0], dtype=getattr(m, i[1])) if isinstance(i, tuple) else i for i in items])

    assert str(build(deepnum).dtype) == str(build(torch).dtype).replace("torch.", "")
