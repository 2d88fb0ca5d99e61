"""Shared harness for the op tests: one function written against a module (deepnum or torch)."""

from __future__ import annotations

import numpy as np
import torch

import deepnum
from tests.helpers import check_against_torch


def inputs_for(shapes, dtype=np.float64, seed=0, low=-2.0, high=2.0, requires_grad=True):
    rng = np.random.default_rng(seed)
    return [deepnum.tensor(rng.uniform(low, high, size=s).astype(dtype), requires_grad=requires_grad)
            for s in shapes]


def compare(fn, shapes, dtype=np.float64, seed=0, low=-2.0, high=2.0, gradcheck=True, inputs=None, **tol):
    """``fn(module, *tensors)`` in deepnum and torch: values, dtypes, gradients, then finite differences."""
    xs = inputs if inputs is not None else inputs_for(shapes, dtype, seed, low, high)
    out = check_against_torch(lambda *a: fn(deepnum, *a), lambda *a: fn(torch, *a), xs, **tol)
    if gradcheck and any(x.requires_grad for x in xs):
        fresh = [deepnum.tensor(x.detach().numpy().astype(np.float64), requires_grad=x.requires_grad) for x in xs]
        assert deepnum.autograd.gradcheck(lambda *a: fn(deepnum, *a), tuple(fresh))
    return out
