"""A small differentiable problem run side by side in deepnum and PyTorch."""

from __future__ import annotations

import numpy as np
import torch

import deepnum
from deepnum.nn import Parameter

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-7, atol=1e-9)}


def initial_arrays(dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, 3)).astype(dtype)
    y = rng.standard_normal(6).astype(dtype)
    params = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype),
              rng.standard_normal(4).astype(dtype)]
    return X, y, params


def loss(lib, X, y, W, b, v):
    """Quadratic data term through a tanh layer, plus an L2 term: same code for both libraries."""
    h = lib.tanh(X @ W + b)
    r = h @ v - y
    return (r * r).mean() + 0.05 * (W * W).sum()


class Pair:
    """The same parameters and loss in deepnum and in PyTorch."""

    def __init__(self, dtype=np.float64, seed=0, maximize=False):
        # a maximising optimiser ascends the negated loss, so both runs stay well posed
        self.sign = -1.0 if maximize else 1.0
        X, y, arrays = initial_arrays(dtype, seed)
        self.dtype = dtype
        self.dn_data = (deepnum.tensor(X), deepnum.tensor(y))
        self.t_data = (torch.from_numpy(X.copy()), torch.from_numpy(y.copy()))
        self.dn = [Parameter(deepnum.tensor(a.copy())) for a in arrays]
        self.t = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]

    def dn_loss(self):
        return self.sign * loss(deepnum, *self.dn_data, *self.dn)

    def t_loss(self):
        return self.sign * loss(torch, *self.t_data, *self.t)

    def dn_closure(self, opt):
        def closure():
            opt.zero_grad()
            out = self.dn_loss()
            out.backward()
            return out
        return closure

    def t_closure(self, opt):
        def closure():
            opt.zero_grad()
            out = self.t_loss()
            out.backward()
            return out
        return closure

    def assert_close(self, msg="", tol=None):
        tol = tol or TOL[self.dtype]
        for i, (a, b) in enumerate(zip(self.dn, self.t)):
            assert a.dtype == np.dtype(self.dtype), f"{msg}: parameter {i} dtype {a.dtype}"
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol,
                                       err_msg=f"{msg}: parameter {i}")


def groups(params, spec):
    """Split ``params`` into groups: spec = None (one list) or a list of (indices, options)."""
    if spec is None:
        return list(params)
    return [dict(params=[params[i] for i in idx], **opts) for idx, opts in spec]


def run_pair(pair, dn_opt, t_opt, steps=25, start=0):
    for k in range(start, start + steps):
        dn_opt.step(pair.dn_closure(dn_opt))
        t_opt.step(pair.t_closure(t_opt))
        pair.assert_close(f"step {k + 1}")
