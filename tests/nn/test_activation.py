"""Activations: functional forms and modules against PyTorch, float64 finite differences,
the seeds' formulas (002 slopes, 003 step and maxout) and reprs."""

import math

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs
from tests.nn._harness import compare_with_torch, finite_difference_check

TF = torch.nn.functional

# (deepnum fn, torch fn) on the same arguments
PAIRS = {
    "relu": (F.relu, TF.relu),
    "relu6": (F.relu6, TF.relu6),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1)),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    "selu": (F.selu, TF.selu),
    "celu": (lambda x: F.celu(x, 1.5), lambda x: TF.celu(x, 1.5)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta": (lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0)),
    "softmax0": (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0)),
    "softmax-1": (lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1)),
    "log_softmax1": (lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1)),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 1.5), lambda x: TF.hardtanh(x, -0.5, 1.5)),
    "threshold": (lambda x: F.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0)),
    "silu": (F.silu, TF.silu),
    "mish": (F.mish, TF.mish),
    "softsign": (F.softsign, TF.softsign),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_matches_torch(name, dtype):
    dn_fn, t_fn = PAIRS[name]
    (x,) = random_inputs((4, 5, 3), dtype=dtype, low=-4, high=4, rng=np.random.default_rng(3))
    check_against_torch(dn_fn, t_fn, [x])


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_functional_gradcheck_float64(name):
    (x,) = random_inputs((3, 4), dtype=np.float64, low=-3, high=3, rng=np.random.default_rng(5))
    # keep away from the kinks, where finite differences straddle two pieces
    x.array[np.abs(x.array) < 1e-2] += 0.1
    x.array[np.abs(x.array - 0.3) < 1e-2] += 0.1
    finite_difference_check(PAIRS[name][0], [x])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "logsigmoid", "softmax-1", "log_softmax1", "gelu", "silu"])
def test_extreme_inputs_stay_finite_and_match_torch(name):
    x = deepnum.tensor(np.array([[-400.0, -30.0, 0.0, 30.0, 400.0]], np.float32), requires_grad=True)
    out = check_against_torch(*PAIRS[name], [x])
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "elu", "selu", "softplus", "softmax-1", "log_softmax1", "sigmoid"])
def test_second_derivatives_match_torch(name):
    dn_fn, t_fn = PAIRS[name]
    (x,) = random_inputs((3, 4), dtype=np.float64, rng=np.random.default_rng(2))
    check_against_torch(
        lambda x: deepnum.autograd.grad((dn_fn(x) ** 2).sum(), [x], create_graph=True)[0],
        lambda x: torch.autograd.grad((t_fn(x) ** 2).sum(), [x], create_graph=True)[0],
        [x],
    )


MODULES = [
    (lambda m: m.ReLU()), (lambda m: m.ReLU(inplace=True)), (lambda m: m.ReLU6()),
    (lambda m: m.LeakyReLU()), (lambda m: m.LeakyReLU(0.2, inplace=True)), (lambda m: m.ELU()),
    (lambda m: m.ELU(alpha=0.5)), (lambda m: m.CELU()), (lambda m: m.SELU()), (lambda m: m.GELU()),
    (lambda m: m.GELU(approximate="tanh")), (lambda m: m.Sigmoid()), (lambda m: m.Tanh()),
    (lambda m: m.Softplus()), (lambda m: m.Softplus(beta=2, threshold=10)), (lambda m: m.Softmax(dim=1)),
    (lambda m: m.LogSoftmax(dim=-1)), (lambda m: m.Softmin(dim=0)), (lambda m: m.Hardtanh()),
    (lambda m: m.Hardtanh(-2.0, 2.0)), (lambda m: m.Threshold(0.1, 20.0)), (lambda m: m.SiLU()),
    (lambda m: m.Mish()), (lambda m: m.Softsign()), (lambda m: m.Tanhshrink()), (lambda m: m.LogSigmoid()),
    (lambda m: m.Hardsigmoid()), (lambda m: m.Hardswish()), (lambda m: m.PReLU()),
    (lambda m: m.PReLU(3, init=0.1)),
]


@pytest.mark.parametrize("make", MODULES)
def test_module_matches_torch_including_repr(make):
    layer, t_layer = make(nn), make(torch.nn)
    assert repr(layer) == repr(t_layer)
    (x,) = random_inputs((4, 3, 2), low=-3, high=3)
    if getattr(layer, "inplace", False):  # in place on a non-leaf, so that autograd records it
        check_against_torch(lambda x: layer(x * 1), lambda x: t_layer(x * 1), [x])
    else:
        compare_with_torch(layer, t_layer, x)


def test_inplace_writes_into_input():
    x = deepnum.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    assert y is x and x.tolist() == [0.0, 2.0]
    leaf = deepnum.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor"):
        nn.ReLU(inplace=True)(leaf)
    h = leaf * 2
    nn.LeakyReLU(0.5, inplace=True)(h)
    h.sum().backward()
    assert leaf.grad.tolist() == [1.0, 2.0]


def test_prelu_per_channel_gradient_matches_torch():
    layer = nn.PReLU(3)
    (x,) = random_inputs((2, 3, 4, 4))
    compare_with_torch(layer, torch.nn.PReLU(3), x)
    with pytest.raises(RuntimeError, match="weight has 3 parameters"):
        layer(deepnum.zeros(2, 4))


def test_prelu_gradcheck_float64():
    layer = nn.PReLU(3).double()
    (x,) = random_inputs((2, 3, 4), dtype=np.float64)
    finite_difference_check(layer, [x], [layer.weight])


def test_softmax_implicit_dim_warns_like_torch():
    x = deepnum.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    assert_close(y.sum(1), np.ones(2, np.float32))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        nn.LogSoftmax()(x)


def test_softmax_dtype_argument():
    x = deepnum.randn(2, 3)
    assert F.softmax(x, 1, dtype=deepnum.float64).dtype == deepnum.float64


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(deepnum.zeros(2), approximate="fast")
    with pytest.raises(IndexError, match="dimension out of range"):
        F.softmax(deepnum.zeros(2, 3), dim=2)
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, -1.0)


# ------------------------------------------------------------------ beyond PyTorch (the seeds)
def test_step_is_heaviside_with_zero_gradient():
    """003 §1.2: f(z) = 0 for z < 0, a for z ≥ 0."""
    x = deepnum.tensor([-2.0, -1e-6, 0.0, 3.0], requires_grad=True)
    y = nn.Step(a=2.5)(x)
    assert y.tolist() == [0.0, 0.0, 2.5, 2.5]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert repr(nn.Step()) == "Step(a=1.0)"


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_scaled_sigmoid_and_tanh_follow_002(alpha):
    """002: f = σ(αx), f' = α σ (1 - σ); f = tanh(αx), f' = α (1 - f²)."""
    (x,) = random_inputs((5, 4))
    check_against_torch(lambda x: F.scaled_sigmoid(x, alpha), lambda x: torch.sigmoid(alpha * x), [x])
    z = deepnum.tensor([0.3], requires_grad=True)
    nn.ScaledSigmoid(alpha)(z).backward()
    sig = 1 / (1 + math.exp(-alpha * 0.3))
    assert math.isclose(z.grad.item(), alpha * sig * (1 - sig), rel_tol=1e-5)
    z.grad = None
    nn.ScaledTanh(alpha)(z).backward()
    assert math.isclose(z.grad.item(), alpha * (1 - math.tanh(alpha * 0.3) ** 2), rel_tol=1e-5)
    (x,) = random_inputs((5, 4))
    check_against_torch(lambda x: F.scaled_tanh(x, alpha), lambda x: torch.tanh(alpha * x), [x])
    (x64,) = random_inputs((3, 3), dtype=np.float64)
    finite_difference_check(lambda x: F.scaled_sigmoid(x, alpha) + F.scaled_tanh(x, alpha), [x64])
    assert repr(nn.ScaledTanh(alpha)) == f"ScaledTanh(alpha={alpha})"


def test_leaky_relu_0_1_of_003():
    """003 §1.2 writes leaky ReLU as max(0.1x, x)."""
    x = deepnum.tensor([-3.0, -0.5, 0.0, 2.0])
    assert_close(nn.LeakyReLU(0.1)(x), np.maximum(0.1 * x.numpy(), x.numpy()))


ELEMENTWISE = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "gelu_tanh", "sigmoid", "tanh",
               "softplus", "hardtanh", "threshold", "silu", "mish", "softsign", "tanhshrink", "logsigmoid",
               "hardsigmoid", "hardswish"]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shape", [(), (0, 3)])
def test_zero_dim_and_empty_inputs(name, shape):
    (x,) = random_inputs(shape)
    check_against_torch(*PAIRS[name], [x])


def test_softmax_of_zero_dim_and_float64_promotion_free():
    x = deepnum.tensor(2.5, requires_grad=True)
    y = F.softmax(x, 0)
    assert y.shape == () and y.item() == 1.0
    (x32,) = random_inputs((3, 4))
    for fn in (F.softmax, F.log_softmax):
        assert fn(x32, 1).dtype == deepnum.float32
