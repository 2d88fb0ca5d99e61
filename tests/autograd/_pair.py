"""A random float64 leaf and its PyTorch twin, for the engine tests."""

import numpy as np
import torch

import deepnum


def random_pair(*shape, seed=0, dtype=np.float64):
    """The same standard-normal values as a deepnum and a torch leaf requiring grad."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return deepnum.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
