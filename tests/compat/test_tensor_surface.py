"""The Tensor odds and ends PyTorch programs use, checked against PyTorch itself."""

import collections

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
from tests.helpers import assert_close, check_against_torch, random_inputs, to_torch


def test_data_is_detached_and_shares_memory():
    w = deepnum.ones(3, requires_grad=True)
    d = w.data
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5.0  # writing through .data changes the parameter, as in PyTorch
    assert w.tolist() == [5.0, 1.0, 1.0]
    w.data = deepnum.zeros(3)
    assert w.requires_grad and w.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_new_constructors_keep_dtype(dtype):
    x = deepnum.tensor(np.arange(4).astype(dtype))
    t = torch.from_numpy(np.arange(4).astype(dtype))
    for name, args in [("new_zeros", (2, 3)), ("new_ones", ((2, 3),))]:
        a, b = getattr(x, name)(*args), getattr(t, name)(*args)
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).replace("torch.", "")
        assert_close(a, b)
    assert_close(x.new_tensor([1, 2]), t.new_tensor([1, 2]))
    assert str(x.new_tensor([1, 2]).dtype) == str(t.new_tensor([1, 2]).dtype).replace("torch.", "")
    assert_close(x.new_full((2,), 7), t.new_full((2,), 7))
    assert x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == x.dtype
    assert_close(x.new([1, 2]), t.new([1, 2]))


def test_new_tensor_requires_grad_and_dtype_override():
    x = deepnum.ones(2)
    y = x.new_zeros(3, dtype=deepnum.float64, requires_grad=True)
    assert y.dtype == deepnum.float64 and y.requires_grad and y.is_leaf


def test_narrow_t_contiguous_view_as_against_torch():
    other = deepnum.zeros(2, 10)
    cases = [
        (lambda a: a.narrow(0, 1, 3), lambda a: a.narrow(0, 1, 3)),
        (lambda a: deepnum.narrow(a, 1, 2, 2), lambda a: torch.narrow(a, 1, 2, 2)),
        (lambda a: a.t(), lambda a: a.t()),
        (lambda a: deepnum.t(a), lambda a: torch.t(a)),
        (lambda a: a.t().contiguous().view(-1), lambda a: a.t().contiguous().view(-1)),
        (lambda a: a.view_as(other) * 2, lambda a: a.view_as(torch.zeros(2, 10)) * 2),
    ]
    for dn_fn, torch_fn in cases:
        check_against_torch(dn_fn, torch_fn, random_inputs((5, 4)))
    x, t = deepnum.ones(5, 4), torch.ones(5, 4)
    assert x.contiguous() is x and x.is_contiguous()
    assert x.t().is_contiguous() == t.t().is_contiguous() == False  # noqa: E712
    assert x.t().contiguous().is_contiguous() and t.t().contiguous().is_contiguous()


def test_inplace_view_methods():
    x = deepnum.arange(6.0).reshape(2, 3)
    t = torch.arange(6.0).reshape(2, 3)
    assert x.t_() is x and x.shape == tuple(t.t_().shape)
    assert_close(x, t)
    y = deepnum.ones(3)
    assert y.unsqueeze_(0).shape == (1, 3) and y.squeeze_().shape == (3,)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        deepnum.ones(3, requires_grad=True).unsqueeze_(0)


def test_inplace_view_methods_recorded_on_non_leaf():
    a = deepnum.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    ta = to_torch(a)
    b, tb = a * 2, ta * 2
    b.squeeze_(0).unsqueeze_(1).t_()
    tb.squeeze_(0).unsqueeze_(1).t_()
    assert b.shape == tuple(tb.shape)
    (b * deepnum.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    (tb * torch.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    assert_close(a.grad, ta.grad)


@pytest.mark.parametrize("wrap", [False, True])
def test_fill_diagonal_(wrap):
    x, t = deepnum.zeros(7, 3), torch.zeros(7, 3)
    assert_close(x.fill_diagonal_(2.5, wrap=wrap), t.fill_diagonal_(2.5, wrap=wrap))
    assert_close(deepnum.ones(3, 3, 3).fill_diagonal_(0), torch.ones(3, 3, 3).fill_diagonal_(0))


@pytest.mark.parametrize("dtype", ["float64", "int64", "float32", "bool"])
def test_type_conversions(dtype):
    x = deepnum.tensor([1.5, -2.0, 0.0])
    t = torch.tensor([1.5, -2.0, 0.0])
    a, b = x.type(getattr(deepnum, dtype)), t.type(getattr(torch, dtype))
    assert str(a.dtype) == dtype and str(b.dtype) == "torch." + dtype
    assert a.tolist() == b.tolist()


def test_legacy_tensor_types():
    assert x_equal(deepnum.FloatTensor([1, 2]), torch.FloatTensor([1, 2]))
    assert x_equal(deepnum.LongTensor([[1], [2]]), torch.LongTensor([[1], [2]]))
    assert deepnum.FloatTensor(2, 3).shape == (2, 3)
    assert deepnum.LongTensor(deepnum.Size([4])).shape == (4,)
    x = deepnum.ones(2)
    assert x.type(deepnum.LongTensor).dtype == deepnum.int64
    assert x.type("torch.DoubleTensor").dtype == deepnum.float64
    assert x.type() == "deepnum.FloatTensor"
    assert isinstance(x, deepnum.FloatTensor) and not isinstance(x, deepnum.LongTensor)
    assert isinstance(x.dtype, deepnum.dtype)
    with pytest.raises(TypeError, match="unknown tensor type 'torch.FooTensor'"):
        x.type("torch.FooTensor")


def x_equal(a, b):
    return str(a.dtype) == str(b.dtype).replace("torch.", "") and a.tolist() == b.tolist()


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_methods(name):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, (4, 5)).astype(np.float32)
    b = rng.integers(0, 3, (5,)).astype(np.float32)
    for other_dn, other_t in [(deepnum.tensor(b), torch.tensor(b)), (1.0, 1.0)]:
        r = getattr(deepnum.tensor(a), name)(other_dn)
        e = getattr(torch.tensor(a), name)(other_t)
        assert r.dtype == deepnum.bool
        np.testing.assert_array_equal(r.numpy(), e.numpy())
        r2 = getattr(deepnum, name)(deepnum.tensor(a), other_dn)
        np.testing.assert_array_equal(r2.numpy(), e.numpy())
    assert deepnum.equal(deepnum.tensor(a), deepnum.tensor(a)) is True


def test_format_of_0d_tensors_like_torch():
    for v in [1.234567, -0.5, 3.0]:
        for spec in [".4f", ".2e", "", ">10.3f", ".1%"]:
            assert format(deepnum.tensor(v), spec) == format(torch.tensor(v), spec)
    assert f"{deepnum.tensor(7)}" == f"{torch.tensor(7)}" and f"{deepnum.tensor(7):d}" == "7"
    loss = deepnum.nn.functional.mse_loss(deepnum.ones(3), deepnum.zeros(3))
    assert f"loss {loss:.4f}" == "loss 1.0000"
    assert f"{deepnum.ones(2)}" == "tensor([1., 1.])"


def test_tensor_from_nested_lists_deques_and_0d_tensors():
    cases = [
        [[1, 2], [3, 4]],
        [[1.5, 2], [3, 4]],
        collections.deque([1.0, 2.0, 3.0]),
        [collections.deque([1, 2]), collections.deque([3, 4])],
        [np.float32(1.5), np.float64(2.0)],
        [True, False],
    ]
    for data in cases:
        a, b = deepnum.tensor(data), torch.tensor(data)
        assert x_equal(a, b), data
    zero_d = [deepnum.tensor(1.5), deepnum.tensor(2.5, requires_grad=True)]
    a = deepnum.tensor(zero_d)
    b = torch.tensor([torch.tensor(1.5), torch.tensor(2.5)])
    assert x_equal(a, b) and not a.requires_grad
    nested = deepnum.tensor([[deepnum.tensor(1)], [deepnum.tensor(2)]])
    assert nested.dtype == deepnum.int64 and nested.shape == (2, 1)
    rewards = collections.deque(maxlen=3)
    for r in [1.0, 2.0, 3.0, 4.0]:
        rewards.appendleft(r)
    assert deepnum.tensor(rewards).tolist() == [4.0, 3.0, 2.0]


def test_dtype_aliases():
    assert deepnum.float is deepnum.float32 and deepnum.double is deepnum.float64
    assert deepnum.long is deepnum.int64
    assert deepnum.zeros(2, dtype=deepnum.long).dtype == deepnum.int64
    assert deepnum.ones(2).to(deepnum.double).dtype == deepnum.float64


def test_module_double_float_half():
    m = dnn.Sequential(dnn.Linear(3, 2), dnn.BatchNorm1d(2))
    assert m.double() is m
    assert all(p.dtype == deepnum.float64 for p in m.parameters())
    assert (
        m[1].running_mean.dtype == deepnum.float64
        and m[1].num_batches_tracked.dtype == deepnum.int64
    )
    out = m(deepnum.ones(4, 3, dtype=deepnum.float64))
    assert out.dtype == deepnum.float64
    m.float()
    assert all(p.dtype == deepnum.float32 for p in m.parameters())
    assert m.half()[0].weight.dtype == deepnum.float16


def test_item_tolist_numpy_from_numpy():
    x = deepnum.tensor([[1.5, 2.0]])
    assert x.tolist() == torch.tensor([[1.5, 2.0]]).tolist()
    assert isinstance(x.sum().item(), float) and x.sum().item() == 3.5
    assert isinstance(deepnum.tensor(3).item(), int)
    arr = np.arange(3.0)
    t = deepnum.from_numpy(arr)
    arr[0] = 9.0  # shares memory, as torch.from_numpy
    assert t.dtype == deepnum.float64 and t[0].item() == 9.0
    with pytest.raises(RuntimeError, match="2 elements"):
        deepnum.ones(2).item()


def test_no_grad_forms_and_set_grad_enabled():
    x = deepnum.ones(2, requires_grad=True)

    @deepnum.no_grad()
    def f(v):
        return v * 2

    @deepnum.no_grad
    def g(v):
        return v * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert deepnum.is_grad_enabled()
    with deepnum.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    for training in (True, False):
        with deepnum.set_grad_enabled(training):
            assert (x * 2).requires_grad is training
    deepnum.set_grad_enabled(False)
    try:
        assert not deepnum.is_grad_enabled()
    finally:
        deepnum.set_grad_enabled(True)


def test_seeds_and_generators_reproduce():
    deepnum.manual_seed(7)
    a = deepnum.randn(3, 4)
    deepnum.manual_seed(7)
    assert deepnum.equal(a, deepnum.randn(3, 4))
    g1, g2 = deepnum.Generator().manual_seed(3), deepnum.Generator().manual_seed(3)
    assert deepnum.equal(deepnum.randn(5, generator=g1), deepnum.randn(5, generator=g2))
    assert deepnum.equal(deepnum.randperm(6, generator=g1), deepnum.randperm(6, generator=g2))
    assert sorted(deepnum.randperm(6).tolist()) == list(range(6))
    assert (
        deepnum.randint(10, (3,)).shape == (3,) and deepnum.randint(2, 5, (100,)).min().item() >= 2
    )
    assert deepnum.randint(3, size=(50,)).max().item() <= 2
    deepnum.random.manual_seed(1)
    assert deepnum.initial_seed() == 1


def test_argmax_max_cat_stack_and_accuracy_idiom():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    y = rng.integers(0, 4, 6)
    x, t = deepnum.tensor(logits), torch.tensor(logits)
    assert deepnum.argmax(x, dim=1).tolist() == torch.argmax(t, dim=1).tolist()
    values, idx = x.max(1)
    tv, ti = t.max(1)
    assert_close(values, tv) and idx.tolist() == ti.tolist()
    assert x.max(dim=1).indices.tolist() == ti.tolist() and x.max(1)[0].tolist() == tv.tolist()
    _, pred = deepnum.max(x, 1)
    correct = (pred == deepnum.tensor(y)).sum().item()
    assert correct == (ti == torch.tensor(y)).sum().item() and isinstance(correct, int)
    assert_close(deepnum.cat([x, x], dim=1), torch.cat([t, t], dim=1))
    assert_close(deepnum.stack((x, x), 1), torch.stack((t, t), 1))
    assert_close(deepnum.max(x, x * 2), torch.max(t, t * 2))


def test_one_hot_like_torch():
    y = [0, 3, 1]
    a = deepnum.nn.functional.one_hot(deepnum.tensor(y), 5)
    b = torch.nn.functional.one_hot(torch.tensor(y), 5)
    assert x_equal(a, b)
    assert deepnum.nn.functional.one_hot(deepnum.tensor(y)).shape == (3, 4)


def test_torch_names_outside_the_tensor_api():
    assert deepnum.is_tensor(deepnum.ones(1)) and not deepnum.is_tensor(np.ones(1))
    assert deepnum.numel(deepnum.ones(2, 3)) == 6
    assert deepnum.is_floating_point(deepnum.ones(1)) and not deepnum.is_floating_point(
        deepnum.ones(1).long()
    )
    assert deepnum.pi == np.pi and deepnum.inf == float("inf") and np.isnan(deepnum.nan)
    assert deepnum.finfo(deepnum.float32).eps == torch.finfo(torch.float32).eps
    assert deepnum.finfo(deepnum.float32).max == torch.finfo(torch.float32).max
    assert deepnum.iinfo(deepnum.int64).max == torch.iinfo(torch.int64).max
    model = dnn.Linear(2, 2)
    assert deepnum.compile(model) is model
    assert deepnum.compile(mode="reduce-overhead")(model) is model
    deepnum.set_num_threads(1)
    assert deepnum.get_num_threads() == 1
    deepnum.backends.cudnn.deterministic = True
    deepnum.backends.cudnn.benchmark = False
    assert not deepnum.backends.mps.is_available() and not deepnum.backends.cudnn.is_available()
    deepnum.use_deterministic_algorithms(True)
    assert deepnum.are_deterministic_algorithms_enabled()
    deepnum.use_deterministic_algorithms(False)
    v = deepnum.autograd.Variable(deepnum.ones(2), requires_grad=True)
    assert v.requires_grad and v.is_leaf
    assert deepnum.ones(4).multinomial(2).shape == (2,)


def test_remaining_documented_odds_and_ends():
    x = deepnum.arange(6.0)
    t = torch.arange(6.0)
    assert_close(x.reshape_as(deepnum.zeros(2, 3)), t.reshape_as(torch.zeros(2, 3)))
    assert_close(
        deepnum.ones(1, 3).expand_as(deepnum.zeros(4, 3)),
        torch.ones(1, 3).expand_as(torch.zeros(4, 3)),
    )
    assert x.to(deepnum.zeros(1, dtype=deepnum.float64)).dtype == deepnum.float64
    assert x.type_as(deepnum.zeros(1, dtype=deepnum.int64)).dtype == deepnum.int64
    assert deepnum.allclose(x, x + 1e-9) and not deepnum.allclose(x, x + 1)
    deepnum.cuda.manual_seed(0)
    deepnum.cuda.manual_seed_all(0)
    state = deepnum.get_rng_state()
    a = deepnum.rand(3)
    deepnum.set_rng_state(state)
    assert deepnum.equal(a, deepnum.rand(3))
