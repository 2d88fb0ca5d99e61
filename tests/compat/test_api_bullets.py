"""The remaining bullets of the contract's "What real PyTorch programs also touch" section."""

import io

import numpy as np
import pytest
import torch

import deepnum
import deepnum.distributions as D
import deepnum.nn as dnn
from tests.helpers import assert_close


def test_adadelta_follows_torch_step_for_step():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    target = rng.standard_normal((4, 3)).astype(np.float32)
    w = dnn.Parameter(deepnum.tensor(w0))
    tw = torch.nn.Parameter(torch.tensor(w0))
    opt = deepnum.optim.Adadelta([w], lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01)
    topt = torch.optim.Adadelta([tw], lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01)
    for _ in range(10):
        opt.zero_grad()
        topt.zero_grad()
        ((w - deepnum.tensor(target)) ** 2).sum().backward()
        ((tw - torch.tensor(target)) ** 2).sum().backward()
        opt.step()
        topt.step()
        assert_close(w, tw)


def test_dropout2d_on_2d_input_is_elementwise_like_torch():
    deepnum.manual_seed(0)
    with pytest.warns(
        UserWarning, match="2-D input to dropout2d"
    ):  # PyTorch's deprecation warning
        out = dnn.Dropout2d(0.5)(deepnum.ones(400, 30)).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0}
    constant_rows = np.mean(np.all(out == out[:, :1], axis=1))
    assert constant_rows < 0.05  # rows mix kept and dropped entries, as PyTorch does for (N, C)
    assert abs((out == 0).mean() - 0.5) < 0.02
    feature = dnn.Dropout2d(0.5)(deepnum.ones(8, 16, 3, 3)).numpy()
    assert np.all(feature.reshape(8, 16, 9).std(-1) == 0)  # whole channels on 4-D input
    module = dnn.Dropout2d(0.5).eval()
    x = deepnum.randn(4, 5, 2, 2)
    assert deepnum.equal(module(x), x)


def test_rnn_flatten_parameters_is_a_noop():
    lstm = dnn.LSTM(3, 4, num_layers=2, batch_first=True)
    x = deepnum.randn(2, 5, 3)
    before = lstm(x)[0]
    assert lstm.flatten_parameters() is None
    assert deepnum.equal(lstm(x)[0], before)
    assert list(lstm.state_dict()) == list(
        torch.nn.LSTM(3, 4, num_layers=2, batch_first=True).state_dict()
    )


def test_onnx_is_importable():
    import deepnum.onnx

    assert deepnum.onnx.is_in_onnx_export() is False


def _pairs():
    loc, scale = np.array([0.5, -1.0, 2.0], np.float32), np.array([1.0, 0.5, 2.0], np.float32)
    probs = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], np.float32)
    cov = np.array([[2.0, 0.3], [0.3, 1.0]], np.float32)
    return [
        (
            D.Normal(deepnum.tensor(loc), deepnum.tensor(scale)),
            torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)),
            loc + 0.3,
        ),
        (
            D.Uniform(deepnum.tensor(loc), deepnum.tensor(loc + scale)),
            torch.distributions.Uniform(torch.tensor(loc), torch.tensor(loc + scale)),
            loc + 0.25,
        ),
        (
            D.Categorical(probs=deepnum.tensor(probs)),
            torch.distributions.Categorical(probs=torch.tensor(probs)),
            np.array([2, 0]),
        ),
        (
            D.Bernoulli(probs=deepnum.tensor(probs[0])),
            torch.distributions.Bernoulli(probs=torch.tensor(probs[0])),
            np.array([1.0, 0.0, 1.0], np.float32),
        ),
        (
            D.MultivariateNormal(deepnum.tensor(loc[:2]), deepnum.tensor(cov)),
            torch.distributions.MultivariateNormal(torch.tensor(loc[:2]), torch.tensor(cov)),
            loc[:2] * 2,
        ),
        (
            D.Independent(D.Normal(deepnum.tensor(loc), deepnum.tensor(scale)), 1),
            torch.distributions.Independent(
                torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)), 1
            ),
            loc - 0.5,
        ),
    ]


@pytest.mark.parametrize("index", range(6))
def test_distribution_summaries_match_torch(index):
    ours, theirs, value = _pairs()[index]
    assert_close(ours.log_prob(deepnum.tensor(value)), theirs.log_prob(torch.tensor(value)))
    assert_close(ours.entropy(), theirs.entropy())
    if not isinstance(ours, D.Categorical):  # PyTorch's Categorical mean is nan
        assert_close(ours.mean, theirs.mean)
        assert_close(ours.stddev, theirs.stddev)
    sample = ours.sample((5,))
    assert tuple(sample.shape) == tuple(theirs.sample((5,)).shape) and not sample.requires_grad


def test_rsample_carries_gradients_to_the_parameters():
    loc = deepnum.zeros(3, requires_grad=True)
    scale = deepnum.ones(3, requires_grad=True)
    z = D.Normal(loc, scale).rsample((100,))
    (z**2).mean().backward()
    assert loc.grad is not None and scale.grad is not None and scale.grad.abs().sum().item() > 0
    with pytest.raises(NotImplementedError, match="rsample"):
        D.Categorical(logits=deepnum.zeros(3)).rsample()


def test_save_load_arrays_and_python_scalars_round_trip_as_themselves():
    obj = {
        "step": 7,
        "lr": 0.01,
        "name": "run",
        "flag": True,
        "none": None,
        "array": np.arange(4, dtype=np.int16),
        "nested": [1.5, (2, 3)],
        "tensor": deepnum.ones(2),
    }
    buf = io.BytesIO()
    deepnum.save(obj, buf)
    buf.seek(0)
    back = deepnum.load(buf)
    assert (
        back["step"] == 7
        and type(back["step"]) is int
        and back["lr"] == 0.01
        and back["name"] == "run"
    )
    assert back["flag"] is True and back["none"] is None
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int16
    assert back["nested"][0] == 1.5 and tuple(back["nested"][1]) == (2, 3)
    assert isinstance(back["tensor"], deepnum.Tensor) and back["tensor"].tolist() == [1.0, 1.0]
