"""The Optimizer base class: construction, groups and their errors, state_dict validation."""

from __future__ import annotations

import numpy as np
import pytest

import deepnum
from deepnum import optim
from deepnum.nn import Parameter

ALL = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "LBFGS", "Adamax", "NAdam",
       "RAdam", "Rprop", "ASGD", "MomentumEMA", "RobbinsMonro", "Newton", "ConjugateGradient"]


def _params(n=2):
    return [Parameter(deepnum.ones(3)) for _ in range(n)]


@pytest.mark.parametrize("name", ALL)
def test_empty_parameter_list(name):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        getattr(optim, name)([])


@pytest.mark.parametrize("name", ALL)
def test_invalid_learning_rate(name):
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        getattr(optim, name)(_params(), lr=-0.1)


@pytest.mark.parametrize("name,kwargs,message", [
    ("SGD", dict(momentum=-1), "Invalid momentum value: -1"),
    ("SGD", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("AdamW", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("LBFGS", dict(line_search_fn="backtracking"),
     "line_search_fn must be None or 'strong_wolfe'"),
    ("MomentumEMA", dict(beta=1.0), "Invalid beta value: 1.0"),
    ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("RAdam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("Adamax", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
])
def test_invalid_hyperparameters(name, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", "\\(").replace(")", "\\)")):
        getattr(optim, name)(_params(), **kwargs)


def test_params_must_be_an_iterable_of_leaf_tensors():
    p = Parameter(deepnum.ones(2))
    message = "should be an iterable of Tensors or dicts, but got Parameter"
    with pytest.raises(TypeError, match=message):
        optim.SGD(p, lr=0.1)
    message = "optimizer can only optimize Tensors, but one of the params is int"
    with pytest.raises(TypeError, match=message):
        optim.SGD([p, 3], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="organized in ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_parameter_in_two_groups():
    a, b = _params()
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        opt.add_param_group([b])


def test_required_hyperparameter():
    class Custom(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, dict(lr=lr))

    message = "didn't specify a value of required optimization parameter lr"
    with pytest.raises(ValueError, match=message):
        Custom(_params())
    assert Custom([{"params": _params(), "lr": 0.1}]).param_groups[0]["lr"] == 0.1
    assert repr(optim.required) == "<required parameter>"


def test_load_state_dict_validates_groups():
    a, b, c = _params(3)
    opt = optim.SGD([{"params": [a, b]}, {"params": [c]}], lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    one_group = optim.SGD([a, b, c], lr=0.1)
    message = "different number of parameter groups \\(2\\) than the optimizer \\(1\\)"
    with pytest.raises(ValueError, match=message):
        one_group.load_state_dict(sd)
    sizes = optim.SGD([{"params": [a]}, {"params": [b, c]}], lr=0.1)
    message = "doesn't match the size of optimizer's group: group 0 has 2"
    with pytest.raises(ValueError, match=message):
        sizes.load_state_dict(sd)


def test_state_dict_layout_and_hyperparameters_restored():
    a, b, c = _params(3)
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.01}], lr=0.1, momentum=0.9)
    for p in (a, b, c):
        p.grad = deepnum.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1] and sd["param_groups"][1]["params"] == [2]
    assert set(sd["state"]) == {0, 1, 2}
    np.testing.assert_array_equal(sd["state"][2]["momentum_buffer"].numpy(), np.ones(3))
    fresh = optim.SGD([{"params": _params(2)}, {"params": _params(1)}], lr=0.5)
    fresh.load_state_dict(sd)
    assert [g["lr"] for g in fresh.param_groups] == [0.1, 0.01]
    assert fresh.param_groups[0]["momentum"] == 0.9


def test_closure_required():
    with pytest.raises(RuntimeError, match="LBFGS.step\\(\\) requires a closure"):
        optim.LBFGS(_params()).step(None)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": _params(1)}, {"params": _params(1)}])


def test_named_parameters_are_accepted():
    a, b = _params()
    opt = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.param_groups[0]["params"] == [a, b]
    with pytest.raises(ValueError, match="with/without names"):
        optim.SGD([("w", a), b], lr=0.1)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_pytorch_kernel_options(name):
    opt = getattr(optim, name)(_params(), foreach=False)
    assert "foreach" not in opt.defaults  # one NumPy path: the choice is ignored
    with pytest.raises(NotImplementedError, match=f"{name}: differentiable=True is not supported"):
        getattr(optim, name)(_params(), differentiable=True)


def test_step_hooks_run_once_around_step_and_can_be_removed():
    calls = []
    a, b = _params()
    opt = optim.AdamW([a, b], lr=0.1)
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o)))
    opt.step()
    assert calls == [("pre", opt), ("post", opt)]
    pre.remove()
    opt.step()
    assert calls[2:] == [("post", opt)]
    bcd = optim.BlockCoordinateDescent(optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1))
    bcd.register_step_post_hook(lambda o, args, kwargs: calls.append(("bcd", o)))
    bcd.step()
    assert calls[-1] == ("bcd", bcd)


def test_learning_rate_may_be_a_tensor():
    a = Parameter(deepnum.ones(3))
    b = Parameter(deepnum.ones(3))
    for p in (a, b):
        p.grad = deepnum.ones(3)
    optim.Adam([a], lr=deepnum.tensor(0.1)).step()
    optim.Adam([b], lr=0.1).step()
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        optim.SGD([a], lr=deepnum.tensor(-1.0))
