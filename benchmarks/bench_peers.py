"""MNIST MLP training epoch: deepnum against the NumPy autograd libraries MyGrad and HIPS autograd.

The workload of ``bench_mlp.py`` (784-256-256-10 ReLU, cross-entropy, Adam lr 1e-3, batch 128,
the same pre-cut batches of 50,000 images, the same initial weights). MyGrad and HIPS autograd
have no optimisers, so their Adam step is the same in-place NumPy update for both (float32
moments, as deepnum and PyTorch keep them). Each peer is timed against deepnum in one process,
interleaved A B A B; the ratio is the median of the paired ratios deepnum / peer (below 1:
deepnum faster).

The peers are not dependencies of deepnum: run this script with a Python that has them, e.g.

    python -m venv .venv-peers && .venv-peers/bin/pip install numpy mygrad autograd
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE nice .venv-peers/bin/python benchmarks/bench_peers.py

(deepnum is imported from this checkout), or ``run_all.py --peers-python .venv-peers/bin/python``.
A peer that is not installed is skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import time

import numpy as np
from bench_mlp import BATCH, _data, _weights, make_deepnum_loop

B1, B2, EPS, LR = 0.9, 0.999, 1e-8, 1e-3


def _batches():
    x, y = _data()
    order = np.random.default_rng(0).permutation(len(x))
    return [(x[order[i : i + BATCH]], y[order[i : i + BATCH]]) for i in range(0, len(x), BATCH)]


def _params():
    """[W1, b1, W2, b2, W3, b3] as float32 arrays, the weights stored (out, in) as PyTorch."""
    return [np.ascontiguousarray(v) for v in _weights().values()]


class _Adam:
    """Adam (Kingma & Ba 2015) updating float32 NumPy arrays in place."""

    def __init__(self, params):
        self.params, self.t = params, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        c1, c2 = 1 - B1**self.t, 1 - B2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            g = np.asarray(g, dtype=p.dtype)
            m *= B1
            m += (1 - B1) * g
            v *= B2
            v += (1 - B2) * g * g
            p -= (LR / c1) * m / (np.sqrt(v / c2) + EPS)


def make_mygrad():
    import mygrad as mg
    from mygrad.nnet.activations import relu
    from mygrad.nnet.losses import softmax_crossentropy

    arrays = _params()
    params = [mg.tensor(a) for a in arrays]
    opt = _Adam([p.data for p in params])
    batches = _batches()

    def epoch():
        w1, b1, w2, b2, w3, b3 = params
        for xb, yb in batches:
            h = relu(mg.matmul(xb, w1.T) + b1)
            h = relu(mg.matmul(h, w2.T) + b2)
            loss = softmax_crossentropy(mg.matmul(h, w3.T) + b3, yb)
            loss.backward()
            opt.step([p.grad for p in params])

    return epoch


def make_autograd():
    import autograd.numpy as anp
    from autograd import grad

    params = _params()
    opt = _Adam(params)
    batches = _batches()

    def loss(ps, xb, yb):
        w1, b1, w2, b2, w3, b3 = ps
        h = anp.maximum(anp.dot(xb, w1.T) + b1, 0)
        h = anp.maximum(anp.dot(h, w2.T) + b2, 0)
        z = anp.dot(h, w3.T) + b3
        z = z - anp.max(z, axis=1, keepdims=True)  # log-sum-exp without overflow
        return anp.mean(anp.log(anp.sum(anp.exp(z), axis=1)) - z[anp.arange(len(yb)), yb])

    dloss = grad(loss)

    def epoch():
        for xb, yb in batches:
            opt.step(dloss(params, xb, yb))

    return epoch


PEERS = {"MyGrad": ("mygrad", make_mygrad), "HIPS autograd": ("autograd", make_autograd)}


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print("# MNIST MLP epoch (784-256-256-10, Adam, batch 128, 50k images): deepnum vs NumPy peers")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"load {load:.2f}")
    print(f"{'peer':<16}{'deepnum s':>11}{'peer s':>9}{'ratio dn/peer':>15}")
    results = []
    for name, (module, make) in PEERS.items():
        if importlib.util.find_spec(module) is None:
            print(f"{name:<16}  not installed, skipped")
            continue
        a, b = make_deepnum_loop(), make()
        a(), b()  # warm-up: one epoch each
        ta, tb = [], []
        for _ in range(args.repeats):
            ta.append(_time(a))
            tb.append(_time(b))
        ratio = statistics.median(x / y for x, y in zip(ta, tb))
        print(f"{name:<16}{statistics.median(ta):>11.2f}{statistics.median(tb):>9.2f}{ratio:>15.2f}")
        results.append({"peer": name, "version": _version(module), "deepnum_s": statistics.median(ta),
                        "peer_s": statistics.median(tb), "ratio": ratio, "repeats": args.repeats})
    print(json.dumps({"benchmark": "peers", "numpy": np.__version__,
                      "loadavg_1min": load, "results": results}))


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    main()
