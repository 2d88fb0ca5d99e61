"""``distributions.kl_divergence`` against ``torch.distributions.kl_divergence``: values and gradients."""

import numpy as np
import pytest
import torch
import torch.distributions as TD

import deepnum
import deepnum.distributions as D
from tests.helpers import assert_close, check_against_torch, random_inputs


def _assert_kl_like_torch(make):
    """``make(distributions, tensor)`` builds the pair (p, q); built by each library, KL(p ‖ q)
    agrees."""
    ours = D.kl_divergence(*make(D, deepnum.tensor))
    theirs = TD.kl_divergence(*make(TD, torch.tensor))
    assert_close(ours, theirs)


def test_normal_normal():
    mp, sp, mq, sq = random_inputs((3, 4), (3, 4), (4,), (4,))
    sp_, sq_ = [
        deepnum.tensor(np.abs(s.numpy(force=True)) + 0.2, requires_grad=True) for s in (sp, sq)
    ]
    check_against_torch(
        lambda a, b, c, d: D.kl_divergence(D.Normal(a, b), D.Normal(c, d)),
        lambda a, b, c, d: TD.kl_divergence(TD.Normal(a, b), TD.Normal(c, d)),
        [mp, sp_, mq, sq_],
    )


def test_categorical_and_bernoulli_from_logits():
    lp, lq = random_inputs((5, 6), (5, 6))
    check_against_torch(
        lambda a, b: D.kl_divergence(D.Categorical(logits=a), D.Categorical(logits=b)),
        lambda a, b: TD.kl_divergence(TD.Categorical(logits=a), TD.Categorical(logits=b)),
        [lp, lq],
    )
    bp, bq = random_inputs((7,), (7,))
    check_against_torch(
        lambda a, b: D.kl_divergence(D.Bernoulli(logits=a), D.Bernoulli(logits=b)),
        lambda a, b: TD.kl_divergence(TD.Bernoulli(logits=a), TD.Bernoulli(logits=b)),
        [bp, bq],
    )


def test_zero_probabilities_give_zero_or_inf_like_torch():
    p = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]
    q = [[0.25, 0.75, 0.0], [0.5, 0.5, 0.0]]
    _assert_kl_like_torch(lambda D, t: (D.Categorical(probs=t(p)), D.Categorical(probs=t(q))))
    bp, bq = [0.0, 1.0, 0.3, 0.3], [0.5, 0.5, 0.0, 1.0]
    _assert_kl_like_torch(lambda D, t: (D.Bernoulli(probs=t(bp)), D.Bernoulli(probs=t(bq))))


def test_uniform_uniform():
    lo, hi = [0.0, 0.0, -1.0], [1.0, 2.0, 1.0]
    qlo, qhi = [-1.0, 0.5, -2.0], [2.0, 3.0, 0.5]
    _assert_kl_like_torch(lambda D, t: (D.Uniform(t(lo), t(hi)), D.Uniform(t(qlo), t(qhi))))


def test_independent_and_multivariate_normal():
    m1, m2 = random_inputs((2, 3), (2, 3), dtype=np.float64)
    s = deepnum.tensor(np.full((2, 3), 0.7), requires_grad=True)
    check_against_torch(
        lambda a, b, c: D.kl_divergence(
            D.Independent(D.Normal(a, c), 1), D.Independent(D.Normal(b, c * 2), 1)
        ),
        lambda a, b, c: TD.kl_divergence(
            TD.Independent(TD.Normal(a, c), 1), TD.Independent(TD.Normal(b, c * 2), 1)
        ),
        [m1, m2, s],
    )
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((2, 3, 3)), rng.standard_normal((3, 3))
    cov_p = deepnum.tensor(A @ A.swapaxes(-1, -2) + np.eye(3), requires_grad=True)
    cov_q = deepnum.tensor(B @ B.T + np.eye(3), requires_grad=True)
    mp, mq = random_inputs((2, 3), (3,), dtype=np.float64)
    check_against_torch(
        lambda a, b, c, d: D.kl_divergence(D.MultivariateNormal(a, c), D.MultivariateNormal(b, d)),
        lambda a, b, c, d: TD.kl_divergence(
            TD.MultivariateNormal(a, c), TD.MultivariateNormal(b, d)
        ),
        [mp, mq, cov_p, cov_q],
    )


def test_vae_kl_term_equals_the_closed_form_people_write():
    mu, logvar = random_inputs((4, 8), (4, 8))
    std = deepnum.exp(0.5 * logvar)
    kl = D.kl_divergence(
        D.Normal(mu, std), D.Normal(deepnum.zeros_like(mu), deepnum.ones_like(std))
    ).sum()
    manual = -0.5 * deepnum.sum(1 + logvar - mu.pow(2) - logvar.exp())
    assert_close(kl, manual, rtol=1e-5)


def test_unregistered_pair_says_what_to_do():
    with pytest.raises(
        NotImplementedError, match=r"no closed form registered for Normal ‖ Categorical.*rsample"
    ):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(logits=deepnum.zeros(3)))


def test_register_kl_adds_a_pair():
    class Shifted(D.Normal):
        pass

    @D.register_kl(Shifted, Shifted)
    def _kl(p, q):
        return deepnum.tensor(42.0)

    try:
        assert D.kl_divergence(Shifted(0.0, 1.0), Shifted(0.0, 1.0)).item() == 42.0
        assert (
            D.kl_divergence(Shifted(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 0.0
        )  # falls back to Normal ‖ Normal
    finally:
        del D.kl._KL[Shifted, Shifted]
