"""RNNCell / LSTMCell / GRUCell against PyTorch; error messages of the recurrent layers."""

import doctest
import importlib
import itertools

import numpy as np
import pytest
import torch

import deepnum
from deepnum import nn
from deepnum.nn.utils.rnn import pack_padded_sequence
from tests.helpers import assert_close, to_torch

CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]


@pytest.mark.parametrize("name,kwargs", CELLS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(name, kwargs, bias, batched, with_state):
    cell = getattr(nn, name)(4, 6, bias=bias, **kwargs)
    t_cell = getattr(torch.nn, name)(4, 6, bias=bias, **kwargs)
    t_cell.load_state_dict({k: to_torch(v) for k, v in cell.state_dict().items()})
    rng = np.random.default_rng(0)
    lead = (3,) if batched else ()
    x = rng.standard_normal(lead + (4,)).astype(np.float32)
    n_states = 2 if name == "LSTMCell" else 1
    states = (
        [rng.standard_normal(lead + (6,)).astype(np.float32) for _ in range(n_states)]
        if with_state
        else []
    )
    results = []
    for mk, layer in ((deepnum.tensor, cell), (torch.tensor, t_cell)):
        xs = mk(x, requires_grad=True)
        hs = [mk(s, requires_grad=True) for s in states]
        hx = None if not hs else (tuple(hs) if n_states == 2 else hs[0])
        out = layer(xs, hx)
        outs = list(out) if isinstance(out, tuple) else [out]
        loss = sum(
            (o * mk(np.full(tuple(o.shape), 0.3 + k, np.float32))).sum()
            for k, o in enumerate(outs)
        )
        loss.backward()
        results.append(
            (outs, [xs.grad] + [h.grad for h in hs], [p.grad for p in layer.parameters()])
        )
    for a, b in zip(*(list(itertools.chain(*r)) for r in results)):
        assert_close(a, b)


def test_cells_gradcheck_float64():
    cell = nn.LSTMCell(3, 4).double()
    x = deepnum.randn(2, 3, dtype=deepnum.float64, requires_grad=True)
    h = deepnum.randn(2, 4, dtype=deepnum.float64, requires_grad=True)
    c = deepnum.randn(2, 4, dtype=deepnum.float64, requires_grad=True)
    assert deepnum.autograd.gradcheck(lambda x, h, c: cell(x, (h, c)), (x, h, c))
    gru = nn.GRUCell(3, 4).double()
    assert deepnum.autograd.gradcheck(lambda x, h: gru(x, h), (x, h))


def test_fused_layer_gradcheck_float64():
    layer = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2).double()
    x = deepnum.randn(4, 2, 2, dtype=deepnum.float64, requires_grad=True)
    h = deepnum.randn(4, 2, 2, dtype=deepnum.float64, requires_grad=True)
    c = deepnum.randn(4, 2, 3, dtype=deepnum.float64, requires_grad=True)

    def fn(x, h, c):
        out, (h_n, c_n) = layer(x, (h, c))
        return out, h_n, c_n

    assert deepnum.autograd.gradcheck(fn, (x, h, c))


def test_fused_layer_gradcheck_float64_without_state_gradient():
    """No gradient wanted for (h0, c0): the kernel skips its last recurrent product."""
    layer = nn.LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = deepnum.randn(4, 2, 2, dtype=deepnum.float64, requires_grad=True)
    assert deepnum.autograd.gradcheck(lambda x: layer(x)[0], (x,))


# ---------------------------------------------------------------------------- bad input
def test_wrong_rank_names_layer_and_shape():
    with pytest.raises(
        ValueError,
        match=r"LSTM\(input_size=4, hidden_size=5\): expected input to be 2D .* got 4D \(shape \(1, 2, 3, 4\)\)",
    ):
        nn.LSTM(4, 5)(deepnum.zeros(1, 2, 3, 4))


def test_wrong_feature_size():
    with pytest.raises(
        RuntimeError,
        match=r"GRU\(input_size=4, hidden_size=5\): .*Expected 4, got 3 \(input shape \(7, 2, 3\)\)",
    ):
        nn.GRU(4, 5)(deepnum.zeros(7, 2, 3))


def test_wrong_hidden_shape():
    with pytest.raises(
        RuntimeError,
        match=r"RNN\(input_size=4, hidden_size=5\): expected h_0 of shape \(2, 2, 5\), got \(1, 2, 5\)",
    ):
        nn.RNN(4, 5, num_layers=2)(deepnum.zeros(7, 2, 4), deepnum.zeros(1, 2, 5))
    with pytest.raises(RuntimeError, match=r"expected c_0 of shape \(1, 2, 5\), got \(1, 2, 3\)"):
        nn.LSTM(4, 5, proj_size=3)(
            deepnum.zeros(7, 2, 4), (deepnum.zeros(1, 2, 3), deepnum.zeros(1, 2, 3))
        )
    with pytest.raises(RuntimeError, match=r"for unbatched 2-D input, h_0 should also be 2-D"):
        nn.GRU(4, 5)(deepnum.zeros(7, 4), deepnum.zeros(1, 1, 5))


def test_cell_errors():
    with pytest.raises(
        RuntimeError, match=r"LSTMCell\(input_size=4, hidden_size=5\): input has 3 features"
    ):
        nn.LSTMCell(4, 5)(deepnum.zeros(2, 3))
    with pytest.raises(
        RuntimeError,
        match=r"GRUCell\(input_size=4, hidden_size=5\): expected hidden state of shape \(2, 5\), got \(3, 5\)",
    ):
        nn.GRUCell(4, 5)(deepnum.zeros(2, 4), deepnum.zeros(3, 5))


def test_constructor_errors():
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(4, 5, proj_size=2)
    with pytest.raises(
        ValueError, match=r"proj_size \(5\) has to be smaller than hidden_size \(5\)"
    ):
        nn.LSTM(4, 5, proj_size=5)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(4, 5, dropout=1.5)
    with pytest.raises(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(4, 5, dropout=0.2)
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(4, 5, nonlinearity="sigmoid")


def test_packing_errors():
    x = deepnum.zeros(5, 3, 2)
    with pytest.raises(
        RuntimeError, match=r"must be sorted in decreasing order .* got \[2, 5, 1\]"
    ):
        pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(
        RuntimeError,
        match=r"a length \(6\) is longer than the sequence dimension of the input \(T=5",
    ):
        pack_padded_sequence(x, [6, 5, 1])
    with pytest.raises(RuntimeError, match="has to be greater than 0"):
        pack_padded_sequence(x, [5, 0, 0])
    with pytest.raises(ValueError, match=r"expected 3 lengths .* got 2"):
        pack_padded_sequence(x, [5, 1])


@pytest.mark.parametrize(
    "name",
    [
        "deepnum.nn.modules.rnn",
        "deepnum.nn.modules.rnn_cells",
        "deepnum.nn.modules.rnn_variants",
        "deepnum.nn.utils.rnn",
        "deepnum.train.bptt",
        "deepnum.models.rnn",
        "deepnum.datasets.text",
    ],
)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, extraglobs={"deepnum": deepnum}, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0 and result.failed == 0


def test_dtype_mismatch():
    with pytest.raises(
        RuntimeError,
        match=r"LSTM\(input_size=4, hidden_size=5\): input must have the type float32, got type float64",
    ):
        nn.LSTM(4, 5)(deepnum.zeros(3, 2, 4, dtype=deepnum.float64))
    with pytest.raises(
        RuntimeError, match=r"h_0 must have the type float64 of the input, got float32"
    ):
        nn.GRU(4, 5).double()(
            deepnum.zeros(3, 2, 4, dtype=deepnum.float64), deepnum.zeros(1, 2, 5)
        )
