"""Large matmul: ``C = A @ B`` with A, B of 2048x2048 float32, then ``C.backward(G)``.

Three GEMMs per call (forward, dA = G B^T, dB = A^T G), so this measures how directly the
framework hands work to the BLAS (NumPy's OpenBLAS for deepnum, MKL for PyTorch) and how
many temporaries it allocates on the way. Gradients are reset to None before each call.

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_matmul.py``
"""

from __future__ import annotations

import numpy as np

from common import Case, main

N = 2048


def _arrays():
    rng = np.random.default_rng(0)
    return [rng.standard_normal((N, N), dtype=np.float32) for _ in range(3)]


def make_deepnum():
    import deepnum

    a, b, g = _arrays()
    a = deepnum.tensor(a, requires_grad=True)
    b = deepnum.tensor(b, requires_grad=True)
    g = deepnum.tensor(g)

    def step():
        a.grad = b.grad = None
        (a @ b).backward(g)

    return step


def make_torch():
    import torch

    a, b, g = (torch.from_numpy(x) for x in _arrays())
    a.requires_grad_(True)
    b.requires_grad_(True)

    def step():
        a.grad = b.grad = None
        (a @ b).backward(g)

    return step


CASES = [Case(f"matmul {N}x{N} fwd+bwd", make_deepnum, make_torch, number=1, unit="ms", scale=1e3)]

if __name__ == "__main__":
    main(f"Matmul {N}x{N} float32, forward + backward", CASES, __file__, repeats=5)
