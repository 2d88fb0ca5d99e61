"""A Neural Turing Machine: a recurrent controller with a differentiable external memory.

The memory is an array of N vectors of width W (003 §4.6). Heads read from and write to
*every* slot at every step, in amounts given by an attention weighting w (Graves et al. 2014):

    content:      w_c(i) = softmax_i(β · cos(k, M_i))                  (content addressing)
    interpolate:  w_g = g w_c + (1 − g) w_{t−1}                        (keep the old focus)
    shift:        w̃(i) = Σ_j w_g(j) s((i − j) mod N)                   (move by −1, 0, +1)
    sharpen:      w(i) = w̃(i)^γ / Σ_j w̃(j)^γ
    read:         r = Σ_i w(i) M_i
    write:        M_i ← M_i ⊙ (1 − w(i) e) + w(i) a                    (erase, then add)

References: Graves, Wayne, Danihelka, "Neural Turing Machines", 2014, arXiv:1410.5401.
"""

from __future__ import annotations

import numpy as np

from deepnum import ops
from deepnum.nn.modules.module import Module
from deepnum.tensor import Tensor

__all__ = ["NTMHead", "NeuralTuringMachine"]


def _softplus(x: Tensor) -> Tensor:
    from deepnum.nn.functional.activation import softplus

    return softplus(x)


def content_weights(memory: Tensor, key: Tensor, strength: Tensor) -> Tensor:
    """softmax_i(β cos(k, M_i)) for memory (B, N, W), key (B, W), strength (B, 1)."""
    dot = ops.matmul(memory, key.unsqueeze(-1)).squeeze(-1)
    norms = ops.sqrt((memory * memory).sum(-1) + 1e-8) * ops.sqrt((key * key).sum(-1, keepdim=True) + 1e-8)
    return ops.softmax(strength * dot / norms, dim=-1)


def circular_shift(weights: Tensor, shift: Tensor) -> Tensor:
    """w̃(i) = Σ_j w(j) s(i − j) with s over offsets (−1, 0, +1), indices modulo N."""
    # one gather of the three neighbours (i + 1, i, i − 1) and one batched product with s
    # instead of two rolls, three slices, three products and two sums: the NTM runs this at
    # every step for every head, and the engine's per-op cost dominates at these sizes
    n = weights.shape[-1]
    neighbours = (np.arange(n)[:, None] + np.array([1, 0, -1])) % n
    return ops.matmul(weights[:, neighbours], shift.unsqueeze(-1)).squeeze(-1)


class NTMHead(Module):
    """Maps the controller state to one head's addressing parameters (and erase/add vectors)."""

    def __init__(self, controller_size: int, memory_width: int, write: bool) -> None:
        super().__init__()
        from deepnum.nn.modules.linear import Linear

        self.memory_width, self.write = memory_width, write
        # key (W), strength β, gate g, shift (3), sharpening γ; plus erase (W) and add (W) to write
        self.params = Linear(controller_size, memory_width + 6 + (2 * memory_width if write else 0))

    def address(self, state: Tensor, memory: Tensor, previous: Tensor):
        p = self.params(state)
        W = self.memory_width
        key = ops.tanh(p[:, :W])
        strength = _softplus(p[:, W : W + 1])
        gate = ops.sigmoid(p[:, W + 1 : W + 2])
        shift = ops.softmax(p[:, W + 2 : W + 5], dim=-1)
        gamma = 1 + _softplus(p[:, W + 5 : W + 6])
        w = content_weights(memory, key, strength)
        w = previous + gate * (w - previous)
        w = circular_shift(w, shift)
        w = (w + 1e-12) ** gamma
        w = w / w.sum(-1, keepdim=True)
        return w, p[:, W + 6 :]


class NeuralTuringMachine(Module):
    """An LSTM controller with one read head and one write head over an N×W memory.

    At each step the controller sees the input and the previous read vector; its output and the
    new read vector give the step's output.

    Args: input_size, output_size, controller_size=100, memory_slots=128, memory_width=20.
    Shape: input (T, B, input_size) → output (T, B, output_size) (logits).
    """

    def __init__(self, input_size: int, output_size: int, controller_size: int = 100,
                 memory_slots: int = 128, memory_width: int = 20) -> None:
        super().__init__()
        from deepnum.nn.modules.linear import Linear
        from deepnum.nn.modules.rnn import LSTMCell

        self.input_size, self.output_size = input_size, output_size
        self.memory_slots, self.memory_width = memory_slots, memory_width
        self.controller = LSTMCell(input_size + memory_width, controller_size)
        self.read_head = NTMHead(controller_size, memory_width, write=False)
        self.write_head = NTMHead(controller_size, memory_width, write=True)
        self.output = Linear(controller_size + memory_width, output_size)

    def extra_repr(self) -> str:
        return f"memory_slots={self.memory_slots}, memory_width={self.memory_width}"

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise RuntimeError(f"NeuralTuringMachine(input_size={self.input_size}): expected input (T, B, {self.input_size}), got {tuple(x.shape)}")
        T, B, _ = x.shape
        N, W = self.memory_slots, self.memory_width
        dt = x.dtype
        memory = Tensor._make(np.full((B, N, W), 1e-6, dtype=dt), False, None, 0)
        focus = np.zeros((B, N), dtype=dt)
        focus[:, 0] = 1
        w_read = w_write = Tensor._make(focus, False, None, 0)
        read = Tensor._make(np.zeros((B, W), dtype=dt), False, None, 0)
        state = None
        outputs = []
        for t in range(T):
            h, c = self.controller(ops.cat([x[t], read], dim=-1), state)
            state = (h, c)
            w_write, extra = self.write_head.address(h, memory, w_write)
            erase, add = ops.sigmoid(extra[:, :W]), ops.tanh(extra[:, W:])
            ww = w_write.unsqueeze(-1)
            memory = memory * (1 - ww * erase.unsqueeze(1)) + ww * add.unsqueeze(1)
            w_read, _ = self.read_head.address(h, memory, w_read)
            read = ops.matmul(w_read.unsqueeze(1), memory).squeeze(1)
            outputs.append(self.output(ops.cat([h, read], dim=-1)))
        return ops.stack(outputs)
