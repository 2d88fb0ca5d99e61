"""Padded and packed sequences (nn.utils.rnn) and recurrent layers on them, against PyTorch."""

import numpy as np
import pytest
import torch

import deepnum
from deepnum import nn
from deepnum.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
)
from tests.helpers import assert_close, to_torch

LENGTHS = [[5, 5, 3, 1], [2, 6, 1, 4]]


def _seqs(lengths, feat=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, feat)).astype(np.float32) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch_with_gradients(batch_first, padding_side):
    arrays = _seqs([3, 5, 1])
    xs = [deepnum.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = pad_sequence(xs, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    t_out = torch.nn.utils.rnn.pad_sequence(
        ts, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side
    )
    assert_close(out, t_out)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32)
    (out * deepnum.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for x, t in zip(xs, ts):
        assert_close(x.grad, t.grad)


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_matches_torch(lengths, batch_first):
    sorted_ = lengths == sorted(lengths, reverse=True)
    padded = pad_sequence([deepnum.tensor(a) for a in _seqs(lengths)], batch_first=batch_first)
    padded.requires_grad_(True)
    t_padded = to_torch(padded)
    packed = pack_padded_sequence(padded, lengths, batch_first=batch_first, enforce_sorted=sorted_)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(
        t_padded, lengths, batch_first=batch_first, enforce_sorted=sorted_
    )
    assert_close(packed.data, t_packed.data)
    assert packed.batch_sizes.tolist() == t_packed.batch_sizes.tolist()
    if not sorted_:
        assert packed.sorted_indices.tolist() == t_packed.sorted_indices.tolist()
        assert packed.unsorted_indices.tolist() == t_packed.unsorted_indices.tolist()
    out, lens = pad_packed_sequence(
        packed, batch_first=batch_first, padding_value=2.0, total_length=7
    )
    t_out, t_lens = torch.nn.utils.rnn.pad_packed_sequence(
        t_packed, batch_first=batch_first, padding_value=2.0, total_length=7
    )
    assert_close(out, t_out)
    assert lens.tolist() == t_lens.tolist()
    (out * out).sum().backward()
    (t_out * t_out).sum().backward()
    assert_close(padded.grad, t_padded.grad)


def test_pack_sequence_and_unpack_sequence_round_trip():
    arrays = _seqs([2, 4, 3])
    packed = pack_sequence([deepnum.tensor(a) for a in arrays], enforce_sorted=False)
    for a, b in zip(unpack_sequence(packed), arrays):
        assert_close(a, b)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU", "LSTM-proj"])
@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layers_on_packed_sequences_match_torch(mode, lengths, bidirectional):
    sorted_ = lengths == sorted(lengths, reverse=True)
    kwargs = {"proj_size": 2} if mode == "LSTM-proj" else {}
    mode = mode.split("-")[0]
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=bidirectional, **kwargs)
    t_layer = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=bidirectional, **kwargs)
    t_layer.load_state_dict({k: to_torch(v) for k, v in layer.state_dict().items()})
    padded = pad_sequence([deepnum.tensor(a) for a in _seqs(lengths)]).requires_grad_(True)
    t_padded = to_torch(padded)
    rng = np.random.default_rng(5)
    D = 2 if bidirectional else 1
    h0 = rng.standard_normal((2 * D, len(lengths), kwargs.get("proj_size", 4))).astype(np.float32)
    c0 = rng.standard_normal((2 * D, len(lengths), 4)).astype(np.float32)
    hx, t_hx = deepnum.tensor(h0, requires_grad=True), torch.tensor(h0, requires_grad=True)
    hx_arg, t_hx_arg = (
        ((hx, deepnum.tensor(c0)), (t_hx, torch.tensor(c0))) if mode == "LSTM" else (hx, t_hx)
    )
    packed = pack_padded_sequence(padded, lengths, enforce_sorted=sorted_)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(t_padded, lengths, enforce_sorted=sorted_)
    out, hn = layer(packed, hx_arg)
    t_out, t_hn = t_layer(t_packed, t_hx_arg)
    assert isinstance(out, PackedSequence)
    assert_close(out.data, t_out.data)
    finals = list(hn) if mode == "LSTM" else [hn]
    t_finals = list(t_hn) if mode == "LSTM" else [t_hn]
    loss, t_loss = (out.data**2).sum(), (t_out.data**2).sum()
    for f, t in zip(finals, t_finals):
        assert_close(f, t)
        loss, t_loss = loss + (f * f * 3).sum(), t_loss + (t * t * 3).sum()
    loss.backward()
    t_loss.backward()
    assert_close(padded.grad, t_padded.grad)
    assert_close(hx.grad, t_hx.grad)
    for (name, p), (_, tp) in zip(layer.named_parameters(), t_layer.named_parameters()):
        assert_close(p.grad, tp.grad, msg=name)


def test_packed_fused_equals_cells():
    layer = nn.LSTM(3, 4, bidirectional=True).double()
    packed = pack_sequence(
        [deepnum.tensor(a.astype(np.float64)) for a in _seqs([2, 6, 1])], enforce_sorted=False
    )
    a, (ha, ca) = layer(packed)
    layer.fused = False
    b, (hb, cb) = layer(packed)
    for x, y in [(a.data, b.data), (ha, hb), (ca, cb)]:
        assert_close(x, y)
