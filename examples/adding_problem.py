"""LSTM against the Elman RNN on the adding problem (Hochreiter & Schmidhuber 1997).

Each input step carries a random number in [0, 1) and a marker; exactly two steps are marked,
one in the first half and one in the second. The target, read after the last step, is the sum
of the two marked numbers, so the network must carry information across ~T/2 steps. Always
answering 1 scores MSE 1/6 ≈ 0.167; learning the task means going well below.

The Elman RNN (000 eq. 24) suffers the vanishing gradients of 003 §4.3, the LSTM's gated cell
state (000 eq. 30-34) carries the marked values. Both are many-to-one models trained the same
way; the learning curves are saved as a PNG.

    python examples/adding_problem.py --length 60 --steps 1500 --out adding_problem.png
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import deepnum
from deepnum import nn, optim


def adding_batch(rng, n: int, length: int):
    """(length, n, 2) inputs and (n, 1) targets."""
    values = rng.random((length, n))
    marks = np.zeros((length, n))
    half = length // 2
    marks[rng.integers(0, half, n), np.arange(n)] = 1
    marks[rng.integers(half, length, n), np.arange(n)] = 1
    x = np.stack([values, marks], axis=2).astype(np.float32)
    y = (values * marks).sum(0, keepdims=True).T.astype(np.float32)
    return deepnum.tensor(x), deepnum.tensor(y)


class ManyToOne(nn.Module):
    """A recurrent layer read at its last step, then a linear read-out (003 §4.1)."""

    def __init__(self, rnn: nn.Module, hidden: int) -> None:
        super().__init__()
        self.rnn, self.head = rnn, nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[-1])


def train(model, steps: int, length: int, batch: int, seed: int):
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=2e-3)
    curve = []
    for step in range(steps):
        x, y = adding_batch(rng, batch, length)
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        curve.append(loss.item())
    x, y = adding_batch(np.random.default_rng(999), 2000, length)
    with deepnum.no_grad():
        test = ((model(x) - y) ** 2).mean().item()
    return np.array(curve), test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=60, help="sequence length T")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="adding_problem.png", help="where to save the plot")
    args = parser.parse_args()

    curves = {}
    for name, make in [
        ("Elman RNN (tanh)", lambda: nn.RNN(2, args.hidden)),
        ("LSTM", lambda: nn.LSTM(2, args.hidden)),
    ]:
        deepnum.manual_seed(args.seed)
        start = time.time()
        curve, test = train(
            ManyToOne(make(), args.hidden), args.steps, args.length, args.batch, args.seed
        )
        curves[name] = curve
        print(
            f"{name:18s} test MSE {test:.4f} (baseline 0.167)  final train MSE {curve[-100:].mean():.4f}  "
            f"({time.time() - start:.0f} s)"
        )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    window = max(1, min(25, args.steps // 4))
    for name, curve in curves.items():
        smooth = np.convolve(curve, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window, len(curve) + 1), smooth, label=name)
    ax.axhline(1 / 6, color="gray", linestyle="--", label="always answer 1 (MSE 1/6)")
    ax.set(
        xlabel="training step",
        ylabel=f"MSE (running mean of {window})",
        yscale="log",
        title=f"Adding problem, T = {args.length}: LSTM vs Elman RNN",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
