"""Reverse digit sequences with and without attention, and draw where the decoder looks.

Both models have the same GRU encoder and decoder and the same training budget (teacher
forcing, Adam, clipping); one decoder reads only the encoder's final state (the context vector,
003 §4.1), the other attends over all encoder states at every step (Bahdanau). Greedy decoding
on fresh sequences gives the token accuracy per length: the context vector fades on long
sequences, attention does not. The attention weights of one reversal are saved as a heat map,
close to an anti-diagonal: output t looks at input S − t + 1, or at the step after it (the
encoder runs left to right, so its state h_{i+1} still carries digit i).

Run: python examples/seq2seq_attention.py [--steps 600] [--out seq2seq_attention.png]
"""

import argparse
import time

import numpy as np

import deepnum
from deepnum import nn
from deepnum.models.rnn import Seq2Seq
from deepnum.models.seq2seq import AttentionSeq2Seq

BOS = 10


def reversal_batch(rng, n, length):
    src = rng.integers(0, 10, (length, n))
    tgt = src[::-1].copy()
    tgt_in = np.concatenate([np.full((1, n), BOS), tgt[:-1]])  # teacher forcing input
    return deepnum.tensor(src), deepnum.tensor(tgt_in), deepnum.tensor(tgt)


def train(model, steps, lengths):
    rng = np.random.default_rng(0)
    opt = deepnum.optim.Adam(model.parameters(), lr=5e-3)
    start = time.time()
    for step in range(1, steps + 1):
        src, tgt_in, tgt = reversal_batch(rng, 32, int(rng.integers(*lengths)))
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(src, tgt_in).reshape(-1, 11), tgt.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0:
            print(f"  {type(model).__name__:<16} step {step:4d}  loss {loss.item():.3f}  ({time.time() - start:.0f} s)")


def accuracy(model, length):
    src, _, tgt = reversal_batch(np.random.default_rng(length), 500, length)
    out = model.generate(src, length)
    tokens = out[0] if isinstance(out, tuple) else out
    return (tokens == tgt.numpy()).mean()


def save_heatmap(model, path):
    from matplotlib.figure import Figure

    src, _, _ = reversal_batch(np.random.default_rng(7), 1, 10)
    tokens, weights = model.generate(src, 10)
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.add_subplot()
    image = ax.imshow(weights[:, 0, :], cmap="viridis", vmin=0, vmax=1)
    digits = src.numpy()[:, 0]
    ax.set_xticks(range(10), [str(d) for d in digits])
    ax.set_yticks(range(10), [str(d) for d in tokens[:, 0]])
    ax.set_xlabel("source digit (encoder step)")
    ax.set_ylabel("output digit (decoder step)")
    ax.set_title("Additive attention, reversing 10 digits")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--out", default="seq2seq_attention.png")
    args = parser.parse_args()
    deepnum.manual_seed(0)
    models = {
        "attention": AttentionSeq2Seq(10, 11, embedding_dim=16, hidden_size=args.hidden, bos=BOS),
        "context vector": Seq2Seq(10, 11, embedding_dim=16, hidden_size=args.hidden, bos=BOS),
    }
    for model in models.values():
        train(model, args.steps, (3, 13))
    lengths = list(range(3, 17))
    print("\ntoken accuracy (greedy decoding), trained on 3-12 digits")
    print("length          " + "".join(f"{n:>6}" for n in lengths))
    for name, model in models.items():
        print(f"{name:<16}" + "".join(f"{accuracy(model, n):>6.2f}" for n in lengths))
    save_heatmap(models["attention"], args.out)
    print(f"\nattention heat map saved to {args.out}")


if __name__ == "__main__":
    main()
