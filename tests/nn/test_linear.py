"""Linear, Bilinear, Identity, Flatten, Unflatten and Maxout against PyTorch."""

import math

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs
from tests.nn._harness import compare_with_torch, finite_difference_check, run_layer_test


@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 5), (2, 2, 3, 5), (5,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    layer = nn.Linear(5, 6, bias=bias)
    (x,) = random_inputs(shape)
    compare_with_torch(layer, torch.nn.Linear(5, 6, bias=bias), x)


def test_linear_keeps_float32_and_runs_float64():
    layer = nn.Linear(3, 2)
    assert layer(deepnum.randn(4, 3)).dtype == deepnum.float32
    layer.double()
    (x,) = random_inputs((4, 3), dtype=np.float64)
    out = compare_with_torch(layer, torch.nn.Linear(3, 2).double(), x)
    assert out.dtype == deepnum.float64


def test_linear_is_one_graph_node():
    layer = nn.Linear(3, 2)
    y = layer(deepnum.randn(4, 3, requires_grad=True))
    assert type(y.grad_fn).__name__ == "Linear"
    assert all(edge is not None for edge in y.grad_fn.edges)


def test_linear_gradcheck_float64():
    layer = nn.Linear(4, 3).double()
    (x,) = random_inputs((2, 5, 4), dtype=np.float64)
    finite_difference_check(layer, [x], list(layer.parameters()))


def test_linear_second_derivative_matches_torch():
    (x, w, b) = random_inputs((3, 4), (2, 4), (2,), dtype=np.float64)
    check_against_torch(
        lambda x, w, b: deepnum.autograd.grad((F.linear(x, w, b) ** 2).sum(), [x], create_graph=True)[0],
        lambda x, w, b: torch.autograd.grad((torch.nn.functional.linear(x, w, b) ** 2).sum(), [x], create_graph=True)[0],
        [x, w, b],
    )


def test_linear_default_init_bounds_match_torch():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # U(-bound, bound), not something narrower
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # the variance of U(±bound)
    assert layer.weight.shape == (300, 400) and layer.bias.shape == (300,)


def test_linear_input_feature_error():
    layer = nn.Linear(784, 10)
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=784\): input has 783 features \(shape \(32, 783\)\)"):
        layer(deepnum.zeros(32, 783))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(deepnum.zeros(2, 3, dtype=deepnum.float64), deepnum.zeros(4, 3))


def test_linear_repr_and_state_dict_match_torch():
    assert repr(nn.Linear(3, 4)) == repr(torch.nn.Linear(3, 4))
    assert repr(nn.Linear(3, 4, bias=False)) == repr(torch.nn.Linear(3, 4, bias=False))
    assert list(nn.Linear(3, 4, bias=False).state_dict()) == ["weight"]


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(bias):
    layer = nn.Bilinear(3, 4, 5, bias=bias)
    x1, x2 = random_inputs((6, 3), (6, 4))
    compare_with_torch(layer, torch.nn.Bilinear(3, 4, 5, bias=bias), x1, x2)
    assert repr(layer) == repr(torch.nn.Bilinear(3, 4, 5, bias=bias))
    bound = 1 / math.sqrt(3)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound


def test_bilinear_leading_dims_and_errors():
    layer = nn.Bilinear(3, 4, 2)
    x1, x2 = random_inputs((2, 5, 3), (2, 5, 4))
    compare_with_torch(layer, torch.nn.Bilinear(3, 4, 2), x1, x2)
    with pytest.raises(RuntimeError, match="bilinear"):
        layer(deepnum.zeros(2, 3), deepnum.zeros(2, 5))


def test_identity_flatten_unflatten():
    (x,) = random_inputs((2, 3, 4, 5))
    assert nn.Identity(54, unused=1)(x) is x
    check_against_torch(nn.Flatten(), torch.nn.Flatten(), [x])
    (x,) = random_inputs((2, 3, 4, 5))
    check_against_torch(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), [x])
    (y,) = random_inputs((2, 12))
    check_against_torch(nn.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4)), [y])
    (y,) = random_inputs((2, 12))
    check_against_torch(nn.Unflatten(-1, (2, -1)), torch.nn.Unflatten(-1, (2, -1)), [y])
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
    assert repr(nn.Unflatten(1, (3, 4))) == repr(torch.nn.Unflatten(1, (3, 4)))
    with pytest.raises(RuntimeError, match="cannot unflatten dimension of size 12"):
        nn.Unflatten(1, (5, 4))(y)


def test_maxout_takes_max_of_pieces():
    """003 §1.2: max(w₁ᵀx + b₁, w₂ᵀx + b₂) — checked against the formula written out."""
    layer = nn.Maxout(4, 3, pieces=2)
    (x,) = random_inputs((5, 4))
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    z = x.detach().numpy() @ w.T + b
    expected = np.maximum(z[:, 0::2], z[:, 1::2])
    out = layer(x)
    assert_close(out, expected)
    out.sum().backward()
    # the gradient of each unit reaches only the winning piece
    winner = (z[:, 0::2] >= z[:, 1::2])
    mask = np.stack([winner, ~winner], axis=-1).reshape(5, 6)
    assert_close(layer.bias.grad, mask.sum(0).astype(np.float32))
    assert repr(layer) == "Maxout(in_features=4, out_features=3, pieces=2, bias=True)"


def test_maxout_functional_against_torch_amax_and_gradcheck():
    (x,) = random_inputs((3, 8, 2))
    check_against_torch(
        lambda x: F.maxout(x, 4, dim=1),
        lambda x: x.reshape(3, 2, 4, 2).amax(dim=2),
        [x],
    )
    (x64,) = random_inputs((3, 6), dtype=np.float64)
    finite_difference_check(lambda x: F.maxout(x, 3), [x64])
    with pytest.raises(RuntimeError, match="not a multiple of 4"):
        F.maxout(deepnum.zeros(2, 6), 4)


def test_layer_harness_on_dense_layers():
    run_layer_test(nn.Linear(4, 3), (8, 4), (8, 3), 15)
    run_layer_test(nn.Maxout(4, 3, pieces=2), (8, 4), (8, 3), 30)
    run_layer_test(nn.Flatten(), (2, 3, 4), (2, 12), 0)
