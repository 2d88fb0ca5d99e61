"""Helpers for testing deepnum against PyTorch and against finite differences.

``check_against_torch`` runs the same function in deepnum and in PyTorch on the same random
inputs and compares the output and the gradient of every input (the tinygrad
``helper_test_op`` idea).
"""

from __future__ import annotations

import numpy as np
import torch

import deepnum

TOL = {np.dtype("float32"): dict(rtol=1e-4, atol=1e-5), np.dtype("float64"): dict(rtol=1e-7, atol=1e-9)}


def to_torch(x, requires_grad=None):
    """A torch tensor with the same values (and requires_grad) as a deepnum tensor or array."""
    if isinstance(x, deepnum.Tensor):
        t = torch.from_numpy(np.array(x.detach().numpy(), copy=True))
        rg = x.requires_grad if requires_grad is None else requires_grad
        return t.requires_grad_(rg) if rg else t
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x.copy())
    return x


def to_numpy(x):
    if isinstance(x, deepnum.Tensor):
        return x.detach().numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(actual, expected, rtol=None, atol=None, msg=""):
    """deepnum vs torch (or arrays) within the contract's tolerance for the dtype."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{msg} shape {a.shape} != {e.shape}"
    tol = TOL.get(a.dtype, dict(rtol=1e-4, atol=1e-5))
    np.testing.assert_allclose(
        a, e, rtol=rtol if rtol is not None else tol["rtol"], atol=atol if atol is not None else tol["atol"], err_msg=msg
    )


def random_inputs(*shapes, dtype=np.float32, low=-2.0, high=2.0, rng=None, requires_grad=True):
    rng = rng or np.random.default_rng(0)
    return [
        deepnum.tensor(rng.uniform(low, high, size=s).astype(dtype), requires_grad=requires_grad)
        for s in shapes
    ]


def check_against_torch(dn_fn, torch_fn, inputs, rtol=None, atol=None, grad=True, check_dtype=True):
    """Compare forward values and input gradients of ``dn_fn`` and ``torch_fn`` on ``inputs``.

    ``inputs`` are deepnum tensors (those with requires_grad get their gradient compared).
    The backward pass uses a random upstream gradient, so every output element matters.
    """
    t_inputs = [to_torch(x) for x in inputs]
    out = dn_fn(*inputs)
    t_out = torch_fn(*t_inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    t_outs = t_out if isinstance(t_out, (tuple, list)) else (t_out,)
    for o, t in zip(outs, t_outs):
        if check_dtype:
            assert str(o.dtype) == str(t.dtype).replace("torch.", ""), f"dtype {o.dtype} != {t.dtype}"
        assert_close(o, t, rtol, atol, "forward")
    if not grad:
        return out
    rng = np.random.default_rng(1)
    dn_total, t_total = None, None
    for o, t in zip(outs, t_outs):
        if not o.requires_grad:
            continue
        w = rng.standard_normal(o.shape).astype(o.dtype)
        dn_term = (o * deepnum.tensor(w)).sum()
        t_term = (t * torch.from_numpy(w)).sum()
        dn_total = dn_term if dn_total is None else dn_total + dn_term
        t_total = t_term if t_total is None else t_total + t_term
    if dn_total is None:
        return out
    dn_total.backward()
    t_total.backward()
    for i, (x, tx) in enumerate(zip(inputs, t_inputs)):
        if isinstance(x, deepnum.Tensor) and x.requires_grad:
            assert x.grad is not None, f"input {i}: deepnum gave no gradient"
            assert_close(x.grad, tx.grad, rtol, atol, f"gradient of input {i}")
    return out
