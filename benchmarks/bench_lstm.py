"""Recurrent layers: one training step of an LSTM (and a GRU), deepnum against PyTorch.

The reference case: LSTM(input 64, hidden 256), sequence length 50, batch 32; one call =
forward over the whole sequence, mean-squared loss on the outputs, backward (BPTT), Adam step.
Both frameworks start from the same weights and see the same inputs. deepnum runs the
sequence in its fused NumPy kernel (one input GEMM for all steps, one recurrent GEMM per step
forward and backward); PyTorch runs its own CPU kernel.

Run: ``python benchmarks/bench_lstm.py`` (``--no-memory`` to skip the memory subprocesses).
"""

from __future__ import annotations

import numpy as np
from common import Case, main

T, BATCH, INPUT, HIDDEN = 50, 32, 64, 256


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((T, BATCH, INPUT)).astype(np.float32)


def _weights(mode: str) -> dict:
    """PyTorch's default initialisation drawn once, shared by both frameworks."""
    rng = np.random.default_rng(1)
    gates = {"LSTM": 4, "GRU": 3}[mode] * HIDDEN
    k = 1 / np.sqrt(HIDDEN)
    shapes = {
        "weight_ih_l0": (gates, INPUT),
        "weight_hh_l0": (gates, HIDDEN),
        "bias_ih_l0": (gates,),
        "bias_hh_l0": (gates,),
    }
    return {n: rng.uniform(-k, k, s).astype(np.float32) for n, s in shapes.items()}


def _make_deepnum(mode: str, train: bool = True):
    def make():
        import deepnum
        from deepnum import nn, optim

        layer = getattr(nn, mode)(INPUT, HIDDEN)
        layer.load_state_dict(_weights(mode))
        x = deepnum.tensor(_data())
        opt = optim.Adam(layer.parameters(), lr=1e-3)

        def step():
            if not train:
                with deepnum.no_grad():
                    return layer(x)
            opt.zero_grad()
            out, _ = layer(x)
            (out * out).mean().backward()
            opt.step()

        return step

    return make


def _make_torch(mode: str, train: bool = True):
    def make():
        import torch

        layer = getattr(torch.nn, mode)(INPUT, HIDDEN)
        layer.load_state_dict({k: torch.from_numpy(v) for k, v in _weights(mode).items()})
        x = torch.from_numpy(_data())
        opt = torch.optim.Adam(layer.parameters(), lr=1e-3)

        def step():
            if not train:
                with torch.no_grad():
                    return layer(x)
            opt.zero_grad()
            out, _ = layer(x)
            (out * out).mean().backward()
            opt.step()

        return step

    return make


CASES = [
    Case("lstm train step", _make_deepnum("LSTM"), _make_torch("LSTM"), number=5),
    Case(
        "lstm forward (no_grad)",
        _make_deepnum("LSTM", False),
        _make_torch("LSTM", False),
        number=5,
    ),
    Case("gru train step", _make_deepnum("GRU"), _make_torch("GRU"), number=5),
]

if __name__ == "__main__":
    main(
        f"LSTM/GRU, input {INPUT}, hidden {HIDDEN}, T {T}, batch {BATCH}: forward + BPTT + Adam",
        CASES,
        __file__,
    )
