"""gradcheck / gradgradcheck pass on correct gradients and catch wrong ones."""

import numpy as np
import pytest

import deepnum
from deepnum.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def _randn(*shape, requires_grad=True, seed=0):
    rng = np.random.default_rng(seed)
    return deepnum.tensor(rng.standard_normal(shape), dtype=deepnum.float64,
                          requires_grad=requires_grad)


class WrongSquare(Function):
    """x^2 with a deliberately wrong derivative (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x


class WrongSecondInput(Function):
    """x * y whose gradient for y forgets one element."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gy = grad * x
        gy = gy * np.array([1.0, 1.0, 0.0, 1.0])
        return grad * y, gy


class GoodCube(Function):
    """x^3 with a backward written in differentiable operators (so second order works)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class CubeWithWrongSecondOrder(Function):
    """x^3 whose first derivative is right only on arrays: under create_graph it is detached."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if isinstance(x, deepnum.Tensor):
            x = x.detach()
        return grad * 3 * x * x


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda a, b: a * b + a.exp(), [(3, 4), (3, 4)]),
        (lambda a, b: a @ b, [(2, 3), (3, 4)]),
        (lambda a, b: (a + b).tanh().sum(dim=0), [(3, 1), (1, 4)]),
        (lambda a: a.sigmoid().mean(), [(5,)]),
        (lambda a, b: (a / (b * b + 1.0), a.sum()), [(2, 3), (2, 3)]),
    ],
)
def test_passes_on_correct_ops(fn, shapes):
    inputs = tuple(_randn(*s, seed=k) for k, s in enumerate(shapes))
    assert gradcheck(fn, inputs)
    assert gradcheck(fn, inputs, fast_mode=True)


def test_fails_on_wrong_gradient_naming_input_and_element():
    x = _randn(2, 3)
    with pytest.raises(GradcheckError, match=r"input 0.*numerical = .*analytical = "):
        gradcheck(WrongSquare.apply, (x,))
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_worst_element_is_located():
    x = _randn(4, seed=1)
    y = _randn(4, seed=2)
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSecondInput.apply, (x, y))
    message = str(info.value)
    assert "with respect to input 1" in message
    assert "output index (2,), input index (2,)" in message
    numerical = float(message.split("numerical = ")[1].split(",")[0])
    np.testing.assert_allclose(numerical, x.array[2], rtol=1e-6)
    assert "analytical = 0.0" in message


def test_fast_mode_also_catches_wrong_gradient():
    x = _randn(3, 2)
    with pytest.raises(GradcheckError, match="fast mode.*input 0"):
        gradcheck(WrongSquare.apply, (x,), fast_mode=True)


def test_gradcheck_error_is_runtime_error():
    assert issubclass(GradcheckError, RuntimeError)


def test_float32_inputs_are_promoted_to_float64():
    x = deepnum.tensor([0.5, -1.5, 2.0], requires_grad=True)
    assert gradcheck(lambda t: (t**3).sum(), (x,))


def test_non_tensor_and_constant_inputs_pass_through():
    x = _randn(3)
    c = _randn(3, requires_grad=False, seed=3)
    assert gradcheck(lambda t, k, s: (t * k) ** s, (x, c, 2))


def test_requires_some_input_needing_grad():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda t: t * 2, (_randn(2, requires_grad=False),))


def test_gradgradcheck_passes_on_twice_differentiable_ops():
    x = _randn(2, 3)
    w = _randn(3, 2, seed=4)
    assert gradgradcheck(lambda a, b: (a @ b).tanh(), (x, w))
    assert gradgradcheck(GoodCube.apply, (x,))


def test_gradgradcheck_catches_wrong_second_derivative():
    x = _randn(3)
    assert gradcheck(CubeWithWrongSecondOrder.apply, (x,))
    with pytest.raises(GradcheckError, match="gradgradcheck"):
        gradgradcheck(CubeWithWrongSecondOrder.apply, (x,))
