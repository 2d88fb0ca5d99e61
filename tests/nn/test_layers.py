"""Every layer of this family through ``deepnum.autograd.gradcheck`` / ``gradgradcheck`` (float64,
full Jacobians) and the Keras-style layer harness (shape, parameter count, a training step
helps, state_dict round trip)."""

import numpy as np
import pytest

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum.autograd import gradcheck, gradgradcheck
from tests.nn._harness import run_layer_test


def _inputs(*shapes, seed=0, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return tuple(deepnum.tensor(rng.uniform(low, high, s), dtype=deepnum.float64, requires_grad=True) for s in shapes)


def _seeded(fn, seed=4):
    """A random op made deterministic: the same mask on every evaluation."""

    def wrapped(*args):
        deepnum.manual_seed(seed)
        return fn(*args)

    return wrapped


# (name, function, input shapes, supports second derivatives)
CASES = [
    ("linear", lambda x, w, b: F.linear(x, w, b), [(2, 3, 4), (5, 4), (5,)], True),
    ("bilinear", lambda a, c, w, b: F.bilinear(a, c, w, b), [(3, 2), (3, 4), (2, 2, 4), (2,)], True),
    ("prelu", lambda x, w: F.prelu(x, w), [(2, 3, 4), (3,)], True),
    ("elu", lambda x: F.elu(x, 0.8), [(3, 4)], True),
    ("selu", F.selu, [(3, 4)], True),
    ("celu", lambda x: F.celu(x, 0.5), [(3, 4)], True),
    ("gelu", F.gelu, [(3, 4)], True),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), [(3, 4)], True),
    ("softplus", lambda x: F.softplus(x, 1.5, 2.0), [(3, 4)], True),
    ("softmax", lambda x: F.softmax(x, 1), [(3, 4)], True),
    ("log_softmax", lambda x: F.log_softmax(x, 0), [(3, 4)], True),
    ("silu", F.silu, [(3, 4)], True),
    ("mish", F.mish, [(3, 4)], True),
    ("scaled_sigmoid", lambda x: F.scaled_sigmoid(x, 2.0), [(3, 4)], True),
    ("scaled_tanh", lambda x: F.scaled_tanh(x, 0.5), [(3, 4)], True),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), [(3, 4)], True),
    ("maxout", lambda x: F.maxout(x, 2, dim=1), [(3, 4, 2)], True),
    ("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, True), [(4, 3, 2), (3,), (3,)], True),
    ("batch_norm_eval", lambda x, w, b: F.batch_norm(x, deepnum.tensor([0.1, -0.2, 0.3], dtype=deepnum.float64),
                                                     deepnum.tensor([0.5, 2.0, 1.0], dtype=deepnum.float64), w, b),
     [(4, 3), (3,), (3,)], True),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (2, 3), w, b), [(2, 2, 3), (2, 3), (2, 3)], True),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)], True),
    ("embedding", lambda w: F.embedding(deepnum.tensor([[0, 2], [2, 3]]), w), [(4, 3)], True),
    ("dropout", _seeded(lambda x: F.dropout(x, 0.4)), [(4, 5)], True),
    ("dropout2d", _seeded(lambda x: F.dropout2d(x, 0.5)), [(2, 3, 2, 2)], True),
    ("alpha_dropout", _seeded(lambda x: F.alpha_dropout(x, 0.3, True)), [(4, 5)], True),
]


@pytest.mark.parametrize("name,fn,shapes,second", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, shapes, second):
    inputs = _inputs(*shapes)
    if name in ("leaky_relu", "maxout", "prelu"):  # keep clear of the kinks
        for x in inputs[:1]:
            x.array[np.abs(x.array) < 0.05] += 0.1
    assert gradcheck(fn, inputs)
    if second:
        assert gradgradcheck(fn, inputs)


def test_batch_renorm_gradient_treats_r_and_d_as_constants():
    """Ioffe (2017): r and d are stop-gradient. With them frozen at their values for this batch,
    the loss is ordinary batch norm of x times r plus d, whose gradient is checked here."""
    x, w, b = _inputs((6, 3), (3,), (3,))
    rm = deepnum.tensor([0.2, -0.1, 0.4], dtype=deepnum.float64)
    rv = deepnum.tensor([0.3, 3.0, 1.0], dtype=deepnum.float64)
    a = x.detach().numpy()
    sigma_b = np.sqrt(a.var(0) + 1e-5)
    sigma = np.sqrt(rv.numpy() + 1e-5)
    r = np.clip(sigma_b / sigma, 1 / 1.5, 1.5)
    d = np.clip((a.mean(0) - rm.numpy()) / sigma, -0.5, 0.5)
    assert not np.allclose(r, 1) and not np.allclose(d, 0)
    frozen = lambda x, w, b: F.batch_norm(x, None, None, None, None, True) * deepnum.tensor(r) * w + deepnum.tensor(d) * w + b  # noqa: E731
    out = F.batch_renorm(x, rm.clone(), rv.clone(), w, b, True, 0.0, 1e-5, 1.5, 0.5)
    ref = frozen(x, w, b)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10)
    g = np.random.default_rng(1).standard_normal(out.shape)
    grads = deepnum.autograd.grad((out * deepnum.tensor(g)).sum(), [x, w, b])
    ref_grads = deepnum.autograd.grad((ref * deepnum.tensor(g)).sum(), [x, w, b])
    for ours, theirs in zip(grads, ref_grads):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)


LAYERS = [
    (lambda: nn.Linear(5, 3), (4, 5), (4, 3), 18),
    (lambda: nn.Linear(5, 3, bias=False), (2, 6, 5), (2, 6, 3), 15),
    (lambda: nn.Maxout(5, 2, pieces=3), (4, 5), (4, 2), 36),
    (lambda: nn.PReLU(3), (4, 3, 2), (4, 3, 2), 3),
    (lambda: nn.Sequential(nn.Linear(5, 4), nn.ELU(), nn.Linear(4, 2)), (6, 5), (6, 2), 34),
    (lambda: nn.Sequential(nn.Linear(5, 4), nn.GELU(), nn.LayerNorm(4), nn.Dropout(0.2), nn.Linear(4, 2)), (6, 5), (6, 2), 42),
    (lambda: nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.SELU(), nn.AlphaDropout(0.1)), (6, 5), (6, 4), 32),
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.LogSoftmax(dim=1)), (2, 3, 4), (2, 3), 39),
    (lambda: nn.Sequential(nn.Linear(4, 6), nn.Unflatten(1, (2, 3)), nn.Softmax(dim=-1)), (5, 4), (5, 2, 3), 30),
    (lambda: nn.Sequential(nn.GroupNorm(2, 4), nn.Dropout2d(0.3), nn.Flatten(), nn.Linear(16, 2)), (3, 4, 2, 2), (3, 2), 42),
    (lambda: nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.Softplus(), nn.Linear(4, 4))), (3, 4), (3, 4), 40),
]


@pytest.mark.parametrize("make,in_shape,out_shape,n_params", LAYERS)
def test_layer_harness(make, in_shape, out_shape, n_params):
    run_layer_test(make(), in_shape, out_shape, n_params)


def test_bilinear_harness():
    layer = nn.Bilinear(3, 2, 4)
    rng = np.random.default_rng(0)
    x1 = deepnum.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    x2 = deepnum.tensor(rng.standard_normal((5, 2)).astype(np.float32))
    assert layer(x1, x2).shape == (5, 4)
    assert sum(p.numel() for p in layer.parameters()) == 4 * 3 * 2 + 4


def _classifier(lib):
    return lib.Sequential(
        lib.Linear(6, 16), lib.BatchNorm1d(16), lib.GELU(), lib.Linear(16, 16), lib.LayerNorm(16),
        lib.LeakyReLU(0.1), lib.Linear(16, 3), lib.LogSoftmax(dim=1),
    )


def test_sgd_trajectory_matches_torch():
    """Five SGD steps on the same data from the same weights: same parameters and running stats."""
    import torch

    ours, theirs = _classifier(nn), _classifier(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.standard_normal((12, 6)).astype(np.float32)
        onehot = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 12)]
        loss = -(ours(deepnum.tensor(x)) * deepnum.tensor(onehot)).sum(1).mean()
        t_loss = -(theirs(torch.from_numpy(x)) * torch.from_numpy(onehot)).sum(1).mean()
        ours.zero_grad()
        theirs.zero_grad()
        loss.backward()
        t_loss.backward()
        with deepnum.no_grad(), torch.no_grad():
            for p, t in zip(ours.parameters(), theirs.parameters()):
                p.array -= 0.1 * p.grad.array
                t -= 0.1 * t.grad
        np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-5)
    t_state = theirs.state_dict()
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(v.numpy(), t_state[k].numpy(), rtol=1e-4, atol=1e-5, err_msg=k)
