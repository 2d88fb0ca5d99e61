"""Recurrent layers beyond PyTorch: peephole LSTM, leaky units, skip connections through time,
LSTNet's recurrent-skip GRU, deep transitions and the state-space RNN of 004 Def. 6.22.

All take time-major input (L, N, H_in) (or (N, L, H_in) with ``batch_first=True``) and return
``(output, h_n)`` like ``nn.RNN`` (the peephole LSTM returns ``(output, (h_n, c_n))``). They are
written step by step from primitive ops, so they are twice differentiable; the recurrent-skip
GRU reuses the fused GRU kernel by regrouping the time axis.

References:
    003 §4.3 (skip connections, leaky units, removing connections), §4.5 (peephole LSTM),
    Fig. 10.13 (deep RNNs); 001 §12 eq. 90-94 (LSTNet); 004 Def. 6.22, Ex. 6.23.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd.grad_mode import no_grad
from deepnum.nn.modules.module import Module
from deepnum.nn.modules.rnn import GRU
from deepnum.nn.modules.rnn_cells import check_features, recurrent_name, uniform_init
from deepnum.nn.parameter import Parameter
from deepnum.ops import creation
from deepnum.ops.join import cat, stack

__all__ = ["DeepTransitionRNN", "LeakyRNN", "PeepholeLSTM", "SkipGRU", "SkipRNN", "StateSpaceRNN"]

_ACT = {"tanh": lambda a: a.tanh(), "relu": lambda a: a.relu(), "identity": lambda a: a}


class _StepRNN(Module):
    """Shared plumbing: parameters U(-1/sqrt(H), 1/sqrt(H)), input checks, the loop over time."""

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.batch_first = input_size, hidden_size, batch_first

    def _param(self, *shape) -> Parameter:
        return Parameter(np.empty(shape, creation._float_dtype(None)))

    def reset_parameters(self) -> None:
        uniform_init(self.parameters(recurse=False), self.hidden_size)

    def _time_major(self, input):
        name = recurrent_name(self)
        if input.ndim != 3:
            raise ValueError(
                f"{name}: expected input of shape (L, N, {self.input_size}), got {input.ndim}D "
                f"(shape {tuple(input.shape)})"
            )
        check_features(name, input, self.input_size)
        return input.transpose(0, 1) if self.batch_first else input

    def _state(self, hx, shape, label="h_0"):
        if hx is None:
            return creation.zeros(*shape)
        if tuple(hx.shape) != tuple(shape):
            raise RuntimeError(
                f"{type(self).__name__}: expected {label} of shape {tuple(shape)}, got {tuple(hx.shape)}"
            )
        return hx

    def _output(self, steps):
        out = stack(steps, 0)
        return out.transpose(0, 1) if self.batch_first else out

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class PeepholeLSTM(_StepRNN):
    """LSTM whose gates also see the cell state (peepholes, 003 §4.5; Gers & Schmidhuber 2000):

    i = sigma(W_ii x + W_hi h + p_i * c_{t-1} + b_i),  f = sigma(W_if x + W_hf h + p_f * c_{t-1} + b_f),
    g = tanh(W_ig x + W_hg h + b_g),  c_t = f * c_{t-1} + i * g,
    o = sigma(W_io x + W_ho h + p_o * c_t + b_o),  h_t = o * tanh(c_t).

    Parameters: ``weight_ih`` (4H, H_in), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H) in
    PyTorch's gate order i, f, g, o, and ``weight_ch`` (3, H): the peepholes p_i, p_f, p_o.

    Examples:
        >>> out, (h, c) = deepnum.nn.PeepholeLSTM(3, 5)(deepnum.randn(7, 2, 3))
        >>> out.shape
        deepnum.Size([7, 2, 5])

    References:
        Gers, Schraudolph & Schmidhuber, "Learning Precise Timing with LSTM Recurrent Networks", JMLR 2002.
    """

    def __init__(self, input_size: int, hidden_size: int, batch_first: bool = False) -> None:
        super().__init__(input_size, hidden_size, batch_first)
        self.weight_ih = self._param(4 * hidden_size, input_size)
        self.weight_hh = self._param(4 * hidden_size, hidden_size)
        self.bias_ih = self._param(4 * hidden_size)
        self.bias_hh = self._param(4 * hidden_size)
        self.weight_ch = self._param(3, hidden_size)
        self.reset_parameters()

    def forward(self, input, hx=None):
        x = self._time_major(input)
        shape = (x.shape[1], self.hidden_size)
        h, c = (None, None) if hx is None else hx
        h, c = self._state(h, shape), self._state(c, shape, "c_0")
        H = self.hidden_size
        xw = x @ self.weight_ih.T + self.bias_ih
        p_i, p_f, p_o = self.weight_ch[0], self.weight_ch[1], self.weight_ch[2]
        steps = []
        for t in range(x.shape[0]):
            gates = xw[t] + h @ self.weight_hh.T + self.bias_hh
            i = (gates[:, :H] + p_i * c).sigmoid()
            f = (gates[:, H : 2 * H] + p_f * c).sigmoid()
            c = f * c + i * gates[:, 2 * H : 3 * H].tanh()
            o = (gates[:, 3 * H :] + p_o * c).sigmoid()
            h = o * c.tanh()
            steps.append(h)
        return self._output(steps), (h, c)


class LeakyRNN(_StepRNN):
    """Leaky units (003 §4.3): h~_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),
    h_t = alpha * h_{t-1} + (1 - alpha) * h~_t — an exponential moving average of the Elman state.

    Args:
        alpha: self-connection weight in [0, 1) (default 0.9); near 1 remembers long.
        learn_alpha: learn one alpha per unit (kept in (0, 1) as sigmoid of ``alpha_logit``).

    Examples:
        >>> out, h = deepnum.nn.LeakyRNN(3, 5, alpha=0.8)(deepnum.randn(7, 2, 3))
        >>> h.shape
        deepnum.Size([2, 5])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        alpha: float = 0.9,
        nonlinearity: str = "tanh",
        learn_alpha: bool = False,
        batch_first: bool = False,
    ) -> None:
        super().__init__(input_size, hidden_size, batch_first)
        if not 0 <= alpha < 1:
            raise ValueError(f"LeakyRNN: alpha must be in [0, 1), got {alpha}")
        self.nonlinearity, self.alpha, self.learn_alpha = nonlinearity, alpha, learn_alpha
        self.weight_ih = self._param(hidden_size, input_size)
        self.weight_hh = self._param(hidden_size, hidden_size)
        self.bias_ih = self._param(hidden_size)
        self.bias_hh = self._param(hidden_size)
        self.reset_parameters()
        if learn_alpha:
            logit = math.log(alpha / (1 - alpha)) if alpha > 0 else -10.0
            self.alpha_logit = Parameter(np.full(hidden_size, logit, creation._float_dtype(None)))

    def forward(self, input, hx=None):
        x = self._time_major(input)
        h = self._state(hx, (x.shape[1], self.hidden_size))
        alpha = self.alpha_logit.sigmoid() if self.learn_alpha else self.alpha
        act = _ACT[self.nonlinearity]
        xw = x @ self.weight_ih.T + self.bias_ih
        steps = []
        for t in range(x.shape[0]):
            h_tilde = act(xw[t] + h @ self.weight_hh.T + self.bias_hh)
            h = alpha * h + (1 - alpha) * h_tilde
            steps.append(h)
        return self._output(steps), h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, alpha={self.alpha}, learn_alpha={self.learn_alpha}"


class SkipRNN(_StepRNN):
    """Elman RNN with skip connections through time of delay d (003 §4.3):

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + W_hd h_{t-d} + b_hh),  h_t = 0 for t < 0.

    Gradients then shrink like tau/d instead of tau. ``remove_short=True`` drops the W_hh h_{t-1}
    term ("removing connections"), leaving only the delay-d path (``weight_hh`` is then absent).

    Examples:
        >>> out, h = deepnum.nn.SkipRNN(3, 5, skip=4)(deepnum.randn(9, 2, 3))
        >>> h.shape
        deepnum.Size([4, 2, 5])

    ``h_n`` holds the last d states (d, N, H), all of which the continuation needs; ``hx`` the d
    states before the sequence, oldest first.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        skip: int = 2,
        nonlinearity: str = "tanh",
        remove_short: bool = False,
        batch_first: bool = False,
    ) -> None:
        super().__init__(input_size, hidden_size, batch_first)
        if skip < 1:
            raise ValueError(f"SkipRNN: skip (the delay d) must be >= 1, got {skip}")
        self.skip, self.nonlinearity, self.remove_short = skip, nonlinearity, remove_short
        self.weight_ih = self._param(hidden_size, input_size)
        if not remove_short:
            self.weight_hh = self._param(hidden_size, hidden_size)
        self.weight_hd = self._param(hidden_size, hidden_size)
        self.bias_ih = self._param(hidden_size)
        self.bias_hh = self._param(hidden_size)
        self.reset_parameters()

    def forward(self, input, hx=None):
        x = self._time_major(input)
        d = self.skip
        past = self._state(hx, (d, x.shape[1], self.hidden_size))
        history = [past[j] for j in range(d)]  # h_{t-d} ... h_{t-1}
        act = _ACT[self.nonlinearity]
        xw = x @ self.weight_ih.T + self.bias_ih
        steps = []
        for t in range(x.shape[0]):
            a = xw[t] + history[-d] @ self.weight_hd.T + self.bias_hh
            if not self.remove_short:
                a = a + history[-1] @ self.weight_hh.T
            history.append(act(a))
            steps.append(history[-1])
        return self._output(steps), stack(history[-d:], 0)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, skip={self.skip}, remove_short={self.remove_short}"


class SkipGRU(_StepRNN):
    """LSTNet's recurrent-skip GRU (001 §12 eq. 93): a GRU whose state comes from t - p, not t - 1:

    r, z = sigma(W x_t + U h_{t-p} + b), n = tanh(W_n x_t + b_in + r * (U_n h_{t-p} + b_hn)),
    h_t = (1 - z) * n + z * h_{t-p}.

    The p interleaved chains t = j, j+p, j+2p, ... are independent, so they run as a batch of
    p*N sequences through the fused GRU kernel. ``h_n`` holds the last p states (p, N, H), which
    LSTNet's combination layer (eq. 94) reads.

    Examples:
        >>> out, h = deepnum.nn.SkipGRU(3, 5, skip=24)(deepnum.randn(48, 2, 3))
        >>> out.shape, h.shape
        (deepnum.Size([48, 2, 5]), deepnum.Size([24, 2, 5]))

    References:
        Lai et al., "Modeling Long- and Short-Term Temporal Patterns with Deep Neural Networks",
        SIGIR 2018, arXiv:1703.07015.
    """

    def __init__(
        self, input_size: int, hidden_size: int, skip: int, batch_first: bool = False
    ) -> None:
        super().__init__(input_size, hidden_size, batch_first)
        if skip < 1:
            raise ValueError(f"SkipGRU: skip (the period p) must be >= 1, got {skip}")
        self.skip = skip
        self.gru = GRU(input_size, hidden_size)

    def forward(self, input, hx=None):
        x = self._time_major(input)
        T, N, I = x.shape
        p, H = self.skip, self.hidden_size
        k = -(-T // p)
        if k * p != T:  # pad the end; padded steps come after every real one, so change nothing
            x = cat([x, creation.zeros(k * p - T, N, I, dtype=x.dtype)], 0)
        h0 = None if hx is None else self._state(hx, (p, N, H)).reshape(1, p * N, H)
        out, _ = self.gru(x.reshape(k, p * N, I), h0)
        out = out.reshape(k * p, N, H)[:T]
        h_n = out[T - p :] if T >= p else out
        return (out.transpose(0, 1) if self.batch_first else out), h_n

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, skip={self.skip}"


class DeepTransitionRNN(_StepRNN):
    """RNN with an MLP as hidden-to-hidden transition (003 Fig. 10.13 b, c; Pascanu et al. 2014):

    z^0 = [x_t; h_{t-1}],  z^l = relu(W_l z^{l-1} + b_l) for l < L,  h_t = tanh(W_L z^{L-1} + b_L)
    [+ U h_{t-1} with ``shortcut=True``: the skip connection of Fig. 10.13 c that shortens the
    path between time steps again].

    Args:
        transition_layers: depth L of the transition MLP (default 2); hidden widths = hidden_size.

    Parameters ``transition_{l}_weight`` (H, fan_in) / ``transition_{l}_bias`` (H), ``shortcut_weight``.

    Examples:
        >>> out, h = deepnum.nn.DeepTransitionRNN(3, 5, transition_layers=3)(deepnum.randn(7, 2, 3))
        >>> out.shape
        deepnum.Size([7, 2, 5])

    References:
        Pascanu, Gulcehre, Cho & Bengio, "How to Construct Deep Recurrent Neural Networks", 2014,
        arXiv:1312.6026.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        transition_layers: int = 2,
        shortcut: bool = False,
        batch_first: bool = False,
    ) -> None:
        super().__init__(input_size, hidden_size, batch_first)
        if transition_layers < 1:
            raise ValueError(
                f"DeepTransitionRNN: transition_layers must be >= 1, got {transition_layers}"
            )
        self.transition_layers, self.shortcut = transition_layers, shortcut
        for layer in range(transition_layers):
            fan_in = input_size + hidden_size if layer == 0 else hidden_size
            self.register_parameter(f"transition_{layer}_weight", self._param(hidden_size, fan_in))
            self.register_parameter(f"transition_{layer}_bias", self._param(hidden_size))
        if shortcut:
            self.shortcut_weight = self._param(hidden_size, hidden_size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Each transition layer U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch's Linear."""
        with no_grad():
            for name, p in self.named_parameters():
                weight = (
                    getattr(self, name.replace("_bias", "_weight"))
                    if name.endswith("_bias")
                    else p
                )
                fan_in = weight.shape[1]
                k = 1.0 / math.sqrt(fan_in)
                p.uniform_(-k, k)

    def forward(self, input, hx=None):
        x = self._time_major(input)
        h = self._state(hx, (x.shape[1], self.hidden_size))
        layers = [
            (getattr(self, f"transition_{k}_weight"), getattr(self, f"transition_{k}_bias"))
            for k in range(self.transition_layers)
        ]
        w0, b0 = layers[0]
        xw = x @ w0[:, : self.input_size].T + b0  # the x-part of layer 0 for all t at once
        w0h = w0[:, self.input_size :]
        steps = []
        for t in range(x.shape[0]):
            z = xw[t] + h @ w0h.T
            for w, b in layers[1:]:
                z = z.relu() @ w.T + b
            z = z.tanh()
            h = z + h @ self.shortcut_weight.T if self.shortcut else z
            steps.append(h)
        return self._output(steps), h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, transition_layers={self.transition_layers}, shortcut={self.shortcut}"


class StateSpaceRNN(_StepRNN):
    """The RNN of 004 Def. 6.22 with a read-out from state and input:

    y_t = W_ys s_t + W_yx x_t + b_y,   s_{t+1} = act(W_ss s_t + W_sx x_t + b_s),   s_0 = 0 (or hx).

    With ``nonlinearity='identity'`` it is a linear state-space filter: 004 Ex. 6.23 sets W_ss, W_sx
    and W_ys by hand to cancel delayed copies of a signal (multipath filtering).

    Args:
        input_size, hidden_size (state size), output_size; nonlinearity 'tanh' | 'relu' | 'identity';
        bias (default True).

    Shape: input (L, N, H_in) -> output (L, N, output_size), and the state s_L (N, hidden_size).

    Examples:
        >>> y, s = deepnum.nn.StateSpaceRNN(1, 4, 1, nonlinearity="identity")(deepnum.randn(6, 1, 1))
        >>> y.shape, s.shape
        (deepnum.Size([6, 1, 1]), deepnum.Size([1, 4]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
    ) -> None:
        super().__init__(input_size, hidden_size, batch_first)
        if nonlinearity not in _ACT:
            raise ValueError(
                f"StateSpaceRNN: unknown nonlinearity {nonlinearity!r}, select from {sorted(_ACT)}"
            )
        self.output_size, self.nonlinearity, self.bias = output_size, nonlinearity, bias
        self.weight_ss = self._param(hidden_size, hidden_size)
        self.weight_sx = self._param(hidden_size, input_size)
        self.weight_ys = self._param(output_size, hidden_size)
        self.weight_yx = self._param(output_size, input_size)
        self.bias_s = self._param(hidden_size) if bias else None
        self.bias_y = self._param(output_size) if bias else None
        self.reset_parameters()

    def forward(self, input, hx=None):
        x = self._time_major(input)
        s = self._state(hx, (x.shape[1], self.hidden_size), "s_0")
        act = _ACT[self.nonlinearity]
        xs = x @ self.weight_sx.T
        xy = x @ self.weight_yx.T
        if self.bias:
            xs, xy = xs + self.bias_s, xy + self.bias_y
        steps = []
        for t in range(x.shape[0]):
            steps.append(s @ self.weight_ys.T + xy[t])
            s = act(s @ self.weight_ss.T + xs[t])
        return self._output(steps), s

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, {self.output_size}, nonlinearity={self.nonlinearity!r}"
