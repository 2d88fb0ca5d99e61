"""Transformer encoder: one training step, deepnum against PyTorch.

The reference case: a 2-layer ``TransformerEncoder`` (d_model 128, 4 heads, feed-forward 512,
post-norm, ReLU, dropout 0 so both libraries do the same arithmetic), sequences of T = 64,
batch 32, batch-first; one call = forward, mean-squared loss on the outputs, backward, Adam
step. Both frameworks start from the same weights and see the same inputs. deepnum runs
attention as one fused ``Function`` (scores, softmax and the weighted sum forward; the written
-out backward); PyTorch runs its own CPU kernels.

Run: ``python benchmarks/bench_transformer.py`` (``--no-memory`` to skip the memory subprocesses).
"""

from __future__ import annotations

import numpy as np

from common import Case, main

T, BATCH, D_MODEL, HEADS, FF, LAYERS = 64, 32, 128, 4, 512, 2


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, T, D_MODEL)).astype(np.float32)


def _weights(names_and_shapes) -> dict:
    """One draw of every parameter, shared by both frameworks (LayerNorm weights 1, biases 0)."""
    rng = np.random.default_rng(1)
    out = {}
    for name, shape in names_and_shapes:
        if name.endswith("norm1.weight") or name.endswith("norm2.weight"):
            out[name] = np.ones(shape, np.float32)
        elif len(shape) == 1:
            out[name] = np.zeros(shape, np.float32)
        else:
            bound = np.sqrt(6.0 / sum(shape))
            out[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return out


def _make(lib: str, train: bool = True):
    def make():
        if lib == "deepnum":
            import deepnum as fw
            from deepnum import nn, optim

            tensor, no_grad = fw.tensor, fw.no_grad
        else:
            import torch as fw
            from torch import nn, optim

            tensor, no_grad = fw.from_numpy, fw.no_grad
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True)
        model = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        shapes = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
        model.load_state_dict({k: tensor(v) for k, v in _weights(shapes).items()})
        x = tensor(_data())
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def step():
            if not train:
                with no_grad():
                    return model(x)
            opt.zero_grad()
            out = model(x)
            (out * out).mean().backward()
            opt.step()

        return step

    return make


CASES = [
    Case("encoder train step", _make("deepnum"), _make("torch"), number=3),
    Case("encoder forward (no_grad)", _make("deepnum", False), _make("torch", False), number=5),
]

if __name__ == "__main__":
    main(f"TransformerEncoder {LAYERS} layers, d_model {D_MODEL}, {HEADS} heads, ff {FF}, T {T}, "
         f"batch {BATCH}: forward + backward + Adam", CASES, __file__)
