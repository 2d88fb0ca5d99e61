"""Per-op overhead: forward + backward of one op on tiny (4x4 float32) tensors, in µs per op.

At this size the arithmetic is negligible, so the figure is the framework's bookkeeping:
building the graph node, dispatch, and the engine's backward walk. Each call runs
``y = op(a, b)`` then ``y.backward(g)`` (``sum`` backpropagates from its scalar result);
gradients accumulate into the leaves' ``.grad`` as in a training loop.

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_overhead.py``
"""

from __future__ import annotations

import numpy as np

from common import Case, main

SHAPE = (4, 4)


def _arrays():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(SHAPE).astype(np.float32) for _ in range(3)]


def _deepnum(op):
    def make():
        import deepnum

        a, b, g = _arrays()
        a = deepnum.tensor(a, requires_grad=True)
        b = deepnum.tensor(b, requires_grad=True)
        g = deepnum.tensor(g)
        if op == "sum":
            return lambda: a.sum().backward()
        fn = {"add": lambda: a + b, "matmul": lambda: a @ b, "relu": lambda: a.relu()}[op]
        return lambda: fn().backward(g)

    return make


def _torch(op):
    def make():
        import torch

        a, b, g = (torch.from_numpy(x) for x in _arrays())
        a.requires_grad_(True)
        b.requires_grad_(True)
        if op == "sum":
            return lambda: a.sum().backward()
        fn = {"add": lambda: a + b, "matmul": lambda: a @ b, "relu": lambda: a.relu()}[op]
        return lambda: fn().backward(g)

    return make


CASES = [
    Case(f"{op} fwd+bwd 4x4", _deepnum(op), _torch(op), number=2000, unit="us", scale=1e6)
    for op in ("add", "matmul", "relu", "sum")
]

if __name__ == "__main__":
    main("Per-op overhead (tiny tensors, forward + backward)", CASES, __file__, repeats=15)
