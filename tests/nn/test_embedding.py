"""Embedding against PyTorch: lookup, gradients, padding_idx, max_norm, from_pretrained."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close
from tests.nn._harness import compare_with_torch, run_layer_test


def _indices(shape, n, seed=0):
    return np.random.default_rng(seed).integers(0, n, shape)


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True}])
def test_embedding_matches_torch(kwargs):
    layer, t_layer = nn.Embedding(7, 4, **kwargs), torch.nn.Embedding(7, 4, **kwargs)
    idx = _indices((5, 6), 7)
    idx[0, :3] = 2  # repeats and the padding row
    idx[1, 0] = 6
    compare_with_torch(layer, t_layer, deepnum.tensor(idx))
    assert repr(layer) == repr(t_layer)
    assert list(layer.state_dict()) == ["weight"]


def test_padding_row_is_zero_and_gets_no_gradient():
    layer = nn.Embedding(5, 3, padding_idx=0)
    assert (layer.weight.detach().numpy()[0] == 0).all()
    layer(deepnum.tensor([[0, 1, 0], [2, 0, 1]])).sum().backward()
    g = layer.weight.grad.numpy()
    assert (g[0] == 0).all()
    assert_close(g[1], np.full(3, 2.0, np.float32))


def test_default_init_is_standard_normal():
    w = nn.Embedding(1000, 64).weight.detach().numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_max_norm_renormalises_looked_up_rows_like_torch():
    layer, t_layer = nn.Embedding(6, 4, max_norm=1.0), torch.nn.Embedding(6, 4, max_norm=1.0)
    layer.weight.array[...] *= 3
    idx = np.array([[0, 1], [1, 3]])
    compare_with_torch(layer, t_layer, deepnum.tensor(idx))
    assert_close(layer.weight, t_layer.weight)
    norms = np.linalg.norm(layer.weight.detach().numpy(), axis=1)
    assert (norms[[0, 1, 3]] <= 1 + 1e-5).all() and (norms[[2, 4, 5]] > 1).all()


def test_from_pretrained_freezes_by_default():
    table = deepnum.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    assert emb(deepnum.tensor([3, 1])).tolist() == [[9, 10, 11], [3, 4, 5]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(deepnum.zeros(3))


def test_functional_embedding_and_errors():
    w = deepnum.randn(5, 2, requires_grad=True)
    out = F.embedding(deepnum.tensor([4, 4, 0]), w)
    out.sum().backward()
    assert w.grad.numpy()[4].tolist() == [2.0, 2.0]
    with pytest.raises(IndexError, match=r"Embedding\(num_embeddings=5\): index 5 is out of range"):
        nn.Embedding(5, 2)(deepnum.tensor([1, 5]))
    with pytest.raises(RuntimeError, match="expected integer indices"):
        F.embedding(deepnum.tensor([1.0]), w)


def test_embedding_second_order_through_lookup():
    w = deepnum.randn(4, 3, dtype=deepnum.float64, requires_grad=True)
    tw = torch.from_numpy(w.detach().numpy().copy()).requires_grad_()
    idx = np.array([1, 3, 1])
    (g,) = deepnum.autograd.grad((F.embedding(deepnum.tensor(idx), w) ** 3).sum(), [w], create_graph=True)
    (tg,) = torch.autograd.grad((torch.nn.functional.embedding(torch.from_numpy(idx), tw) ** 3).sum(), [tw], create_graph=True)
    g.sum().backward()
    tg.sum().backward()
    assert_close(w.grad, tw.grad)


def test_layer_harness_on_embedding():
    run_layer_test(nn.Embedding(10, 4), None, (3, 5, 4), 40, input_fn=lambda rng: deepnum.tensor(rng.integers(0, 10, (3, 5))))
