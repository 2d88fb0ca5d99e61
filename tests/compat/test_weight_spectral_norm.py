"""``nn.utils.weight_norm`` / ``spectral_norm`` against PyTorch's hook-based versions."""

import warnings

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
from tests.helpers import assert_close


def _torch_copy(ours, theirs):
    theirs.load_state_dict(
        {k: torch.from_numpy(np.array(v.numpy(), copy=True)) for k, v in ours.state_dict().items()}
    )


def _torch_wrap(fn, module, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", FutureWarning
        )  # PyTorch points to its parametrizations API
        return fn(module, **kw)


def _assert_same_state_dict_layout(ours, theirs):
    """The same state_dict keys, in the same order, with the same shapes."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [
        tuple(v.shape) for v in theirs.state_dict().values()
    ]


@pytest.mark.parametrize(
    "make, shape, dim",
    [
        (lambda nn: nn.Linear(5, 3), (4, 5), 0),
        (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 6, 6), 0),
        (lambda nn: nn.Linear(5, 3), (4, 5), None),
        (lambda nn: nn.Conv1d(2, 4, 3), (2, 2, 7), 1),
        (lambda nn: nn.Conv1d(2, 4, 3), (2, 2, 7), -1),  # -1: over the whole tensor, as None
        (lambda nn: nn.Conv1d(2, 4, 3), (2, 2, 7), -2),
    ],
)
def test_weight_norm_against_torch(make, shape, dim):
    ours = dnn.utils.weight_norm(make(dnn), dim=dim)
    theirs = _torch_wrap(torch.nn.utils.weight_norm, make(torch.nn), dim=dim)
    _assert_same_state_dict_layout(ours, theirs)
    _torch_copy(ours, theirs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xo, xt = deepnum.tensor(x), torch.tensor(x)
    assert_close(ours(xo), theirs(xt))
    ours(xo).pow(2).sum().backward()
    theirs(xt).pow(2).sum().backward()
    assert_close(ours.weight_g.grad, theirs.weight_g.grad)
    assert_close(ours.weight_v.grad, theirs.weight_v.grad)
    dnn.utils.remove_weight_norm(ours)
    assert "weight" in dict(ours.named_parameters()) and "weight_g" not in ours.state_dict()
    assert_close(ours(xo), theirs(xt))


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda nn: nn.Linear(6, 4), (3, 6)),
        (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
        (lambda nn: nn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 4)),
    ],
)
def test_spectral_norm_against_torch(make, shape):
    ours = dnn.utils.spectral_norm(make(dnn), n_power_iterations=2)
    theirs = torch.nn.utils.spectral_norm(make(torch.nn), n_power_iterations=2)
    _assert_same_state_dict_layout(ours, theirs)
    _torch_copy(ours, theirs)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    for _ in range(3):  # training: the power iteration advances u and v each call
        out, tout = ours(deepnum.tensor(x)), theirs(torch.tensor(x))
        assert_close(out, tout)
    assert_close(ours.weight_u, theirs.weight_u)
    out.sum().backward()
    tout.sum().backward()
    assert_close(ours.weight_orig.grad, theirs.weight_orig.grad)
    ours.eval()
    theirs.eval()
    assert_close(ours(deepnum.tensor(x)), theirs(torch.tensor(x)))
    if isinstance(ours, dnn.Linear):
        sigma = np.linalg.svd(ours.weight.detach().numpy(), compute_uv=False)[0]
        assert 0.8 < sigma < 1.3  # the normalised weight has spectral norm close to 1


def test_errors_and_removal():
    m = dnn.utils.spectral_norm(dnn.Linear(3, 3))
    with pytest.raises(RuntimeError, match="cannot register two spectral_norm hooks"):
        dnn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="expected n_power_iterations to be positive"):
        dnn.utils.spectral_norm(dnn.Linear(3, 3), n_power_iterations=0)
    dnn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        dnn.utils.remove_weight_norm(dnn.Linear(2, 2))
