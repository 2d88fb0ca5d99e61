"""One-step recurrent cells with PyTorch's API: ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Built from primitive ops (``deepnum.ops.rnn.rnn_cell`` etc.), so twice differentiable; they are
also the reference the fused sequence kernels of ``nn.RNN``/``nn.LSTM``/``nn.GRU`` are tested
against. Parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` as PyTorch, all
initialised U(-1/sqrt(H), 1/sqrt(H)).

References:
    000 eq. 24, 30-34; 003 §4.4-4.5.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd.grad_mode import no_grad
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter
from deepnum.ops import creation
from deepnum.ops.rnn import gru_cell, lstm_cell, rnn_cell

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "RNNCellBase"]


def recurrent_name(layer: Module) -> str:
    """How errors name a recurrent layer: ``LSTM(input_size=10, hidden_size=20)``."""
    sizes = f"input_size={layer.input_size}, hidden_size={layer.hidden_size}"
    return f"{type(layer).__name__}({sizes})"


def uniform_init(parameters, hidden_size: int) -> None:
    """PyTorch's recurrent initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
    k = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    with no_grad():
        for p in parameters:
            p.uniform_(-k, k)


def check_features(name: str, input, input_size: int) -> None:
    """The last dimension of ``input`` holds the ``input_size`` features."""
    if input.shape[-1] != input_size:
        raise RuntimeError(
            f"{name}: input has {input.shape[-1]} features, expected {input_size} "
            f"(input shape {tuple(input.shape)})"
        )


class RNNCellBase(Module):
    """One recurrent step; the parameters are those of a one-layer RNN without the ``_l0``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dtype = creation._float_dtype(dtype)
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, input_size), dtype))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(num_chunks * hidden_size, dtype))
            self.bias_hh = Parameter(np.empty(num_chunks * hidden_size, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        uniform_init(self.parameters(), self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, n_states: int):
        """Check shapes; add the batch dimension to unbatched input. Returns (x, [states], batched)."""
        name = recurrent_name(self)
        if input.ndim not in (1, 2):
            raise ValueError(
                f"{name}: expected input to be 1D or 2D, got {input.ndim}D (shape {tuple(input.shape)})"
            )
        check_features(name, input, self.input_size)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            return (
                x,
                [creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)] * n_states,
                batched,
            )
        states = list(hx) if n_states == 2 else [hx]
        expected = (x.shape[0], self.hidden_size)
        for s in states:
            got = tuple(s.shape) if batched else (1,) + tuple(s.shape)
            if got != expected or s.ndim != input.ndim:
                want = expected if batched else expected[1:]
                raise RuntimeError(
                    f"{name}: expected hidden state of shape {want}, got {tuple(s.shape)} "
                    f"(input shape {tuple(input.shape)})"
                )
        if not batched:
            states = [s.unsqueeze(0) for s in states]
        return x, states, batched


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (000 eq. 24), one step; ``nonlinearity='relu'`` too.

    Shape: input (N, H_in) or (H_in); hidden (N, H_out) or (H_out).

    Examples:
        >>> cell = deepnum.nn.RNNCell(10, 20)
        >>> cell(deepnum.randn(3, 10)).shape
        deepnum.Size([3, 20])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: unknown nonlinearity '{nonlinearity}', select from 'tanh' or 'relu'"
            )
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        h = rnn_cell(
            x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity
        )
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (000 eq. 30-34, gates i, f, g, o): returns (h', c').

    Examples:
        >>> cell = deepnum.nn.LSTMCell(10, 20)
        >>> h, c = cell(deepnum.randn(3, 10))
        >>> c.shape
        deepnum.Size([3, 20])
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        h, c = lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).

    Examples:
        >>> cell = deepnum.nn.GRUCell(10, 20)
        >>> cell(deepnum.randn(3, 10)).shape
        deepnum.Size([3, 20])
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        h = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)
