"""nn.init: fans and gains equal PyTorch's, distributions checked by statistical bounds on large
tensors, the notes' schemes (000 §7.3, 002, 003 §2.4), reproducibility and dtype."""

import math

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
from deepnum.nn import init
from tests.helpers import assert_close


def _param(*shape, dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype))


def _moments(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std()


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (8, 4, 3, 3), (2, 3, 2, 2, 2)])
def test_fans_equal_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(_param(*shape))
    theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert ours == theirs


def test_fan_error_for_vectors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_param(5))


@pytest.mark.parametrize("args", [("linear",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                                  ("leaky_relu", 0.2), ("selu",), ("conv2d",)])
def test_gains_equal_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


N = (400, 500)  # 200k draws: the sample std is within ~0.2% of the truth


@pytest.mark.parametrize("fn,kwargs,mean,std", [
    (init.normal_, dict(mean=1.0, std=2.0), 1.0, 2.0),
    (init.uniform_, dict(a=-1.0, b=3.0), 1.0, 4 / math.sqrt(12)),
    (init.xavier_uniform_, dict(gain=2.0), 0.0, 2.0 * math.sqrt(2 / 900)),
    (init.xavier_normal_, {}, 0.0, math.sqrt(2 / 900)),
    (init.kaiming_uniform_, dict(a=math.sqrt(5)), 0.0, 1 / math.sqrt(500) / math.sqrt(3)),
    (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), 0.0, math.sqrt(2 / 400)),
    (init.kaiming_normal_, dict(a=0.1, nonlinearity="leaky_relu"), 0.0, math.sqrt(2 / 1.01) / math.sqrt(500)),
    (init.trunc_normal_, dict(std=1.0, a=-1.0, b=1.0), 0.0, 0.5380),
    (init.he_normal_, {}, 0.0, math.sqrt(2 / 500)),
    (init.xavier_fan_in_normal_, {}, 0.0, math.sqrt(1 / 500)),
    (init.glorot_uniform_, {}, 0.0, math.sqrt(6 / 900) / math.sqrt(3)),
    (init.uniform_fan_in_, {}, 0.0, 1 / math.sqrt(500) / math.sqrt(3)),
    (init.small_gaussian_, {}, 0.0, 1e-2),
])
def test_distribution_moments(fn, kwargs, mean, std):
    w = fn(_param(*N), **kwargs)
    m, s = _moments(w)
    assert abs(m - mean) < 5 * std / math.sqrt(w.numel())
    assert abs(s - std) < 0.01 * std
    assert w.dtype == deepnum.float32


@pytest.mark.parametrize("ours,theirs,kwargs", [
    (init.xavier_uniform_, torch.nn.init.xavier_uniform_, {}),
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, dict(a=math.sqrt(5))),
    (init.uniform_fan_in_, torch.nn.init.kaiming_uniform_, None),
])
def test_uniform_bounds_equal_torch(ours, theirs, kwargs):
    w = ours(_param(300, 200), **(kwargs or {})).detach().numpy()
    t = (theirs(torch.empty(300, 200), **kwargs) if kwargs is not None
         else theirs(torch.empty(300, 200), a=math.sqrt(5))).numpy()
    assert abs(np.abs(w).max() - np.abs(t).max()) < 1e-3 * np.abs(t).max()


def test_notes_schemes_match_formulas():
    """000 §7.3: He N(0,1)·sqrt(2/n) and (their) Xavier N(0,1)·sqrt(1/n); 003: U(±sqrt(6/(n+r)))."""
    w = init.glorot_uniform_(_param(200, 100)).detach().numpy()
    bound = math.sqrt(6 / 300)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = init.uniform_fan_in_(_param(100, 400)).detach().numpy()
    assert np.abs(w).max() <= 400**-0.5
    b = init.uniform_fan_in_(_param(50), fan_in=16).detach().numpy()
    assert np.abs(b).max() <= 0.25
    assert (init.relu_bias_(_param(7)).detach().numpy() == np.float32(0.1)).all()
    # kaiming_normal with relu is the notes' He initialisation
    deepnum.manual_seed(5)
    a = init.he_normal_(_param(30, 20)).detach().numpy().copy()
    deepnum.manual_seed(5)
    b = init.kaiming_normal_(_param(30, 20), nonlinearity="relu").detach().numpy()
    assert_close(a, b)


def test_constant_zeros_ones_eye_dirac():
    assert (init.constant_(_param(2, 3), 0.7).detach().numpy() == np.float32(0.7)).all()
    assert (init.zeros_(_param(4)).detach().numpy() == 0).all()
    assert (init.ones_(_param(4)).detach().numpy() == 1).all()
    assert (init.eye_(_param(3, 4)).detach().numpy() == np.eye(3, 4)).all()
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 3, 3, 3), 1)]:
        ours = init.dirac_(_param(*shape), groups).detach().numpy()
        theirs = torch.nn.init.dirac_(torch.empty(shape), groups).numpy()
        assert (ours == theirs).all()
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(_param(2, 2, 2))


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 2, 2)])
def test_orthogonal(shape):
    w = init.orthogonal_(_param(*shape, dtype=np.float64), gain=2.0).detach().numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    assert_close(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-10)


def test_trunc_normal_stays_in_bounds():
    w = init.trunc_normal_(_param(300, 300), mean=0.5, std=2.0, a=-1.0, b=1.5).detach().numpy()
    assert w.min() >= -1.0 and w.max() <= 1.5


def test_same_seed_same_draws_and_generator_argument():
    deepnum.manual_seed(11)
    a = init.normal_(_param(10)).detach().numpy().copy()
    deepnum.manual_seed(11)
    assert (init.normal_(_param(10)).detach().numpy() == a).all()
    g = deepnum.Generator().manual_seed(3)
    b = init.uniform_(_param(10), generator=g).detach().numpy().copy()
    g.manual_seed(3)
    assert (init.uniform_(_param(10), generator=g).detach().numpy() == b).all()


def test_init_runs_without_recording_and_keeps_identity():
    p = _param(3, 3)
    arr = p.array
    out = init.kaiming_uniform_(p)
    assert out is p and p.array is arr and p.grad_fn is None and p.requires_grad
    p64 = _param(3, 3, dtype=np.float64)
    assert init.xavier_normal_(p64).dtype == deepnum.float64


def test_output_marginals_softmax_sigmoid_regression():
    """003 §2.4: zero output weights, biases so that the initial output matches the marginals."""
    layer = nn.Linear(5, 3)
    labels = deepnum.tensor([0, 0, 1, 2, 2, 2, 2, 2])
    init.output_marginals_(layer, labels, "softmax")
    assert (layer.weight.detach().numpy() == 0).all()
    probs = torch.softmax(torch.from_numpy(layer(deepnum.randn(4, 5)).detach().numpy()), 1).numpy()
    assert_close(probs, np.tile([2 / 8, 1 / 8, 5 / 8], (4, 1)).astype(np.float32))

    layer = nn.Linear(5, 2)
    y = np.array([[1, 0], [1, 1], [0, 0], [1, 0]], np.float32)
    init.output_marginals_(layer, y, "sigmoid")
    out = 1 / (1 + np.exp(-layer(deepnum.randn(3, 5)).detach().numpy()))
    assert_close(out, np.tile([0.75, 0.25], (3, 1)).astype(np.float32))

    layer = nn.Linear(5, 1)
    init.output_marginals_(layer, deepnum.tensor([1.0, 2.0, 6.0]), "regression")
    assert_close(layer(deepnum.randn(2, 5)), np.full((2, 1), 3.0, np.float32))
    with pytest.raises(ValueError, match="output must be"):
        init.output_marginals_(layer, deepnum.tensor([1.0]), "poisson")


@pytest.mark.parametrize("make", [
    lambda m: m.PReLU(), lambda m: m.PReLU(4, init=0.1), lambda m: m.BatchNorm1d(3), lambda m: m.BatchNorm2d(2, affine=False),
    lambda m: m.LayerNorm((2, 3)), lambda m: m.LayerNorm(4, bias=False), lambda m: m.GroupNorm(2, 4),
])
def test_deterministic_default_init_equals_torch(make):
    ours, theirs = make(nn).state_dict(), make(torch.nn).state_dict()
    assert list(ours) == list(theirs)
    for k in ours:
        assert (ours[k].numpy() == theirs[k].numpy()).all(), k


@pytest.mark.parametrize("make", [
    lambda m: m.Linear(50, 40), lambda m: m.Bilinear(30, 20, 10), lambda m: m.Maxout(50, 40, pieces=2),
])
def test_random_default_init_bounds_equal_torch(make):
    ours = make(nn)
    theirs = make(torch.nn) if not isinstance(ours, nn.Maxout) else torch.nn.Linear(50, 80)
    for (name, p), (_, t) in zip(ours.named_parameters(), theirs.named_parameters()):
        bound = 1 / math.sqrt(t.shape[1] if t.ndim >= 2 else theirs.weight.shape[1])
        a = p.detach().numpy()
        assert p.shape == tuple(t.shape) and p.dtype == deepnum.float32, name
        assert np.abs(a).max() <= bound and np.abs(t.detach().numpy()).max() <= bound, name
        assert np.abs(a).max() > 0.8 * bound, name  # the whole interval is used


def test_init_argument_errors():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(_param(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="need a < b"):
        init.trunc_normal_(_param(3), a=1.0, b=-1.0)
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "steep")
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(_param(2, 2))
    with pytest.raises(ValueError, match="targets give 2 marginals for a layer with 3 outputs"):
        init.output_marginals_(nn.Linear(2, 3), np.zeros((4, 2), np.float32), "regression")
