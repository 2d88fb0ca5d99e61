"""Convolutions at typical sizes, forward and forward + backward, deepnum vs PyTorch.

Cases: LeNet's two layers (5×5), a 3×3 64→64 layer on 32×32 maps (VGG/ResNet body), a
strided 3×3, a 1×1, a 1-d convolution, a stride-2 transposed convolution, and a 15×15
kernel computed directly and by FFT (``F.conv2d_fft``; the PyTorch side is its direct
``conv2d`` in both rows, so the two deepnum figures compare FFT with im2col).

Run: ``python benchmarks/bench_conv.py`` (``--no-memory`` to skip the memory subprocesses).
"""

from __future__ import annotations

import numpy as np

from common import Case, main

# name, function, input shape, weight shape, keyword arguments
LAYERS = [
    ("lenet conv1 5x5", "conv2d", (64, 1, 28, 28), (6, 1, 5, 5), dict(padding=2)),
    ("lenet conv2 5x5", "conv2d", (64, 6, 14, 14), (16, 6, 5, 5), dict()),
    ("3x3 64->64 32x32 b32", "conv2d", (32, 64, 32, 32), (64, 64, 3, 3), dict(padding=1)),
    ("3x3 s2 32->64 32x32", "conv2d", (32, 32, 32, 32), (64, 32, 3, 3), dict(stride=2, padding=1)),
    ("1x1 64->128 16x16", "conv2d", (32, 64, 16, 16), (128, 64, 1, 1), dict()),
    ("conv1d k3 64ch L256", "conv1d", (32, 64, 256), (64, 64, 3), dict(padding=1)),
    (
        "convT 4x4 s2 32->16",
        "conv_transpose2d",
        (16, 32, 16, 16),
        (32, 16, 4, 4),
        dict(stride=2, padding=1),
    ),
    ("15x15 direct", "conv2d", (8, 4, 64, 64), (8, 4, 15, 15), dict(padding=7)),
    ("15x15 fft", "conv2d_fft", (8, 4, 64, 64), (8, 4, 15, 15), dict(padding=7)),
]


def _arrays(xs, ws):
    rng = np.random.default_rng(0)
    return rng.standard_normal(xs, dtype=np.float32), rng.standard_normal(ws, dtype=np.float32)


def _maker(lib, fn_name, xs, ws, kw, backward):
    def make():
        x, w = _arrays(xs, ws)
        if lib == "deepnum":
            import deepnum
            import deepnum.nn.functional as F

            fn = getattr(F, fn_name)
            x, w = (
                deepnum.tensor(x, requires_grad=backward),
                deepnum.tensor(w, requires_grad=backward),
            )
            ctx = deepnum.enable_grad if backward else deepnum.no_grad
        else:
            import torch
            import torch.nn.functional as F

            fn = getattr(F, fn_name.replace("_fft", ""))
            x, w = torch.tensor(x, requires_grad=backward), torch.tensor(w, requires_grad=backward)
            ctx = torch.enable_grad if backward else torch.no_grad

        def run():
            with ctx():
                y = fn(x, w, **kw)
                if backward:
                    x.grad = w.grad = None
                    y.sum().backward()

        return run

    return make


CASES = [
    Case(
        f"{name} {'f+b' if bw else 'fwd'}",
        _maker("deepnum", fn, xs, ws, kw, bw),
        _maker("torch", fn, xs, ws, kw, bw),
        number=3,
        unit="ms",
        scale=1e3,
    )
    for name, fn, xs, ws, kw in LAYERS
    for bw in (False, True)
]

if __name__ == "__main__":
    main("Convolutions, float32, forward and forward+backward", CASES, __file__, repeats=5)
