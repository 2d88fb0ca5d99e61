"""nn.RNN / nn.LSTM / nn.GRU against PyTorch in every configuration, fused and step-by-step."""

import itertools

import numpy as np
import pytest
import torch

import deepnum
from deepnum import nn
from tests.helpers import assert_close

MODES = [
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("GRU", {}),
    ("LSTM", {"proj_size": 3}),
]
CONFIGS = list(
    itertools.product(
        range(len(MODES)), [1, 2], [True, False], [True, False], [True, False], [True, False]
    )
)


def _pair(mode, kwargs, input_size=4, hidden=5, dtype=np.float32, **more):
    layer = getattr(nn, mode)(input_size, hidden, **kwargs, **more)
    if dtype == np.float64:
        layer = layer.double()
    t_layer = getattr(torch.nn, mode)(input_size, hidden, **kwargs, **more)
    if dtype == np.float64:
        t_layer = t_layer.double()
    t_layer.load_state_dict(
        {k: torch.from_numpy(v.detach().numpy().copy()) for k, v in layer.state_dict().items()}
    )
    return layer, t_layer


def _states(mode, kwargs, layers, D, N, hidden, rng, dtype):
    P = kwargs.get("proj_size") or hidden
    h0 = rng.standard_normal((layers * D, N, P)).astype(dtype)
    if mode != "LSTM":
        return [h0]
    return [h0, rng.standard_normal((layers * D, N, hidden)).astype(dtype)]


def _run(layer, x, states, is_torch):
    mk = torch.tensor if is_torch else deepnum.tensor
    xs = mk(x, requires_grad=True)
    hs = [mk(s, requires_grad=True) for s in states]
    hx = None if not hs else (tuple(hs) if len(hs) == 2 else hs[0])
    out, hn = layer(xs, hx)
    finals = list(hn) if isinstance(hn, tuple) else [hn]
    rng = np.random.default_rng(7)
    loss = 0
    for y in [out] + finals:
        loss = loss + (y * mk(rng.standard_normal(tuple(y.shape)).astype(x.dtype))).sum()
    loss.backward()
    return (
        [out] + finals,
        [xs.grad] + [h.grad for h in hs],
        {n: p.grad for n, p in layer.named_parameters()},
    )


@pytest.mark.parametrize("mi,layers,bias,batch_first,bidirectional,init", CONFIGS)
def test_matches_torch(mi, layers, bias, batch_first, bidirectional, init):
    mode, kwargs = MODES[mi]
    rng = np.random.default_rng(mi * 100 + layers)
    T, N, D = 6, 3, 2 if bidirectional else 1
    layer, t_layer = _pair(
        mode,
        kwargs,
        num_layers=layers,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
    )
    x = rng.standard_normal((N, T, 4) if batch_first else (T, N, 4)).astype(np.float32)
    states = _states(mode, kwargs, layers, D, N, 5, rng, np.float32) if init else []
    outs, grads, pgrads = _run(layer, x, states, False)
    t_outs, t_grads, t_pgrads = _run(t_layer, x, states, True)
    for a, b in zip(outs, t_outs):
        assert_close(a, b, msg="forward")
    for a, b in zip(grads, t_grads):
        assert_close(a, b, msg="input/state gradient")
    assert pgrads.keys() == t_pgrads.keys()
    for k in pgrads:
        assert_close(pgrads[k], t_pgrads[k], msg=k)


def _assert_fused_equals_cells(layer, x, seed=None):
    """The fused kernels and the step-by-step cells give the same outputs and gradients."""
    results = []
    for fused in (True, False):
        layer.fused = fused
        layer.zero_grad()
        if seed is not None:
            deepnum.manual_seed(seed)
        results.append(_run(layer, x, [], False))
    (o1, g1, p1), (o2, g2, p2) = results
    for a, b in zip(o1 + g1, o2 + g2):
        assert_close(a, b)
    for k in p1:
        assert_close(p1[k], p2[k], msg=k)


@pytest.mark.parametrize("mi", range(len(MODES)))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_equals_cells_float64(mi, bidirectional):
    """The fused kernels and the step-by-step cells compute the same function and gradients."""
    mode, kwargs = MODES[mi]
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=bidirectional, **kwargs).double()
    rng = np.random.default_rng(mi)
    _assert_fused_equals_cells(layer, rng.standard_normal((5, 2, 3)))


@pytest.mark.parametrize("mi", range(len(MODES)))
def test_unbatched_input(mi):
    mode, kwargs = MODES[mi]
    layer, t_layer = _pair(mode, kwargs, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    states = [s[:, 0] for s in _states(mode, kwargs, 2, 2, 1, 5, rng, np.float32)]
    outs, grads, _ = _run(layer, x, states, False)
    t_outs, t_grads, _ = _run(t_layer, x, states, True)
    for a, b in zip(outs + grads, t_outs + t_grads):
        assert_close(a, b)


def test_state_dict_keys_and_shapes_match_torch():
    layer, t_layer = _pair("LSTM", {"proj_size": 2}, num_layers=2, bidirectional=True)
    ours = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in t_layer.state_dict().items()}
    assert list(ours) == list(theirs) and ours == theirs


def test_default_init_is_uniform_in_one_over_sqrt_hidden():
    layer = nn.GRU(30, 100)
    w = layer.weight_hh_l0.detach().numpy()
    assert np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.099 and abs(w.mean()) < 0.002


def test_dropout_between_layers_only_in_training():
    layer = nn.LSTM(4, 5, num_layers=2, dropout=0.5)
    x = deepnum.randn(7, 3, 4)
    layer.eval()
    a, b = layer(x)[0], layer(x)[0]
    assert_close(a, b)
    layer.train()
    c = layer(x)[0]
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


def test_double_backward_through_fused_kernel_raises():
    layer = nn.GRU(3, 4).double()
    x = deepnum.randn(5, 2, 3, dtype=deepnum.float64, requires_grad=True)
    out, _ = layer(x)
    with pytest.raises(RuntimeError, match="does not support double backward"):
        deepnum.autograd.grad(out.sum(), x, create_graph=True)
    layer.fused = False
    out, _ = layer(x)
    (g,) = deepnum.autograd.grad((out * out).sum(), x, create_graph=True)
    g.sum().backward()
    assert x.grad is not None


def test_thousand_step_sequence_trains():
    """BPTT over 1,000 steps: no recursion, finite gradients, one SGD step lowers the loss."""
    layer = nn.LSTM(2, 8)
    x = deepnum.randn(1000, 4, 2)

    def loss_fn():
        out, _ = layer(x)
        return (out[-1] ** 2).mean()

    before = loss_fn()
    before.backward()
    for p in layer.parameters():
        assert np.isfinite(p.grad.numpy()).all()
        p.array -= 0.5 * p.grad.array
    assert loss_fn().item() < before.item()


def test_flatten_parameters_is_a_noop_and_repr():
    layer = nn.LSTM(4, 8, num_layers=2, batch_first=True, bidirectional=True, proj_size=3)
    layer.flatten_parameters()
    assert (
        repr(layer)
        == "LSTM(4, 8, proj_size=3, num_layers=2, batch_first=True, bidirectional=True)"
    )
    assert len(layer.all_weights) == 4 and len(layer.all_weights[0]) == 5


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_training_dropout_fused_equals_cells_with_the_same_masks(mode):
    layer = getattr(nn, mode)(3, 4, num_layers=3, dropout=0.4, bidirectional=True).double()
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    _assert_fused_equals_cells(layer, x, seed=11)  # the same inter-layer masks on both paths


@pytest.mark.parametrize("wanted", ["none", "h0", "c0"])
def test_lstm_initial_state_gradient_only_when_wanted(wanted):
    """Without a gradient wanted for (h0, c0) the kernel skips its last recurrent product:
    parameter gradients still match PyTorch, and a wanted state gradient is still exact."""
    layer, t_layer = _pair("LSTM", {}, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((5, 3, 4)).astype(np.float32)
    h0, c0 = _states("LSTM", {}, 2, 2, 3, 5, rng, np.float32)
    results = []
    for mk, lay in ((deepnum.tensor, layer), (torch.tensor, t_layer)):
        h = mk(h0, requires_grad=wanted == "h0")
        c = mk(c0, requires_grad=wanted == "c0")
        out, (hn, cn) = lay(mk(x), (h, c))
        (out.sum() + (hn * hn).sum() + cn.sum()).backward()
        state_grad = {"h0": h.grad, "c0": c.grad}.get(wanted)
        results.append((state_grad, {n: p.grad for n, p in lay.named_parameters()}))
    (g, pg), (tg, tpg) = results
    if wanted != "none":
        assert_close(g, tg, msg="state gradient")
    for k in pg:
        assert_close(pg[k], tpg[k], msg=k)
