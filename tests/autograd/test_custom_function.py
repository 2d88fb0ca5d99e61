"""User-defined ``Function``s: first and second derivatives, and the errors for a backward
that returns the wrong number or shape of gradients."""

import pytest

import deepnum
from deepnum.autograd import Function
from tests.autograd._pair import random_pair as _pair
from tests.helpers import assert_close, to_torch


# ------------------------------------------------------------------------- custom Function
class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * ctx.scale * x * x, None


def test_custom_function_first_and_second_order():
    x, tx = _pair(4)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and "Cube" in repr(y.grad_fn)
    (g,) = deepnum.autograd.grad(y.sum(), x, create_graph=True)
    assert_close(g, 6 * x.array**2)
    (h,) = deepnum.autograd.grad(g.sum(), x)
    assert_close(h, 12 * x.array)
    assert deepnum.autograd.gradcheck(lambda t: Cube.apply(t, 2.0), (x,))
    assert deepnum.autograd.gradgradcheck(lambda t: Cube.apply(t, 2.0), (x,))
    to_torch(x)  # the helper accepts tensors that require grad


class WrongCount(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_backward_returning_wrong_number_of_gradients_raises():
    x, _ = _pair(2)
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 1 gradients, expected 2"):
        WrongCount.apply(x, x).sum().backward()


class WrongShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_backward_returning_wrong_shape_raises():
    x, _ = _pair(2, 3)
    wrong = r"WrongShape backward returned a gradient of shape \(\).*\(2, 3\)"
    with pytest.raises(RuntimeError, match=wrong):
        WrongShape.apply(x).backward()
