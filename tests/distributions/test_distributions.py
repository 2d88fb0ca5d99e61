"""Distributions against torch.distributions: log_prob, entropy, moments, gradients, errors."""

import numpy as np
import pytest
import torch

import deepnum
from deepnum import distributions as D
from tests.helpers import assert_close

td = torch.distributions
rng = np.random.default_rng(0)


def t(x, grad=False, dtype=np.float64):
    return deepnum.tensor(np.asarray(x, dtype=dtype), requires_grad=grad)


def tt(x, grad=False):
    return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=grad)


def test_normal_log_prob_entropy_and_gradients():
    loc, scale = rng.normal(size=(3, 4)), rng.uniform(0.5, 2, size=(3, 4))
    x = rng.normal(size=(3, 4))
    d, g = D.Normal(t(loc, True), t(scale, True)), td.Normal(tt(loc, True), tt(scale, True))
    lp, tlp = d.log_prob(t(x)), g.log_prob(tt(x))
    assert_close(lp, tlp)
    assert_close(d.entropy(), g.entropy())
    assert_close(d.mean, g.mean)
    assert_close(d.stddev, g.stddev)
    lp.sum().backward()
    tlp.sum().backward()
    assert_close(d.loc.grad, g.loc.grad)
    assert_close(d.scale.grad, g.scale.grad)


def test_normal_rsample_is_reparameterised_and_has_right_moments():
    deepnum.manual_seed(0)
    loc, scale = t([1.0, -2.0], True), t([0.5, 3.0], True)
    x = D.Normal(loc, scale).rsample((20000,))
    assert x.shape == (20000, 2)
    np.testing.assert_allclose(x.detach().numpy().mean(0), [1.0, -2.0], atol=0.06)
    np.testing.assert_allclose(x.detach().numpy().std(0), [0.5, 3.0], rtol=0.03)
    x.mean().backward()
    assert_close(loc.grad, np.array([0.5, 0.5]))
    assert not D.Normal(loc, scale).sample((3,)).requires_grad


def test_uniform_matches_torch_inside_and_outside_support():
    low, high = t([0.0, -1.0]), t([2.0, 3.0])
    x = t([[1.0, 5.0], [-0.5, 0.0]])
    assert_close(D.Uniform(low, high).log_prob(x), td.Uniform(tt([0.0, -1.0]), tt([2.0, 3.0]), validate_args=False).log_prob(tt([[1.0, 5.0], [-0.5, 0.0]])))
    assert_close(D.Uniform(low, high).entropy(), td.Uniform(tt([0.0, -1.0]), tt([2.0, 3.0])).entropy())
    s = D.Uniform(low, high).sample((5000,)).numpy()
    assert (s >= [0, -1]).all() and (s < [2, 3]).all()
    np.testing.assert_allclose(s.mean(0), [1.0, 1.0], atol=0.08)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_categorical_matches_torch(param):
    raw = rng.uniform(0.1, 1.0, size=(4, 5)) if param == "probs" else rng.normal(size=(4, 5))
    d_leaf, g_leaf = t(raw, True), tt(raw, True)
    d, g = D.Categorical(**{param: d_leaf}), td.Categorical(**{param: g_leaf})
    x = rng.integers(0, 5, size=(4,))
    lp, tlp = d.log_prob(deepnum.tensor(x)), g.log_prob(torch.tensor(x))
    assert_close(lp, tlp)
    assert_close(d.entropy(), g.entropy())
    assert_close(d.probs, g.probs)
    (lp.sum() + d.entropy().sum()).backward()
    (tlp.sum() + g.entropy().sum()).backward()
    assert_close(d_leaf.grad, g_leaf.grad)


def test_categorical_sampling_frequencies():
    deepnum.manual_seed(1)
    p = np.array([0.1, 0.2, 0.7])
    s = D.Categorical(probs=t(p)).sample((20000,)).numpy()
    assert s.dtype == np.int64
    np.testing.assert_allclose(np.bincount(s, minlength=3) / 20000, p, atol=0.015)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_bernoulli_matches_torch(param):
    raw = rng.uniform(0.05, 0.95, size=(6,)) if param == "probs" else rng.normal(size=(6,)) * 5
    x = rng.integers(0, 2, size=(6,)).astype(np.float64)
    d, g = D.Bernoulli(**{param: t(raw)}), td.Bernoulli(**{param: tt(raw)})
    assert_close(d.log_prob(t(x)), g.log_prob(tt(x)))
    assert_close(d.entropy(), g.entropy())
    assert_close(d.mean, g.mean)


def test_bernoulli_is_stable_at_extreme_logits():
    d = D.Bernoulli(logits=t([-800.0, 800.0]))
    lp = d.log_prob(t([1.0, 0.0])).numpy()
    assert np.isfinite(lp).all()
    assert_close(lp, td.Bernoulli(logits=tt([-800.0, 800.0])).log_prob(tt([1.0, 0.0])))


def test_multivariate_normal_matches_torch_for_all_parameterisations():
    A = rng.normal(size=(3, 3))
    cov = A @ A.T + 3 * np.eye(3)
    loc, x = rng.normal(size=3), rng.normal(size=(5, 3))
    g = td.MultivariateNormal(tt(loc), covariance_matrix=tt(cov))
    for kwargs in ({"covariance_matrix": t(cov)}, {"scale_tril": t(np.linalg.cholesky(cov))}, {"precision_matrix": t(np.linalg.inv(cov))}):
        d = D.MultivariateNormal(t(loc), **kwargs)
        assert_close(d.log_prob(t(x)), g.log_prob(tt(x)), rtol=1e-6)
        assert_close(d.entropy(), g.entropy(), rtol=1e-6)
    L = np.linalg.cholesky(cov)
    dl, gl = t(L, True), tt(L, True)
    D.MultivariateNormal(t(loc), scale_tril=dl).log_prob(t(x)).sum().backward()
    td.MultivariateNormal(tt(loc), scale_tril=gl).log_prob(tt(x)).sum().backward()
    assert_close(dl.grad, np.tril(gl.grad.numpy()), rtol=1e-6)
    dc, gc = t(cov, True), tt(cov, True)
    D.MultivariateNormal(t(loc), covariance_matrix=dc).log_prob(t(x)).sum().backward()
    td.MultivariateNormal(tt(loc), covariance_matrix=gc).log_prob(tt(x)).sum().backward()
    assert_close(dc.grad, gc.grad, rtol=1e-6)


def test_independent_diagonal_gaussian_equals_multivariate_with_diagonal_covariance():
    loc, scale, x = rng.normal(size=(2, 3)), rng.uniform(0.5, 1.5, size=(2, 3)), rng.normal(size=(2, 3))
    ind = D.Independent(D.Normal(t(loc), t(scale)), 1)
    assert ind.batch_shape == (2,) and ind.event_shape == (3,)
    g = td.Independent(td.Normal(tt(loc), tt(scale)), 1)
    assert_close(ind.log_prob(t(x)), g.log_prob(tt(x)))
    assert_close(ind.entropy(), g.entropy())
    mvn = D.MultivariateNormal(t(loc), scale_tril=t(np.stack([np.diag(s) for s in scale])))
    assert_close(mvn.log_prob(t(x)), ind.log_prob(t(x)), rtol=1e-6)


def test_invalid_parameters_raise_clear_errors():
    with pytest.raises(ValueError, match=r"(?s)Expected parameter scale .* GreaterThan\(lower_bound=0.0\).*positive"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match=r"(?s)probs.*\[0, 1\]"):
        D.Bernoulli(probs=t([1.5]))
    with pytest.raises(ValueError, match="non-negative"):
        D.Categorical(probs=t([-0.2, 1.2]))
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Categorical()
    with pytest.raises(ValueError, match="PositiveDefinite"):
        D.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]))


def test_normal_cdf_matches_torch_with_gradients():
    loc, scale, x = rng.normal(size=4), rng.uniform(0.5, 2, size=4), rng.normal(size=4)
    d_loc, t_loc = t(loc, True), tt(loc, True)
    c, tc = D.Normal(d_loc, t(scale)).cdf(t(x)), td.Normal(t_loc, tt(scale)).cdf(tt(x))
    assert_close(c, tc)
    c.sum().backward()
    tc.sum().backward()
    assert_close(d_loc.grad, t_loc.grad)
