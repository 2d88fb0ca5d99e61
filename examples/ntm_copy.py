"""A Neural Turing Machine learns to copy: read a sequence of bit vectors, then write it back.

Input: L random vectors of ``bits`` bits, one step with a delimiter flag, then L blank steps
during which the model must output the vectors in order (Graves et al. 2014, §4.1); L is drawn
per batch from [--min-length, --length]. The NTM (an LSTM controller with one read and one
write head over a 16 × 8 memory, 003 §4.6) is trained with binary cross-entropy on the recall phase, Adam and gradient
clipping. The script prints the bit error on fresh sequences, on longer sequences than it was
trained on, and the most-weighted memory slot of the write and read heads at each step of one
example: whether the copy went through the memory (the heads move from slot to slot, and the
model copies longer sequences too) or was held in the controller's own state (the heads stay
put, and longer sequences fail).

With the defaults (a small controller of 16 units, lengths 1-5) the controller cannot hold the
sequence itself and learns to go through the memory: the copy carries over to longer
sequences. ``--controller 64 --min-length 4 --length 4 --lr 3e-3`` learns length 4 to ~0 % bit
error in the controller's state alone, with the heads parked on one slot, and fails on longer
sequences.

Run: python examples/ntm_copy.py [--bits 4] [--length 5] [--steps 1500]
"""

import argparse
import time

import numpy as np

import deepnum
from deepnum import nn
from deepnum.nn.modules.memory import NeuralTuringMachine


def copy_batch(rng, batch, length, bits):
    seq = rng.integers(0, 2, (length, batch, bits)).astype(np.float32)
    x = np.zeros((2 * length + 1, batch, bits + 1), np.float32)
    x[:length, :, :bits] = seq
    x[length, :, bits] = 1  # delimiter: now recall
    return deepnum.tensor(x), deepnum.tensor(seq)


def bit_error(model, rng, length, bits, n=256):
    with deepnum.no_grad():
        x, y = copy_batch(rng, n, length, bits)
        return ((model(x)[length + 1 :].numpy() > 0) != (y.numpy() > 0.5)).mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=4)
    parser.add_argument("--min-length", type=int, default=1)
    parser.add_argument("--length", type=int, default=5, help="longest training sequence")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--controller", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-2)
    args = parser.parse_args()
    deepnum.manual_seed(0)
    rng = np.random.default_rng(0)
    bits, length = args.bits, args.length
    model = NeuralTuringMachine(bits + 1, bits, controller_size=args.controller, memory_slots=16, memory_width=8)
    opt = deepnum.optim.Adam(model.parameters(), lr=args.lr)
    start, errors = time.time(), []
    for step in range(1, args.steps + 1):
        n = int(rng.integers(args.min_length, length + 1))
        x, y = copy_batch(rng, 32, n, bits)
        opt.zero_grad()
        logits = model(x)[n + 1 :]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        errors.append(((logits.detach().numpy() > 0) != (y.numpy() > 0.5)).mean())
        if step % 100 == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}  bit error (last 100) {np.mean(errors[-100:]):.3f}"
                  f"  ({time.time() - start:.0f} s)")

    print(f"\nbit error on fresh sequences of length {length}: {bit_error(model, rng, length, bits):.4f}")
    for longer in (length + 2, 2 * length, 3 * length):
        if longer < model.memory_slots:
            print(f"bit error on length {longer} (never trained on): {bit_error(model, rng, longer, bits):.4f}")

    # where the heads look: record the weightings of one example step by step
    x, y = copy_batch(rng, 1, length, bits)
    focus = {"write": [], "read": []}
    for head, name in ((model.write_head, "write"), (model.read_head, "read")):
        original = head.address

        def recording(state, memory, previous, original=original, name=name):
            w, extra = original(state, memory, previous)
            focus[name].append(w.detach().numpy()[0])
            return w, extra

        head.address = recording
    with deepnum.no_grad():
        out = model(x)
    print("\nmost-weighted memory slot per step (input phase, delimiter, recall phase):")
    print("write:", [int(w.argmax()) for w in focus["write"]])
    print("read: ", [int(w.argmax()) for w in focus["read"]])
    print("target:", y.numpy()[:, 0].astype(int).tolist())
    print("output:", (out[length + 1 :].numpy()[:, 0] > 0).astype(int).tolist())


if __name__ == "__main__":
    main()
