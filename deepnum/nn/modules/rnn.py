"""Recurrent layers with PyTorch's API: ``RNN``, ``LSTM``, ``GRU`` (cells in ``rnn_cells``).

A layer is a stack of ``num_layers`` recurrences, each run in one or two directions
(000 eq. 26-29: the bidirectional output is the concatenation of both). The sequence is run
by the fused kernels of ``deepnum.ops.rnn`` (one graph node for the whole stack); setting
``layer.fused = False`` runs the same maths step by step through the cells instead (slower,
but twice differentiable: use it for ``create_graph=True``).

Parameters carry PyTorch's names, shapes and gate orders (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``weight_hr_l0``, ``*_reverse``; LSTM i, f, g, o; GRU r, z, n),
so ``state_dict``s load into one another. All are initialised U(-1/sqrt(H), 1/sqrt(H)).
"""

from __future__ import annotations

import warnings

import numpy as np

from deepnum.nn.modules.module import Module
from deepnum.nn.modules.rnn_cells import (
    GRUCell,
    LSTMCell,
    RNNCell,
    RNNCellBase,
    recurrent_name,
    uniform_init,
)
from deepnum.nn.parameter import Parameter
from deepnum.nn.utils.rnn import PackedSequence, packed_to_padded, padded_to_packed
from deepnum.ops import creation
from deepnum.ops.join import cat, stack
from deepnum.ops.rnn import gru_cell, lstm_cell, rnn_cell, rnn_stack
from deepnum.tensor import Tensor

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]


def _const(array: np.ndarray) -> Tensor:
    return Tensor._make(array, False, None, 0)


class RNNBase(Module):
    """The shared sequence runner of ``RNN``, ``LSTM`` and ``GRU`` (``mode`` selects the cell)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the "
                f"probability of an element being zeroed, got {dropout}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout option adds dropout after all but last recurrent layer, so "
                f"non-zero dropout expects num_layers greater than 1, but got dropout={dropout} "
                f"and num_layers={num_layers}",
                UserWarning,
                stacklevel=2,
            )
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(
                f"{name}: hidden_size must be a positive integer, got {hidden_size!r}"
            )
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        if proj_size < 0:
            raise ValueError(
                f"{name}: proj_size should be a positive integer or zero to disable projections, got {proj_size}"
            )
        if proj_size >= hidden_size:
            raise ValueError(
                f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})"
            )
        if proj_size and mode != "LSTM":
            raise ValueError(
                f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU"
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        self.fused = True
        dtype = creation._float_dtype(dtype)
        gate_size = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden_size
        D = 2 if bidirectional else 1
        real_hidden = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(D):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                layer_in = input_size if layer == 0 else real_hidden * D
                shapes = {
                    f"weight_ih{suffix}": (gate_size, layer_in),
                    f"weight_hh{suffix}": (gate_size, real_hidden),
                }
                if bias:
                    shapes.update(
                        {f"bias_ih{suffix}": (gate_size,), f"bias_hh{suffix}": (gate_size,)}
                    )
                if proj_size:
                    shapes[f"weight_hr{suffix}"] = (proj_size, hidden_size)
                for pname, shape in shapes.items():
                    setattr(self, pname, Parameter(np.empty(shape, dtype)))
                self._flat_weights_names.extend(shapes)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        w = self._flat_weights
        return [w[i : i + per] for i in range(0, len(w), per)]

    def flatten_parameters(self) -> None:
        """No-op (the weights are always plain arrays), kept for PyTorch code that calls it."""

    def reset_parameters(self) -> None:
        uniform_init(self.parameters(), self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None):
        name = recurrent_name(self)
        packed = isinstance(input, PackedSequence)
        if packed:
            data = input.data
            if data.ndim != 2 or data.shape[1] != self.input_size:
                raise RuntimeError(
                    f"{name}: packed input data must have shape (sum of lengths, "
                    f"{self.input_size}), got {tuple(data.shape)}"
                )
            batch_sizes = input.batch_sizes.array
            x, valid = packed_to_padded(data, batch_sizes)
            mask = valid[..., None].astype(x.dtype)
            batched = True
        else:
            if input.ndim not in (2, 3):
                raise ValueError(
                    f"{name}: expected input to be 2D (L, H_in) or 3D, got {input.ndim}D "
                    f"(shape {tuple(input.shape)})"
                )
            if input.shape[-1] != self.input_size:
                raise RuntimeError(
                    f"{name}: input.size(-1) must be equal to input_size. Expected "
                    f"{self.input_size}, got {input.shape[-1]} (input shape {tuple(input.shape)})"
                )
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            mask = None
        dtype = self.weight_ih_l0.dtype
        if x.dtype != dtype:
            raise RuntimeError(f"{name}: input must have the type {dtype}, got type {x.dtype}")
        h0, c0 = self._initial_states(x, hx, batched, name)
        if packed and input.sorted_indices is not None:
            order = input.sorted_indices.array
            h0 = h0[:, order]
            c0 = None if c0 is None else c0[:, order]
        drop = self._dropout_masks(x)
        run = self._run_fused if self.fused else self._run_cells
        output, hn, cn = run(x, h0, c0, mask, drop)
        if packed:
            output = PackedSequence(
                padded_to_packed(output, batch_sizes),
                input.batch_sizes,
                input.sorted_indices,
                input.unsorted_indices,
            )
            if input.unsorted_indices is not None:
                order = input.unsorted_indices.array
                hn = hn[:, order]
                cn = None if cn is None else cn[:, order]
        elif not batched:
            output, hn = output.squeeze(1), hn.squeeze(1)
            cn = None if cn is None else cn.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (hn, cn)) if self.mode == "LSTM" else (output, hn)

    def _initial_states(self, x, hx, batched, name):
        D = 2 if self.bidirectional else 1
        N = x.shape[1]
        shapes = [(self.num_layers * D, N, self.proj_size or self.hidden_size)]
        if self.mode == "LSTM":
            shapes.append((self.num_layers * D, N, self.hidden_size))
        if hx is None:
            states = [_const(np.zeros(s, x.dtype)) for s in shapes]
        else:
            states = list(hx) if self.mode == "LSTM" and isinstance(hx, (tuple, list)) else [hx]
            if len(states) != len(shapes):
                raise RuntimeError(
                    f"{name}: expected hx to be a tuple (h_0, c_0)"
                    if self.mode == "LSTM"
                    else f"{name}: expected hx to be a single tensor, got {len(states)}"
                )
            for k, (s, want) in enumerate(zip(states, shapes)):
                label = ("h_0", "c_0")[k]
                if s.dtype != x.dtype:
                    raise RuntimeError(
                        f"{name}: {label} must have the type {x.dtype} of the input, got {s.dtype}"
                    )
                if not batched and s.ndim != 2:
                    raise RuntimeError(
                        f"{name}: for unbatched 2-D input, {label} should also be 2-D "
                        f"{(want[0], want[2])}, got shape {tuple(s.shape)}"
                    )
                got = tuple(s.shape) if batched else (s.shape[0], 1) + tuple(s.shape[1:])
                if got != want:
                    exp = want if batched else (want[0], want[2])
                    raise RuntimeError(
                        f"{name}: expected {label} of shape {exp}, got {tuple(s.shape)} "
                        f"(input has batch size {N})"
                    )
            if not batched:
                states = [s.unsqueeze(1) for s in states]
        return states[0], (states[1] if self.mode == "LSTM" else None)

    def _dropout_masks(self, x):
        p = self.dropout
        if not (self.training and p > 0 and self.num_layers > 1):
            return None
        width = (2 if self.bidirectional else 1) * (self.proj_size or self.hidden_size)
        rng = creation._rng(None)
        shape = (x.shape[0], x.shape[1], width)
        scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
        return [
            (rng.random(shape) >= p).astype(x.dtype) * np.asarray(scale, x.dtype)
            for _ in range(self.num_layers - 1)
        ]

    def _run_fused(self, x, h0, c0, mask, drop):
        outs = rnn_stack(
            self.mode,
            x,
            h0,
            c0,
            self._flat_weights,
            self.num_layers,
            self.bidirectional,
            self.bias,
            bool(self.proj_size),
            drop,
            mask,
        )
        return outs if self.mode == "LSTM" else (*outs, None)

    def _run_cells(self, x, h0, c0, mask, drop):
        """Reference path: the same recurrence step by step through the cells (twice differentiable)."""
        D, T = (2 if self.bidirectional else 1), x.shape[0]
        weights = self.all_weights
        inp, hn, cn = x, [], []
        for layer in range(self.num_layers):
            if layer > 0 and drop is not None:
                inp = inp * _const(drop[layer - 1])
            outs = []
            for d in range(D):
                k = layer * D + d
                w = list(weights[k])
                w_ih, w_hh = w[0], w[1]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                w_hr = w[-1] if self.proj_size else None
                h, c = h0[k], (c0[k] if c0 is not None else None)
                steps = [None] * T
                for t in range(T - 1, -1, -1) if d else range(T):
                    if self.mode == "LSTM":
                        h_new, c_new = lstm_cell(inp[t], h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
                    elif self.mode == "GRU":
                        h_new, c_new = gru_cell(inp[t], h, w_ih, w_hh, b_ih, b_hh), None
                    else:
                        act = "relu" if self.mode == "RNN_RELU" else "tanh"
                        h_new, c_new = rnn_cell(inp[t], h, w_ih, w_hh, b_ih, b_hh, act), None
                    if mask is None:
                        h, c, steps[t] = h_new, c_new, h_new
                    else:
                        m = _const(mask[t])
                        h, steps[t] = m * h_new + (1 - m) * h, m * h_new
                        c = None if c is None else m * c_new + (1 - m) * c
                outs.append(stack(steps, 0))
                hn.append(h)
                cn.append(c)
            inp = outs[0] if D == 1 else cat(outs, 2)
        return inp, stack(hn, 0), (stack(cn, 0) if self.mode == "LSTM" else None)


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (000 eq. 24; or relu).

    Args:
        input_size, hidden_size: features of x_t and of h_t.
        num_layers: stacked recurrences (default 1). nonlinearity: 'tanh' (default) or 'relu'.
        bias: use b_ih, b_hh (default True). batch_first: input (N, L, H_in) (default False).
        dropout: dropout on the outputs of each layer but the last (default 0).
        bidirectional: also run the sequence backwards, 000 eq. 26-29 (default False).

    Shape:
        input (L, N, H_in), (N, L, H_in) with batch_first, (L, H_in) unbatched, or a PackedSequence;
        h_0 and h_n (D * num_layers, N, H_out); output (L, N, D * H_out).

    Examples:
        >>> rnn = deepnum.nn.RNN(10, 20, 2)
        >>> output, hn = rnn(deepnum.randn(5, 3, 10))
        >>> output.shape, hn.shape
        (deepnum.Size([5, 3, 20]), deepnum.Size([2, 3, 20]))

    References:
        000 eq. 24-29; Elman, "Finding Structure in Time", 1990.
    """

    def __init__(self, *args, nonlinearity: str = "tanh", **kwargs) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNN: unknown nonlinearity '{nonlinearity}', select from 'tanh' or 'relu'"
            )
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """LSTM: i,f,o = sigma(.), g = tanh(.), c_t = f*c_{t-1} + i*g, h_t = o*tanh(c_t) (000 eq. 30-34).

    Arguments as ``RNN`` plus ``proj_size`` (default 0): if > 0, h_t = W_hr (o * tanh(c_t)) has
    ``proj_size`` features. Gates are computed from [W_ii|W_if|W_ig|W_io] x + [W_hi|...] h (003 §4.4).
    ``hx`` is the pair (h_0, c_0); the result is (output, (h_n, c_n)).

    Examples:
        >>> lstm = deepnum.nn.LSTM(10, 20, 2)
        >>> output, (hn, cn) = lstm(deepnum.randn(5, 3, 10))
        >>> output.shape, cn.shape
        (deepnum.Size([5, 3, 20]), deepnum.Size([2, 3, 20]))

    References:
        000 eq. 30-34; 003 §4.4; Hochreiter & Schmidhuber, "Long Short-Term Memory", 1997;
        Sak et al., "Long Short-Term Memory Based RNN Architectures for LVSR", 2014, arXiv:1402.1128.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """GRU: r, z = sigma(.), n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), h' = (1-z)*n + z*h.

    Arguments and shapes as ``RNN``. Gate order r, z, n (PyTorch's).

    Examples:
        >>> gru = deepnum.nn.GRU(10, 20, bidirectional=True)
        >>> output, hn = gru(deepnum.randn(5, 3, 10))
        >>> output.shape, hn.shape
        (deepnum.Size([5, 3, 40]), deepnum.Size([2, 3, 20]))

    References:
        003 §4.5; Cho et al., 2014, arXiv:1406.1078.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("GRU", *args, **kwargs)
