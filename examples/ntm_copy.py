"""A Neural Turing Machine learns to copy: read a sequence of bit vectors, then write it back.

Input: ``length`` random vectors of ``bits`` bits, one step with a delimiter flag, then
``length`` blank steps during which the model must output the vectors in order (Graves et al.
2014, §4.1). The NTM (an LSTM controller with one read and one write head over a 16 × 8
memory, 003 §4.6) is trained with binary cross-entropy on the recall phase, Adam and gradient
clipping. It solves the task by writing each vector to consecutive slots and reading them back
with the same shifts; the script prints the bit error on fresh sequences, the same model on
longer sequences than it was trained on, and the write and read focus of one example.

Run: python examples/ntm_copy.py [--bits 4] [--length 4] [--steps 1200]
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
    parser.add_argument("--length", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--controller", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()
    deepnum.manual_seed(0)
    rng = np.random.default_rng(0)
    bits, length = args.bits, args.length
    model = NeuralTuringMachine(bits + 1, bits, controller_size=args.controller, memory_slots=16, memory_width=8)
    opt = deepnum.optim.Adam(model.parameters(), lr=args.lr)
    start, errors = time.time(), []
    for step in range(1, args.steps + 1):
        x, y = copy_batch(rng, 32, length, bits)
        opt.zero_grad()
        logits = model(x)[length + 1 :]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        errors.append(((logits.detach().numpy() > 0) != (y.numpy() > 0.5)).mean())
        if step % 100 == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}  bit error (last 100) {np.mean(errors[-100:]):.3f}"
                  f"  ({time.time() - start:.0f} s)")

    print(f"\nbit error on fresh sequences of length {length}: {bit_error(model, rng, length, bits):.4f}")
    for longer in (length + 2, 2 * length):
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
