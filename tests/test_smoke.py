"""Fast first check: the engine differentiates a tiny network the same way PyTorch does."""

import numpy as np
import torch

import deepnum
from tests.helpers import assert_close, check_against_torch, random_inputs


def test_mlp_expression_matches_torch():
    x, w1, w2 = random_inputs((4, 3), (3, 5), (5, 2))
    check_against_torch(
        lambda x, a, b: ((x @ a).tanh() @ b).sigmoid().mean(),
        lambda x, a, b: ((x @ a).tanh() @ b).sigmoid().mean(),
        [x, w1, w2],
    )


def test_second_derivative_of_cube():
    x = deepnum.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (g,) = deepnum.autograd.grad((x**3).sum(), x, create_graph=True)
    (h,) = deepnum.autograd.grad(g.sum(), x)
    assert_close(h, np.array([6.0, -12.0, 18.0], dtype=np.float32))


def test_long_chain_backpropagates_without_recursion():
    x = deepnum.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    assert_close(x.grad, torch.tensor([1.0001**10_000]), rtol=1e-3)
