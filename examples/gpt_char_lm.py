"""A character-level GPT on the Book of Genesis (KJV), then samples from it.

A 2-layer decoder-only transformer (d_model 64, 4 heads, contexts of 64 characters) learns
p(next character | previous ones) on 90 % of the text; the held-out loss is compared with the
unigram entropy, the loss of the best model that ignores context. Samples are drawn at a few
temperatures, with top-k filtering.

Run: python examples/gpt_char_lm.py [--steps 1500] [--block 64]
"""

import argparse
import time

import numpy as np

import deepnum
from deepnum import nn
from deepnum.datasets.text import CharVocab, load_text, unigram_entropy
from deepnum.models.gpt import GPT


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--block", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=6e-3)
    args = parser.parse_args()
    deepnum.manual_seed(0)
    rng = np.random.default_rng(0)

    text = load_text()
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    split = int(0.9 * len(ids))
    train_ids, held_ids = ids[:split], ids[split:]
    print(f"{len(text)} characters, {len(vocab)} distinct; unigram entropy {unigram_entropy(ids):.3f} nats/char")

    def windows(source, n):
        starts = rng.integers(0, len(source) - args.block - 1, n)
        chunk = source[starts[:, None] + np.arange(args.block + 1)]
        return deepnum.tensor(chunk[:, :-1]), deepnum.tensor(chunk[:, 1:])

    def lm_loss(x, y):
        return nn.functional.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))

    model = GPT(len(vocab), args.block, d_model=64, nhead=4, num_layers=2, dropout=0.0)
    opt = deepnum.optim.Adam(model.parameters(), lr=args.lr)
    schedule = deepnum.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps, eta_min=args.lr / 10)
    start = time.time()
    for step in range(1, args.steps + 1):
        x, y = windows(train_ids, args.batch)
        opt.zero_grad()
        loss = lm_loss(x, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()
        if step % 100 == 0:
            model.eval()
            with deepnum.no_grad():
                held = lm_loss(*windows(held_ids, 128)).item()
            model.train()
            print(f"step {step:5d}  train {loss.item():.3f}  held-out {held:.3f}  ({time.time() - start:.0f} s)")

    prompt = deepnum.tensor(vocab.encode("And God said")[None])
    for temperature in (0.5, 0.8, 1.0):
        sample = model.generate(prompt, 300, temperature=temperature, top_k=10)
        print(f"\n--- temperature {temperature}, top_k 10 ---\n{vocab.decode(sample.numpy()[0])}")


if __name__ == "__main__":
    main()
