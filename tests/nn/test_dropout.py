"""Dropout: inverted scaling (000 §6.3), mask statistics, channel-wise variants, train/eval,
reproducibility through deepnum.manual_seed, and PyTorch's warnings and errors."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_inverted_dropout_statistics(p):
    x = deepnum.ones(200, 500)
    y = nn.Dropout(p)(x).numpy()
    kept = y != 0
    # survivors are scaled by 1 / (1 - p), the survival probability of 000 §6.3
    assert_close(y[kept], np.full(kept.sum(), 1 / (1 - p), np.float32))
    n = kept.size
    assert abs(kept.mean() - (1 - p)) < 4 * np.sqrt(p * (1 - p) / n)
    assert abs(y.mean() - 1.0) < 0.02  # the expectation is preserved
    assert nn.Dropout(p).survival_probability == pytest.approx(1 - p)


def test_gradient_uses_the_same_mask():
    x = deepnum.randn(30, 40, requires_grad=True)
    y = F.dropout(x, 0.3)
    y.sum().backward()
    mask = y.detach().numpy() != 0
    assert_close(x.grad, mask / 0.7)
    assert_close(y, x.detach().numpy() * mask / 0.7)


def test_eval_mode_and_edge_probabilities_match_torch():
    x = deepnum.randn(4, 5)
    drop = nn.Dropout(0.5)
    drop.eval()
    assert drop(x) is x
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    assert (torch.nn.functional.dropout(torch.ones(3), 1.0) == 0).all()
    assert F.dropout(x, 0.5, training=False) is x


def test_same_seed_same_mask():
    deepnum.manual_seed(3)
    a = F.dropout(deepnum.ones(50), 0.5).numpy().copy()
    deepnum.manual_seed(3)
    b = F.dropout(deepnum.ones(50), 0.5).numpy()
    assert (a == b).all()
    assert not (a == F.dropout(deepnum.ones(50), 0.5).numpy()).all()


def test_dropout2d_zeroes_whole_channels():
    x = deepnum.ones(20, 30, 4, 5)
    y = nn.Dropout2d(0.4)(x).numpy()
    per_channel = y.reshape(20, 30, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == per_channel[..., :1]).all(-1)).all()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.6)}
    assert 0.5 < (per_channel[..., 0] != 0).mean() < 0.7


def test_dropout2d_on_3d_input_is_channel_dropout_over_n_c_l_with_warning():
    x = deepnum.ones(10, 8, 6)
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        y = F.dropout2d(x, 0.5).numpy()
    assert (y == y[:, :, :1]).all()  # one draw per (n, c): whole rows of length L
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        torch.nn.functional.dropout2d(torch.ones(10, 8, 6), 0.5)


def test_dropout2d_on_2d_input_warns_and_drops_elements():
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = nn.Dropout2d(0.5)(deepnum.ones(40, 50)).numpy()
    assert 0.3 < (y == 0).mean() < 0.7


def test_dropout1d_and_3d_channelwise_and_unbatched():
    y = nn.Dropout1d(0.5)(deepnum.ones(6, 7, 9)).numpy()
    assert (y == y[:, :, :1]).all()
    y = nn.Dropout1d(0.5)(deepnum.ones(7, 9)).numpy()  # unbatched (C, L)
    assert y.shape == (7, 9) and (y == y[:, :1]).all()
    y = nn.Dropout3d(0.5)(deepnum.ones(2, 3, 2, 2, 2)).numpy()
    assert (y.reshape(2, 3, -1) == y.reshape(2, 3, -1)[..., :1]).all()
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(deepnum.ones(2, 3, 4, 5))


def test_alpha_dropout_keeps_selu_statistics_and_gradient():
    x = deepnum.randn(400, 500)
    y = nn.AlphaDropout(0.2).train()(x).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02  # zero mean, unit variance kept
    t = torch.nn.functional.alpha_dropout(torch.from_numpy(x.numpy()), 0.2, True).numpy()
    assert abs(t.std() - y.std()) < 0.02
    a = 1 / np.sqrt((1.7580993408473766**2 * 0.2 + 1) * 0.8)
    dropped = np.isclose(y, -a * 1.7580993408473766 * 0.8)  # a·(-λα) + b, b = λα·a·p
    assert abs(dropped.mean() - 0.2) < 0.01
    assert nn.AlphaDropout(0.2).eval()(x) is x
    xg = deepnum.randn(3, 4, requires_grad=True)
    F.alpha_dropout(xg, 0.5, training=True).sum().backward()
    a = 1 / np.sqrt((1.7580993408473766**2 * 0.5 + 1) * 0.5)
    assert_close(np.unique(xg.grad.numpy()), np.array([0.0, a], np.float32))


def test_bad_probability_raises_and_repr_matches_torch():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(deepnum.ones(2), -0.1)
    for name in ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]:
        assert repr(getattr(nn, name)(0.3)) == repr(getattr(torch.nn, name)(0.3))
    assert repr(nn.Dropout(0.2, inplace=True)) == repr(torch.nn.Dropout(0.2, inplace=True))


def test_inplace_dropout_writes_into_input():
    x = deepnum.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
