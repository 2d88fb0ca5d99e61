"""Peephole LSTM, leaky units, skip connections, recurrent-skip GRU, deep transitions, and the
state-space RNN of 004 Ex. 6.23: gradchecks, naive per-step references, reductions to nn.RNN/LSTM/GRU."""

import numpy as np
import pytest

import deepnum
from deepnum import nn
from tests.helpers import assert_close


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _x(T=6, N=2, I=3, seed=0, dtype=np.float64, requires_grad=True):
    rng = np.random.default_rng(seed)
    return deepnum.tensor(rng.standard_normal((T, N, I)), dtype=dtype, requires_grad=requires_grad)


def _w(module):
    return {n: p.detach().numpy() for n, p in module.named_parameters()}


def test_multipath_filter_of_004_example_6_23():
    """Ex. 6.23: input [5, 10, 0, 1.5, 3.5, 1] gives [5, 10, 0, 0, 0, 0]."""
    rnn = nn.StateSpaceRNN(1, 4, 1, nonlinearity="identity", bias=False).double()
    W = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [-0.1, -0.3, 0, 0]]
    with deepnum.no_grad():
        rnn.weight_ss.copy_(deepnum.tensor(W, dtype=deepnum.float64))
        rnn.weight_sx.copy_(deepnum.tensor([[0.0], [0], [0], [1]], dtype=deepnum.float64))
        rnn.weight_ys.copy_(deepnum.tensor([[-0.1, -0.3, 0, 0]], dtype=deepnum.float64))
        rnn.weight_yx.copy_(deepnum.tensor([[1.0]], dtype=deepnum.float64))
    x = deepnum.tensor([5, 10, 0, 1.5, 3.5, 1], dtype=deepnum.float64).reshape(6, 1, 1)
    y, _ = rnn(x)
    np.testing.assert_allclose(y.detach().numpy().ravel(), [5, 10, 0, 0, 0, 0], atol=1e-12)


MODULES = {
    "peephole": lambda: nn.PeepholeLSTM(3, 4),
    "leaky": lambda: nn.LeakyRNN(3, 4, alpha=0.7, learn_alpha=True),
    "skip": lambda: nn.SkipRNN(3, 4, skip=3),
    "skip-only": lambda: nn.SkipRNN(3, 4, skip=2, remove_short=True, nonlinearity="relu"),
    "skip-gru": lambda: nn.SkipGRU(3, 4, skip=4),
    "deep": lambda: nn.DeepTransitionRNN(3, 4, transition_layers=3, shortcut=True),
    "state-space": lambda: nn.StateSpaceRNN(3, 4, 2),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_gradcheck_float64(name):
    module = MODULES[name]().double()
    x = _x()
    params = list(module.parameters())

    def fn(x, *ps):
        out, h = module(x)
        return out, h[0] if isinstance(h, tuple) else h

    assert deepnum.autograd.gradcheck(fn, (x, *params))


def test_peephole_against_naive_reference():
    m = nn.PeepholeLSTM(3, 4).double()
    x = _x()
    out, (_, c) = m(x)
    w, X = _w(m), x.detach().numpy()
    hh, cc, ref = np.zeros((2, 4)), np.zeros((2, 4)), []
    for t in range(6):
        a = X[t] @ w["weight_ih"].T + w["bias_ih"] + hh @ w["weight_hh"].T + w["bias_hh"]
        i = _sig(a[:, :4] + w["weight_ch"][0] * cc)
        f = _sig(a[:, 4:8] + w["weight_ch"][1] * cc)
        cc = f * cc + i * np.tanh(a[:, 8:12])
        o = _sig(a[:, 12:] + w["weight_ch"][2] * cc)
        hh = o * np.tanh(cc)
        ref.append(hh)
    assert_close(out, np.stack(ref))
    assert_close(c, cc)


def test_peephole_without_peepholes_is_lstm():
    m, lstm = nn.PeepholeLSTM(3, 4).double(), nn.LSTM(3, 4).double()
    with deepnum.no_grad():
        m.weight_ch.zero_()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(m, name).copy_(getattr(lstm, name + "_l0"))
    x = _x()
    assert_close(m(x)[0], lstm(x)[0])


def test_leaky_against_naive_reference_and_alpha_zero_is_rnn():
    m = nn.LeakyRNN(3, 4, alpha=0.6).double()
    x = _x()
    out, _ = m(x)
    w, X, hh, ref = _w(m), x.detach().numpy(), np.zeros((2, 4)), []
    for t in range(6):
        h_tilde = np.tanh(
            X[t] @ w["weight_ih"].T + w["bias_ih"] + hh @ w["weight_hh"].T + w["bias_hh"]
        )
        hh = 0.6 * hh + 0.4 * h_tilde
        ref.append(hh)
    assert_close(out, np.stack(ref))
    m.alpha = 0.0
    rnn = nn.RNN(3, 4).double()
    rnn.load_state_dict({k + "_l0": v for k, v in m.state_dict().items()})
    assert_close(m(x)[0], rnn(x)[0])


def test_skip_against_naive_reference():
    m = nn.SkipRNN(3, 4, skip=3).double()
    x = _x(T=8)
    out, h_n = m(x)
    w, X = _w(m), x.detach().numpy()
    hist = [np.zeros((2, 4))] * 3
    for t in range(8):
        a = X[t] @ w["weight_ih"].T + w["bias_ih"] + hist[-1] @ w["weight_hh"].T
        hist.append(np.tanh(a + hist[-3] @ w["weight_hd"].T + w["bias_hh"]))
    assert_close(out, np.stack(hist[3:]))
    assert_close(h_n, np.stack(hist[-3:]))


def test_skip_with_delay_one_and_no_short_path_is_rnn():
    m = nn.SkipRNN(3, 4, skip=1, remove_short=True).double()
    rnn = nn.RNN(3, 4).double()
    with deepnum.no_grad():
        for a, b in [
            ("weight_ih", "weight_ih_l0"),
            ("weight_hd", "weight_hh_l0"),
            ("bias_ih", "bias_ih_l0"),
            ("bias_hh", "bias_hh_l0"),
        ]:
            getattr(m, a).copy_(getattr(rnn, b))
    x = _x()
    assert_close(m(x)[0], rnn(x)[0])


@pytest.mark.parametrize("T", [8, 11])
def test_skip_gru_against_naive_loop_over_cells(T):
    """h_t = GRUCell(x_t, h_{t-p}) step by step, including a length that is not a multiple of p."""
    m = nn.SkipGRU(3, 4, skip=3).double()
    cell = nn.GRUCell(3, 4).double()
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in m.gru.state_dict().items()})
    x = _x(T=T)
    h0 = deepnum.tensor(np.random.default_rng(2).standard_normal((3, 2, 4)))
    out, h_n = m(x, h0)
    hist = [h0[j] for j in range(3)]
    for t in range(T):
        hist.append(cell(x[t], hist[-3]))
    assert_close(out, np.stack([h.detach().numpy() for h in hist[3:]]))
    assert_close(h_n, np.stack([h.detach().numpy() for h in hist[-3:]]))


def test_deep_transition_with_one_layer_is_rnn():
    m = nn.DeepTransitionRNN(3, 4, transition_layers=1).double()
    rnn = nn.RNN(3, 4, bias=True).double()
    w = m.transition_0_weight
    with deepnum.no_grad():
        rnn.weight_ih_l0.copy_(w[:, :3])
        rnn.weight_hh_l0.copy_(w[:, 3:])
        rnn.bias_ih_l0.copy_(m.transition_0_bias)
        rnn.bias_hh_l0.zero_()
    x = _x()
    assert_close(m(x)[0], rnn(x)[0])


def test_variant_errors():
    with pytest.raises(
        RuntimeError, match=r"PeepholeLSTM\(input_size=3, hidden_size=4\): input has 2 features"
    ):
        nn.PeepholeLSTM(3, 4)(deepnum.zeros(5, 2, 2))
    with pytest.raises(
        ValueError,
        match=r"SkipRNN\(input_size=3, hidden_size=4\): expected input of shape \(L, N, 3\)",
    ):
        nn.SkipRNN(3, 4)(deepnum.zeros(5, 3))
    with pytest.raises(
        RuntimeError, match=r"SkipGRU: expected h_0 of shape \(4, 2, 5\), got \(1, 2, 5\)"
    ):
        nn.SkipGRU(3, 5, skip=4)(deepnum.zeros(8, 2, 3), deepnum.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="alpha must be in"):
        nn.LeakyRNN(3, 4, alpha=1.0)
