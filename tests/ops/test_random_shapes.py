"""Seeded random shapes, dims and broadcasts: forward and gradients against PyTorch."""

import numpy as np
import pytest

from tests.ops._common import compare

CASES = 24


def _shape(rng, ndim=None):
    ndim = rng.integers(1, 5) if ndim is None else ndim
    return tuple(int(s) for s in rng.integers(1, 5, size=ndim))


def _broadcast_pair(rng):
    """Two shapes that broadcast: some dims set to 1, some leading dims dropped."""
    full = _shape(rng)
    a = tuple(1 if rng.random() < 0.3 else s for s in full)
    b = tuple(1 if rng.random() < 0.3 else s for s in full)[int(rng.integers(0, len(full) + 1)):]
    return a, b


BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "atan2", "where", "lerp", "clamp"]


@pytest.mark.parametrize("seed", range(CASES))
def test_binary_broadcasting(seed):
    rng = np.random.default_rng(seed)
    a, b = _broadcast_pair(rng)
    name = BINARY[seed % len(BINARY)]
    fns = {
        "add": lambda m, x, y: x + y, "sub": lambda m, x, y: x - y, "mul": lambda m, x, y: x * y,
        "div": lambda m, x, y: x / (y * y + 0.5), "maximum": lambda m, x, y: m.maximum(x, y),
        "minimum": lambda m, x, y: m.minimum(x, y), "pow": lambda m, x, y: m.pow(x * x + 0.5, y),
        "atan2": lambda m, x, y: m.atan2(x, y), "where": lambda m, x, y: m.where(x > y, x, y * 2),
        "lerp": lambda m, x, y: m.lerp(x, y, 0.3), "clamp": lambda m, x, y: m.clamp(x, min=y),
    }
    compare(fns[name], [a, b], seed=seed)


REDUCTIONS = {
    "sum": lambda m, x, d, k: x.sum(d, keepdim=k),
    "mean": lambda m, x, d, k: x.mean(d, keepdim=k),
    "var": lambda m, x, d, k: x.var(d, keepdim=k, correction=0),
    "std": lambda m, x, d, k: x.std(d, keepdim=k),
    "prod": lambda m, x, d, k: x.prod(d, keepdim=k),
    "amax": lambda m, x, d, k: x.amax(d, keepdim=k),
    "max": lambda m, x, d, k: x.max(d, keepdim=k),
    "min": lambda m, x, d, k: m.min(x, d, k),
    "argmin": lambda m, x, d, k: x.argmin(d, keepdim=k),
    "logsumexp": lambda m, x, d, k: x.logsumexp(d, keepdim=k),
    "norm": lambda m, x, d, k: x.norm(dim=d, keepdim=k),
    "softmax": lambda m, x, d, k: m.softmax(x, d),
    "log_softmax": lambda m, x, d, k: m.log_softmax(x, d),
    "cumsum": lambda m, x, d, k: x.cumsum(d),
    "sort": lambda m, x, d, k: x.sort(d, descending=k),
}


@pytest.mark.parametrize("seed", range(CASES))
def test_reductions_on_random_dims(seed):
    rng = np.random.default_rng(100 + seed)
    shape = _shape(rng)
    name = list(REDUCTIONS)[seed % len(REDUCTIONS)]
    d = int(rng.integers(-len(shape), len(shape)))
    keep = bool(rng.integers(0, 2))
    if name == "std" and shape[d] == 1:
        shape = shape[:d % len(shape)] + (3,) + shape[d % len(shape) + 1:]
    fn = REDUCTIONS[name]
    compare(lambda m, x: fn(m, x, d, keep), [shape], seed=seed, low=0.5 if name == "prod" else -2.0)


@pytest.mark.parametrize("seed", range(CASES))
def test_gather_cat_getitem_on_random_shapes(seed):
    rng = np.random.default_rng(200 + seed)
    shape = _shape(rng, int(rng.integers(2, 4)))
    d = int(rng.integers(-len(shape), len(shape)))
    axis = d % len(shape)
    idx_shape = tuple(int(rng.integers(1, (s if i != axis else 4) + 1)) for i, s in enumerate(shape))
    index = rng.integers(0, shape[axis], size=idx_shape)
    rows = rng.integers(-shape[0], shape[0], size=3)
    start = int(rng.integers(0, shape[-1]))

    def fn(m, x):
        g = m.gather(x, d, m.tensor(index))
        c = m.cat([x, x[..., start:] * 2], dim=-1)
        s = x[m.tensor(rows), ..., start::2]
        return g.sum() * c.mean() + (s ** 2).sum() + m.stack(list(x.unbind(d)), dim=d).pow(3).sum()

    compare(fn, [shape], seed=seed)
