"""Encoder-decoder with a context vector (003 §4.1) learning to reverse digit sequences.

The encoder GRU reads the digits; its final state is the fixed-length context c, which starts
the decoder and is fed to it at every step. Training uses scheduled sampling: the decoder is
fed the true previous digit with a probability that decays from 1 (teacher forcing) towards
free running (Bengio et al. 2015). Test accuracy is measured greedily, free running, on
sequences never seen in training.

    python examples/seq2seq_reverse.py --steps 1500 --length 8
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import deepnum
from deepnum import nn, optim
from deepnum.models.rnn import Seq2Seq
from deepnum.train.bptt import decode, scheduled_sampling_ratio

DIGITS, BOS = 10, 10  # tokens 0-9 are digits, 10 starts the decoder


def batch(rng, n: int, length: int):
    src = rng.integers(0, DIGITS, (length, n))
    return deepnum.tensor(src), deepnum.tensor(src[::-1].copy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--length", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    deepnum.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = Seq2Seq(DIGITS, DIGITS + 1, embedding_dim=16, hidden_size=args.hidden, bos=BOS)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.time()
    for step in range(1, args.steps + 1):
        src, tgt = batch(rng, args.batch, args.length)
        ratio = scheduled_sampling_ratio(step, "inverse_sigmoid", k=args.steps / 8)
        context = model.encode(src)
        logits, _, _ = decode(
            model.decode_step,
            deepnum.tensor(np.full(args.batch, BOS)),
            args.length,
            state=(context.unsqueeze(0), context),
            targets=tgt,
            teacher_forcing_ratio=ratio,
        )
        loss = loss_fn(logits.reshape(-1, DIGITS + 1), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0:
            print(
                f"step {step:5d}  loss {loss.item():.3f}  teacher forcing {ratio:.2f}  ({time.time() - start:.0f} s)"
            )

    src, tgt = batch(np.random.default_rng(12345), 1000, args.length)
    pred = model.generate(src, args.length)
    digit_acc = (pred == tgt.numpy()).mean()
    seq_acc = (pred == tgt.numpy()).all(0).mean()
    print(
        f"test: {digit_acc:.1%} of digits and {seq_acc:.1%} of whole sequences reversed correctly"
    )
    for b in range(3):
        print(" ".join(map(str, src.numpy()[:, b])), "->", " ".join(map(str, pred[:, b])))


if __name__ == "__main__":
    main()
