"""Character-level LSTM language model on the Book of Genesis (KJV, shipped with deepnum).

Truncated BPTT over 32 parallel streams of the text (003 §4.1), Adam, gradient clipping
(003 §4.6); then text sampled at several temperatures. The held-out loss is compared with the
unigram entropy of the text, the loss of the best model that ignores context.

    python examples/char_lm.py --steps 400 --hidden 256
"""

from __future__ import annotations

import argparse
import time

import deepnum
from deepnum import nn, optim
from deepnum.datasets.text import CharVocab, lm_batches, load_text, unigram_entropy
from deepnum.models.rnn import CharRNN
from deepnum.train.bptt import truncated_bptt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=400, help="truncated-BPTT windows to train on"
    )
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--seq-len", type=int, default=64, help="k1 = k2: steps per window")
    parser.add_argument("--batch", type=int, default=32, help="parallel streams of text")
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    deepnum.manual_seed(args.seed)
    text = load_text("genesis")
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    split = int(0.9 * len(ids))
    train, held = lm_batches(ids[:split], args.batch), lm_batches(ids[split:], 8)
    entropy = unigram_entropy(ids)
    print(
        f"{len(ids)} characters, vocabulary {len(vocab)}, unigram entropy {entropy:.3f} nats/char"
    )

    model = CharRNN(len(vocab), embedding_dim=32, hidden_size=args.hidden, num_layers=args.layers)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    def lm_loss(logits, target):
        return loss_fn(logits.reshape(-1, len(vocab)), target.reshape(-1))

    def held_out_loss() -> float:
        model.eval()
        with deepnum.no_grad():
            logits, _ = model(deepnum.tensor(held[:-1]))
            loss = lm_loss(logits, deepnum.tensor(held[1:])).item()
        model.train()
        return loss

    L, step, start, state = args.seq_len, 0, time.time(), None
    while step < args.steps:
        for a in range(0, len(train) - L - 1, L):
            x, y = deepnum.tensor(train[a : a + L]), deepnum.tensor(train[a + 1 : a + L + 1])
            (loss,), state = truncated_bptt(
                model, x, y, lm_loss, opt, k1=L, state=state, clip_grad_norm=1.0
            )
            step += 1
            if step % 50 == 0:
                print(
                    f"step {step:5d}  train {loss:.3f}  held-out {held_out_loss():.3f}  ({time.time() - start:.0f} s)"
                )
            if step >= args.steps:
                break
        state = None

    final = held_out_loss()
    print(f"held-out loss {final:.3f} nats/char = {final / entropy:.0%} of the unigram entropy")
    for temperature in (0.3, 0.7, 1.0):
        sample = model.sample(vocab.encode("And God said"), 300, temperature=temperature)
        print(f"\n--- temperature {temperature} ---\nAnd God said{vocab.decode(sample)}")


if __name__ == "__main__":
    main()
