"""Element-wise ops against PyTorch: values, dtypes, gradients, finite differences, edge shapes."""

import numpy as np
import pytest
import torch

import deepnum
from tests.helpers import assert_close
from tests.ops._common import compare, inputs_for

# (name, fn(module, x), low, high): the input range keeps each function smooth and defined
UNARY = [
    ("exp", lambda m, x: m.exp(x), -2, 2),
    ("log", lambda m, x: m.log(x), 0.2, 3),
    ("log1p", lambda m, x: x.log1p(), -0.5, 2),
    ("expm1", lambda m, x: x.expm1(), -2, 2),
    ("sqrt", lambda m, x: m.sqrt(x), 0.2, 3),
    ("rsqrt", lambda m, x: m.rsqrt(x), 0.2, 3),
    ("sin", lambda m, x: m.sin(x), -3, 3),
    ("cos", lambda m, x: x.cos(), -3, 3),
    ("tanh", lambda m, x: m.tanh(x), -3, 3),
    ("sigmoid", lambda m, x: m.sigmoid(x), -5, 5),
    ("relu", lambda m, x: m.relu(x), -2, 2),
    ("abs", lambda m, x: m.abs(x), -2, 2),
    ("neg", lambda m, x: -x, -2, 2),
    ("square", lambda m, x: m.square(x), -2, 2),
    ("reciprocal", lambda m, x: m.reciprocal(x), 0.3, 2),
    ("erf", lambda m, x: m.erf(x), -3, 3),
    ("erf_tails", lambda m, x: m.erf(x), -6, 6),
    ("sign", lambda m, x: m.sign(x), -2, 2),
    ("floor", lambda m, x: m.floor(x) * x, -3, 3),
    ("ceil", lambda m, x: x.ceil() * x, -3, 3),
    ("round", lambda m, x: m.round(x) + x, -3, 3),
    ("round_decimals", lambda m, x: m.round(x, decimals=2), -3, 3),
    ("trunc", lambda m, x: m.trunc(x) * x, -3, 3),
    ("frac", lambda m, x: m.frac(x), -3, 3),
    ("clamp_both", lambda m, x: m.clamp(x, min=-0.5, max=0.7), -2, 2),
    ("clamp_min", lambda m, x: x.clamp(min=-0.5), -2, 2),
    ("clamp_max", lambda m, x: x.clamp_max(0.3), -2, 2),
    ("clamp_min_fn", lambda m, x: m.clamp_min(x, 0.1), -2, 2),
    ("pow_scalar", lambda m, x: x**3, -2, 2),
    ("pow_frac", lambda m, x: m.pow(x, 1.7), 0.2, 2),
    ("rpow", lambda m, x: 2.0**x, -2, 2),
]


@pytest.mark.parametrize("name,fn,low,high", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 3)], ids=["2d", "0d", "empty"])
def test_unary(name, fn, low, high, shape):
    compare(fn, [shape], low=low, high=high, gradcheck=shape == (3, 4) and name not in ("round_decimals",))


@pytest.mark.parametrize("name,fn,low,high", UNARY[:16], ids=[u[0] for u in UNARY[:16]])
def test_unary_float32(name, fn, low, high):
    compare(fn, [(5, 2)], dtype=np.float32, low=low, high=high, gradcheck=False)


BINARY = [
    ("add", lambda m, a, b: a + b),
    ("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5)),
    ("sub", lambda m, a, b: a - b),
    ("rsub", lambda m, a, b: 1.5 - a * b),
    ("mul", lambda m, a, b: a * b),
    ("div", lambda m, a, b: a / (b * b + 0.5)),
    ("pow", lambda m, a, b: m.pow(a * a + 0.5, b)),
    ("maximum", lambda m, a, b: m.maximum(a, b)),
    ("minimum", lambda m, a, b: m.minimum(a, b)),
    ("max_binary", lambda m, a, b: m.max(a, b)),
    ("where", lambda m, a, b: m.where(a > 0, a, b)),
    ("clamp_tensors", lambda m, a, b: m.clamp(a, min=b - 0.5, max=b + 0.5)),
    ("clamp_crossed", lambda m, a, b: m.clamp(a, min=b, max=b - 0.3)),
    ("clamp_tensor_min", lambda m, a, b: a.clamp(min=b)),
    ("addcmul", lambda m, a, b: m.addcmul(a, a, b, value=0.5)),
    ("addcdiv", lambda m, a, b: m.addcdiv(b, a, b * b + 1, value=-2)),
    ("lerp_scalar", lambda m, a, b: m.lerp(a, b, 0.3)),
    ("lerp_tensor", lambda m, a, b: a.lerp(b, m.sigmoid(a))),
]
SHAPES = [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((0, 3), (3,))]


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", SHAPES, ids=["same", "broadcast", "0d", "empty"])
def test_binary(name, fn, shapes):
    compare(fn, list(shapes), gradcheck=shapes[0] != (0, 3))


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_ties_split_the_gradient(op):
    a = deepnum.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = deepnum.tensor([1.0, 0.0, 3.0], requires_grad=True)
    ta, tb = (torch.tensor(v.detach().numpy(), requires_grad=True) for v in (a, b))
    getattr(deepnum, op)(a, b).sum().backward()
    getattr(torch, op)(ta, tb).sum().backward()
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)


def test_clamp_at_bounds_passes_gradient_like_torch():
    x = deepnum.tensor([-1.0, 0.0, 1.0, 2.0], dtype=deepnum.float64, requires_grad=True)
    tx = torch.tensor([-1.0, 0.0, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    tx.clamp(0.0, 1.0).sum().backward()
    assert_close(x.grad, tx.grad)


def test_sigmoid_extremes_do_not_overflow():
    compare(lambda m, x: m.sigmoid(x), [], inputs=[deepnum.tensor([-400.0, 0.0, 400.0], requires_grad=True)],
            gradcheck=False)


def test_floor_gives_zero_gradient():
    x = deepnum.tensor([0.5, 1.5], requires_grad=True)
    y = deepnum.floor(x)
    assert y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_erf_matches_math_erf_to_float64_precision():
    import math

    x = np.concatenate([np.linspace(-7, 7, 2001), [1e-300, -1e-12, 0.4999, 0.5, 0.5001]])
    ours = deepnum.erf(deepnum.tensor(x)).numpy()
    np.testing.assert_allclose(ours, [math.erf(v) for v in x], rtol=1e-13, atol=1e-300)


# ------------------------------------------------------------------- dtype promotion
PROMOTION = [
    (lambda m: m.tensor([1, 2]) + 1.5, "float32"),
    (lambda m: m.tensor([1, 2]) + m.tensor([1.0, 2.0]), "float32"),
    (lambda m: m.tensor([1, 2], dtype=m.int32) + 5, "int32"),
    (lambda m: m.tensor([True, False]) + 1, "int64"),
    (lambda m: m.tensor([True, False]) * m.tensor([True, True]), "bool"),
    (lambda m: m.tensor([1, 2]) / m.tensor([2, 4]), "float32"),
    (lambda m: m.tensor([1, 2]) / 2, "float32"),
    (lambda m: m.tensor([1.0], dtype=m.float32) + m.tensor(2.0, dtype=m.float64), "float32"),
    (lambda m: m.tensor([1.0], dtype=m.float32) + m.tensor([2.0], dtype=m.float64), "float64"),
    (lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor(2), "int32"),
    (lambda m: m.tensor([1, 2], dtype=m.int32) * m.tensor([2]), "int64"),
    (lambda m: m.tensor([1, 2]).sum(), "int64"),
    (lambda m: m.tensor([True, True]).sum(), "int64"),
    (lambda m: m.tensor([1, 2], dtype=m.int32).sum(), "int64"),
    (lambda m: m.tensor([1, 2]).sum(dtype=m.float64), "float64"),
    (lambda m: m.tensor([1, 2]).prod(), "int64"),
    (lambda m: m.tensor([1, 2], dtype=m.int32).cumsum(0), "int64"),
    (lambda m: m.sqrt(m.tensor([1, 4])), "float32"),
    (lambda m: m.exp(m.tensor([1, 4])), "float32"),
    (lambda m: m.tensor([1, 2]).clamp(min=0.5), "float32"),
    (lambda m: m.tensor([1, 2]).clamp(min=0), "int64"),
    (lambda m: m.tensor([1, 5]).max(), "int64"),
    (lambda m: m.tensor([1, 5]) > 2, "bool"),
    (lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 0.5), "float32"),
    (lambda m: m.logsumexp(m.tensor([1, 2]), 0), "float32"),
    (lambda m: m.softmax(m.tensor([1.0, 2.0]), 0, dtype=m.float64), "float64"),
    (lambda m: m.tensor([1.5, 2.5]).floor(), "float32"),
    (lambda m: m.tensor([1, 2]).floor(), "int64"),
    (lambda m: m.cat([m.tensor([1, 2], dtype=m.int32), m.tensor([1.0])]), "float32"),
]


@pytest.mark.parametrize("fn,expected", PROMOTION, ids=[str(i) for i in range(len(PROMOTION))])
def test_dtype_promotion_matches_torch(fn, expected):
    ours, theirs = fn(deepnum), fn(torch)
    assert str(ours.dtype) == expected == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_mean_of_integers_raises_like_torch():
    with pytest.raises(RuntimeError, match="mean.*floating point.*int64"):
        deepnum.tensor([1, 2]).mean()


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b,
                                lambda a, b: deepnum.maximum(a, b), lambda a, b: deepnum.where(a > 0, a, b)])
def test_broadcast_mismatch_names_both_shapes(op):
    a, b = inputs_for([(2, 3), (4,)], requires_grad=False)
    with pytest.raises(RuntimeError, match=r"\(2, 3\) and \(4,\)"):
        op(a, b)


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="clamp: at least one"):
        deepnum.clamp(deepnum.zeros(2))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.log(x), lambda m, x: m.sqrt(x), lambda m, x: 1.0 / (x * 0), lambda m, x: m.rsqrt(x),
    lambda m, x: m.log1p(x - 1), lambda m, x: x ** 0.5, lambda m, x: m.asin(x - 2),
], ids=lambda f: "")
def test_out_of_domain_gives_nan_or_inf_silently(fn):
    x = deepnum.tensor([-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(fn(deepnum, x).numpy(), fn(torch, torch.tensor([-1.0, 0.0, 1.0])).numpy())


def test_tensor_where_and_sum_to_size():
    compare(lambda m, x, y: x.where(x > 0, y), [(3, 4), (4,)])
    compare(lambda m, x: x.sum_to_size(1, 4), [(3, 4)])
    compare(lambda m, x: x.sum_to_size((3, 1)), [(3, 4)])
    with pytest.raises(RuntimeError, match=r"sum_to_size: size \[2, 4\] is not expandable to size \[3, 4\]"):
        deepnum.zeros(3, 4).sum_to_size(2, 4)


@pytest.mark.parametrize("fn", [lambda m, x: m.exp(x), lambda m, x: m.expm1(x), lambda m, x: m.cosh(x),
                                lambda m, x: m.sinh(-x), lambda m, x: m.exp2(x)], ids=lambda f: "")
def test_overflow_gives_inf_silently(fn):
    x = deepnum.tensor([1000.0, 0.0])
    np.testing.assert_array_equal(fn(deepnum, x).numpy(), fn(torch, torch.tensor([1000.0, 0.0])).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocked_relu_equals_maximum_with_zero(dtype):
    """The blocked max(x, 0) (several blocks and a partial one) keeps NaN, inf and signs exact."""
    from deepnum.ops.elementwise import _RELU_BLOCK, relu_array

    rng = np.random.default_rng(0)
    x = rng.standard_normal(2 * _RELU_BLOCK + 1234).astype(dtype)
    x[:4] = [np.nan, np.inf, -np.inf, -0.0]
    x = x.reshape(-1, 2)
    np.testing.assert_array_equal(relu_array(x), np.maximum(x, 0))
    assert relu_array(x).dtype == dtype
    strided = x[:, 0]
    np.testing.assert_array_equal(relu_array(strided), np.maximum(strided, 0))
    ints = np.arange(-5000, 5000)
    np.testing.assert_array_equal(relu_array(ints), np.maximum(ints, 0))
