"""Layer-test helpers: parity with a PyTorch layer, finite-difference checks, a Keras-like harness.

``compare_with_torch`` copies a deepnum layer's state into the matching torch layer and
compares the output, the input gradients and every parameter gradient.
``run_layer_test`` checks what every layer must do (Keras' ``run_layer_test``): output shape,
parameter count, one SGD step lowers a loss, and a ``state_dict`` round trip reproduces it.
``finite_difference_check`` is Chainer's ``check_backward`` idea: along random directions v,
(f(x + εv) - f(x - εv)) / 2ε must equal ⟨∇f, v⟩ for every input and parameter.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

import deepnum
from tests.helpers import assert_close, to_torch


def load_into_torch(layer, torch_layer) -> None:
    """Copy every parameter and buffer of a deepnum layer into the torch layer (same keys)."""
    state = {k: torch.from_numpy(np.array(v.numpy(), copy=True)) for k, v in layer.state_dict().items()}
    torch_layer.load_state_dict(state, strict=True)


def compare_with_torch(layer, torch_layer, *inputs, rtol=None, atol=None, load=True, train=True):
    """Forward, input gradients and parameter gradients of ``layer`` vs ``torch_layer``."""
    if load:
        load_into_torch(layer, torch_layer)
    layer.train(train)
    torch_layer.train(train)
    assert list(layer.state_dict()) == list(torch_layer.state_dict()), "state_dict keys differ"
    t_inputs = [to_torch(x) for x in inputs]
    out = layer(*inputs)
    t_out = torch_layer(*t_inputs)
    assert str(out.dtype) == str(t_out.dtype).replace("torch.", ""), f"dtype {out.dtype} != {t_out.dtype}"
    assert_close(out, t_out, rtol, atol, "forward")
    w = np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(out.dtype)
    (out * deepnum.tensor(w)).sum().backward()
    (t_out * torch.from_numpy(w)).sum().backward()
    for i, (x, tx) in enumerate(zip(inputs, t_inputs)):
        if isinstance(x, deepnum.Tensor) and x.requires_grad:
            assert_close(x.grad, tx.grad, rtol, atol, f"gradient of input {i}")
    t_params = dict(torch_layer.named_parameters())
    for name, p in layer.named_parameters():
        assert p.grad is not None, f"{name}: no gradient"
        assert p.grad.dtype == p.dtype, f"{name}: gradient dtype {p.grad.dtype} != {p.dtype}"
        assert_close(p.grad, t_params[name].grad, rtol, atol, f"gradient of {name}")
    for name, b in layer.named_buffers():
        tb = dict(torch_layer.named_buffers())[name]
        assert_close(b, tb, rtol, atol, f"buffer {name}")
    return out


def finite_difference_check(fn, inputs, params=(), eps=1e-6, rtol=1e-5, atol=1e-8, directions=3, seed=0):
    """Directional derivatives of the float64 scalar ``sum(fn(*inputs) * w)`` vs autograd.

    ``inputs`` and ``params`` are float64 tensors requiring grad; ``fn`` must be deterministic.
    """
    leaves = [x for x in list(inputs) + list(params) if x.requires_grad]
    rng = np.random.default_rng(seed)
    out = fn(*inputs)
    w = rng.standard_normal(tuple(out.shape))
    for leaf in leaves:
        leaf.grad = None
    (out * deepnum.tensor(w)).sum().backward()
    grads = [leaf.grad.numpy().copy() for leaf in leaves]
    for _ in range(directions):
        vs = [rng.standard_normal(leaf.shape) for leaf in leaves]
        analytic = sum(float((g * v).sum()) for g, v in zip(grads, vs))
        saved = [leaf.array.copy() for leaf in leaves]
        values = []
        for sign in (1, -1):
            for leaf, s, v in zip(leaves, saved, vs):
                leaf.array[...] = s + sign * eps * v
            with deepnum.no_grad():
                values.append(float((fn(*inputs).numpy() * w).sum()))
        for leaf, s in zip(leaves, saved):
            leaf.array[...] = s
        numeric = (values[0] - values[1]) / (2 * eps)
        assert abs(numeric - analytic) <= atol + rtol * abs(numeric), f"numeric {numeric} vs autograd {analytic}"


def run_layer_test(layer, input_shape, expected_output_shape, expected_num_params, input_fn=None, seed=0):
    """Keras-style layer test: output shape, parameter count, an SGD step helps, state round trip."""
    rng = np.random.default_rng(seed)
    x = input_fn(rng) if input_fn else deepnum.tensor(rng.standard_normal(input_shape).astype(np.float32))
    layer.train()
    out = layer(x)
    assert tuple(out.shape) == tuple(expected_output_shape)
    assert sum(p.numel() for p in layer.parameters()) == expected_num_params

    # one gradient step on a fixed random regression target lowers the loss
    if expected_num_params:
        target = deepnum.tensor(rng.standard_normal(tuple(out.shape)).astype(np.float32))
        layer.eval()  # deterministic loss for the before/after comparison

        def loss():
            return ((layer(x) - target) ** 2).mean()

        before = loss()
        layer.zero_grad()
        before.backward()
        with deepnum.no_grad():
            for p in layer.parameters():
                p.array -= 1e-2 * p.grad.array
        assert float(loss()) < float(before), "one SGD step did not lower the loss"

    # state_dict round trip: a fresh copy loaded from the state gives the same outputs
    layer.eval()
    clone = copy.deepcopy(layer)
    with deepnum.no_grad():
        for p in clone.parameters():
            p.array[...] = 0
    clone.load_state_dict(layer.state_dict())
    assert_close(clone(x), layer(x), msg="output after state_dict round trip")
    assert list(clone.state_dict()) == list(layer.state_dict())
    return out
