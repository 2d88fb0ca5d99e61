"""The notes' optimisers (names ours) on problems with known answers, and the EMA utility."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnum
from deepnum import optim
from deepnum.nn import Parameter

from tests.optim._problem import Pair, loss


def _quadratic(k, seed=0, cond=10.0):
    """f(x) = ½ xᵀAx − bᵀx with A symmetric positive definite (condition number ``cond``)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((k, k)))
    A = Q @ np.diag(np.linspace(1.0, cond, k)) @ Q.T
    b = rng.standard_normal(k)
    return A, b, np.linalg.solve(A, b)


def _split_quadratic_loss(A, b, params):
    """The quadratic over a flat vector that lives in several parameters of different shapes."""
    x = deepnum.cat([p.reshape(-1) for p in params])
    return 0.5 * (x @ (deepnum.tensor(A) @ x)) - deepnum.tensor(b) @ x


def _flat(params):
    return np.concatenate([p.detach().numpy().reshape(-1) for p in params])


# ------------------------------------------------------------------------------ Newton
def test_newton_solves_a_quadratic_in_one_step():
    A, b, x_star = _quadratic(6)
    rng = np.random.default_rng(1)
    params = [Parameter(deepnum.tensor(rng.standard_normal((2, 2)))),
              Parameter(deepnum.tensor(rng.standard_normal(2)))]
    opt = optim.Newton(params, damping=0.0)
    loss = opt.step(lambda: _split_quadratic_loss(A, b, params))
    np.testing.assert_allclose(_flat(params), x_star, rtol=1e-10, atol=1e-12)
    assert loss.requires_grad is False


def test_newton_hessian_and_damped_step():
    A, b, _ = _quadratic(4, seed=2)
    x0 = np.random.default_rng(3).standard_normal(4)
    w = Parameter(deepnum.tensor(x0.copy()))
    opt = optim.Newton([w], lr=0.5, damping=0.3)
    g, H = opt.hessian(_split_quadratic_loss(A, b, [w]))
    np.testing.assert_allclose(H, A, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, A @ x0 - b, rtol=1e-12)
    opt.step(lambda: _split_quadratic_loss(A, b, [w]))
    expected = x0 - 0.5 * np.linalg.solve(A + 0.3 * np.eye(4), A @ x0 - b)  # (H + αI)⁻¹g
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), A @ x0 - b, rtol=1e-12)  # the step leaves ∇J


def test_newton_hessian_matches_torch_on_a_nonquadratic_loss():
    pair = Pair(np.float64)
    g, H = optim.Newton(pair.dn).hessian(pair.dn_loss())
    shapes = [tuple(p.shape) for p in pair.t]
    sizes = [int(np.prod(s)) for s in shapes]

    def f(x):
        parts = torch.split(x, sizes)
        return loss(torch, *pair.t_data, *[q.reshape(s) for q, s in zip(parts, shapes)])

    x = torch.cat([p.detach().reshape(-1) for p in pair.t])
    expected = torch.autograd.functional.hessian(f, x).numpy()
    np.testing.assert_allclose(H, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g, torch.func.grad(f)(x).numpy(), rtol=1e-12, atol=1e-14)


def test_damped_newton_decreases_a_nonconvex_loss():
    # with an indefinite Hessian the undamped step can climb; damping (003 §2.5) fixes that
    pair = Pair(np.float64)
    opt = optim.Newton(pair.dn, damping=1.0)
    losses = [opt.step(pair.dn_loss).item() for _ in range(15)]
    assert losses[-1] < 0.05 * losses[0]


def test_newton_errors():
    w = Parameter(deepnum.tensor([1.0, 2.0], dtype=deepnum.float64))
    opt = optim.Newton([w])
    with pytest.raises(RuntimeError, match="Newton.step\\(\\) requires a closure"):
        opt.step(None)
    message = "Hessian \\(\\+ damping 0.0\\) is singular; use damping > 0"
    with pytest.raises(RuntimeError, match=message):
        opt.step(lambda: (w * w).sum() * 0 + w.sum())
    loss = (w * w).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="must not call backward"):
        opt.step(lambda: loss.detach())
    with pytest.raises(ValueError, match="Invalid damping value: -1"):
        optim.Newton([w], damping=-1)


# ------------------------------------------------------------------- conjugate gradient
@pytest.mark.parametrize("beta", ["fr", "pr"])
@pytest.mark.parametrize("k", [2, 5, 8])
def test_conjugate_gradient_minimises_a_k_dim_quadratic_in_k_steps(beta, k):
    A, b, x_star = _quadratic(k, seed=k, cond=50.0)
    w = Parameter(deepnum.tensor(np.zeros(k)))
    opt = optim.ConjugateGradient([w], beta=beta, line_search="exact")

    def closure():
        opt.zero_grad()
        loss = _split_quadratic_loss(A, b, [w])
        loss.backward()
        return loss

    for _ in range(k - 1):
        opt.step(closure)
    assert np.abs(w.detach().numpy() - x_star).max() > 1e-6  # not done after k − 1 steps
    opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), x_star, rtol=1e-8, atol=1e-8)


def test_conjugate_gradient_beats_steepest_descent_on_ill_conditioned_quadratic():
    A, b, x_star = _quadratic(10, cond=100.0)
    w = Parameter(deepnum.tensor(np.zeros(10)))
    sd = Parameter(deepnum.tensor(np.zeros(10)))
    cg = optim.ConjugateGradient([w], line_search="exact")
    for _ in range(10):
        cg.zero_grad()
        _split_quadratic_loss(A, b, [w]).backward()
        # the same exact line search without conjugation: steepest descent
        g = A @ sd.detach().numpy() - b
        sd.array -= (g @ g) / (g @ A @ g) * g
        cg.step(lambda: _cg_closure(cg, A, b, w))
    assert np.abs(w.detach().numpy() - x_star).max() < 1e-6
    assert np.abs(sd.detach().numpy() - x_star).max() > 1e-2


def _cg_closure(opt, A, b, w):
    opt.zero_grad()
    loss = _split_quadratic_loss(A, b, [w])
    loss.backward()
    return loss


@pytest.mark.parametrize("line_search", ["armijo", "strong_wolfe", "exact"])
@pytest.mark.parametrize("beta", ["fr", "pr"])
def test_conjugate_gradient_on_a_nonquadratic_loss(line_search, beta):
    pair = Pair(np.float64)
    opt = optim.ConjugateGradient(pair.dn, beta=beta, line_search=line_search, lr=0.5)
    first = pair.dn_loss().item()
    for _ in range(60):
        opt.step(pair.dn_closure(opt))
    assert pair.dn_loss().item() < 0.5 * first


def test_conjugate_gradient_errors():
    w = Parameter(deepnum.zeros(2))
    with pytest.raises(ValueError, match="beta must be 'fr' or 'pr', got 'hs'"):
        optim.ConjugateGradient([w], beta="hs")
    message = "line_search must be 'armijo', 'exact' or 'strong_wolfe'"
    with pytest.raises(ValueError, match=message):
        optim.ConjugateGradient([w], line_search="golden")
    with pytest.raises(RuntimeError, match="ConjugateGradient.step\\(\\) requires a closure"):
        optim.ConjugateGradient([w]).step(None)


# ------------------------------------------------------------------ first-order methods
def test_momentum_ema_follows_000_eq_17_to_19():
    pair = Pair(np.float64)
    opt = optim.MomentumEMA(pair.dn, lr=0.1, beta=0.8)
    theta = [p.detach().numpy().copy() for p in pair.dn]
    v = [np.zeros_like(t) for t in theta]  # (17)
    for _ in range(10):
        opt.zero_grad()
        pair.dn_loss().backward()
        grads = [p.grad.numpy().copy() for p in pair.dn]
        opt.step()
        for i, g in enumerate(grads):
            v[i] = 0.8 * v[i] + 0.2 * g  # (18)
            theta[i] = theta[i] - 0.1 * v[i]  # (19)
            np.testing.assert_allclose(pair.dn[i].detach().numpy(), theta[i], rtol=1e-13)


def test_momentum_ema_is_sgd_momentum_with_scaled_rate_and_dampening():
    # with dampening β, SGD's velocity is the EMA except for its first step (b₁ = g₁);
    # bias correction makes the first EMA step equal to g₁ as well, then they differ by 1/(1−β^k)
    a, b = Pair(np.float64), Pair(np.float64)
    ema = optim.MomentumEMA(a.dn, lr=0.1, beta=0.5, bias_correction=True)
    sgd = optim.SGD(b.dn, lr=0.1, momentum=0.5, dampening=0.5)
    ema.step(a.dn_closure(ema))
    sgd.step(b.dn_closure(sgd))
    for p, q in zip(a.dn, b.dn):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-14)


def test_robbins_monro_step_sizes():
    w = Parameter(deepnum.tensor([4.0], dtype=deepnum.float64))
    opt = optim.RobbinsMonro([w], lr=0.5, n0=1)
    x = 4.0
    for n in range(1, 21):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        x -= 0.5 / (n + 1) * 2 * x  # a_n = a/(n + n0)
        assert w.item() == pytest.approx(x, rel=1e-14)
    assert float(opt.state[w]["step"]) == 20


def test_robbins_monro_finds_the_root_of_a_noisy_function():
    # E[X(θ)] = θ − 3 observed with noise: θ_{n+1} = θ_n − (a/n) X(θ_n) converges to 3 (003 §2.8)
    rng = np.random.default_rng(0)
    w = Parameter(deepnum.tensor([0.0], dtype=deepnum.float64))
    opt = optim.RobbinsMonro([w], lr=1.0)
    for _ in range(4000):
        w.grad = deepnum.tensor(w.detach().numpy() - 3.0 + rng.standard_normal(1))
        opt.step()
    assert abs(w.item() - 3.0) < 0.1


def test_block_coordinate_descent_updates_one_group_per_step():
    pair = Pair(np.float64)
    inner = optim.Adam([{"params": pair.dn[:2]}, {"params": pair.dn[2:], "lr": 0.01}], lr=0.05)
    opt = optim.BlockCoordinateDescent(inner)
    reference = Pair(np.float64)
    ref_opts = [optim.Adam(reference.dn[:2], lr=0.05), optim.Adam(reference.dn[2:], lr=0.01)]
    for k in range(6):
        before = [p.detach().numpy().copy() for p in pair.dn]
        opt.step(pair.dn_closure(opt))
        block = k % 2
        ref = ref_opts[block]
        ref.step(reference.dn_closure(ref))
        for i, (p, q, old) in enumerate(zip(pair.dn, reference.dn, before)):
            in_block = (i < 2) == (block == 0)
            assert np.any(p.detach().numpy() != old) == in_block
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-14)
    assert len(opt.param_groups) == 2 and opt.state is inner.state
    sd = opt.state_dict()
    assert sd["block_position"] == 6
    again = optim.BlockCoordinateDescent(optim.Adam(
        [{"params": pair.dn[:2]}, {"params": pair.dn[2:], "lr": 0.01}], lr=0.05))
    again.load_state_dict(sd)
    assert again.position == 6
    with pytest.raises(ValueError, match="order contains group 5, but the optimizer has 2"):
        optim.BlockCoordinateDescent(inner, order=[0, 5])


# ------------------------------------------------------------------------------- EMA
def test_ema_bias_correction_matches_closed_form():
    rng = np.random.default_rng(0)
    q = rng.standard_normal(12)
    beta = 0.7
    plain, corrected = optim.EMA(beta, bias_correction=False), optim.EMA(beta)
    for k in range(1, len(q) + 1):
        plain.update(q[k - 1])
        corrected.update(q[k - 1])
        # ⟨q⟩_k = (1−β) Σ_i β^(k−i) q_i   and   ⟨q⟩^c_k = ⟨q⟩_k / (1−β^k)   (000 eq. 13-16)
        closed = (1 - beta) * np.sum(beta ** (k - np.arange(1, k + 1)) * q[:k])
        assert plain.value == pytest.approx(closed, rel=1e-13)
        assert corrected.value == pytest.approx(closed / (1 - beta**k), rel=1e-13)


def test_ema_of_a_constant_is_exact_only_with_bias_correction():
    corrected, plain = optim.EMA(0.9), optim.EMA(0.9, bias_correction=False)
    for _ in range(3):
        corrected.update(5.0)
        plain.update(5.0)
    assert corrected.value == pytest.approx(5.0, rel=1e-15)
    assert plain.value == pytest.approx(5.0 * (1 - 0.9**3))


def test_ema_of_tensors_and_arrays_keeps_type_and_dtype():
    ema = optim.EMA(0.5)
    ema.update(deepnum.tensor([1.0, 2.0]))
    out = ema.update(deepnum.tensor([3.0, 4.0]))
    assert isinstance(out, deepnum.Tensor) and out.dtype == np.float32
    expected = [(0.25 * 1 + 0.5 * 3) / 0.75, (0.25 * 2 + 0.5 * 4) / 0.75]
    np.testing.assert_allclose(out.numpy(), expected)
    arr = optim.EMA(0.5).update(np.ones(3))
    assert isinstance(arr, np.ndarray)
    restored = optim.EMA()
    restored.load_state_dict(ema.state_dict())
    np.testing.assert_allclose(restored.value.numpy(), ema.value.numpy())


def test_ema_errors():
    with pytest.raises(ValueError, match="EMA: beta must be in \\[0, 1\\), got 1.0"):
        optim.EMA(1.0)
    with pytest.raises(RuntimeError, match="no value has been averaged yet"):
        optim.EMA(0.9).value


# ------------------------------------------------------- the notes' formulas, step by step
def _gradients_along(pair, opt, steps=8):
    """Run ``opt`` and return the parameters before each step and the gradients it saw."""
    seen = []
    for _ in range(steps):
        opt.zero_grad()
        pair.dn_loss().backward()
        seen.append(([p.detach().numpy().copy() for p in pair.dn],
                     [p.grad.numpy().copy() for p in pair.dn]))
        opt.step()
    return seen


def _assert_params(pair, theta):
    for p, t in zip(pair.dn, theta):
        np.testing.assert_allclose(p.detach().numpy(), t, rtol=1e-12)


def test_momentum_reaches_the_terminal_velocity_of_003():
    # 003 §2.5: under a constant gradient g the step tends to ε‖g‖/(1 − α)
    w = Parameter(deepnum.tensor(np.zeros(3)))
    g = np.array([0.3, -0.4, 1.2])
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    for _ in range(400):
        before = w.detach().numpy().copy()
        w.grad = deepnum.tensor(g)
        opt.step()
    step = np.linalg.norm(w.detach().numpy() - before)
    assert step == pytest.approx(0.1 * np.linalg.norm(g) / (1 - 0.9), rel=1e-12)


def test_adagrad_follows_the_algorithm_of_003():
    pair, ref = Pair(np.float64), Pair(np.float64)
    eps, delta = 0.1, 1e-7
    seen = _gradients_along(pair, optim.Adagrad(pair.dn, lr=eps, eps=delta))
    theta = [p.detach().numpy().copy() for p in ref.dn]
    r = [np.zeros_like(t) for t in theta]  # r_0 = 0
    for params, grads in seen:
        for i, g in enumerate(grads):
            np.testing.assert_allclose(params[i], theta[i], rtol=1e-12)
            r[i] = r[i] + g * g  # r ← r + g ⊙ g
            theta[i] = theta[i] - eps / (delta + np.sqrt(r[i])) * g  # θ ← θ − ε/(δ + √r) ⊙ g
    _assert_params(pair, theta)


def test_rmsprop_follows_000_eq_20_to_22():
    pair, ref = Pair(np.float64), Pair(np.float64)
    alpha, beta, eps = 0.01, 0.8, 1e-8
    seen = _gradients_along(pair, optim.RMSprop(pair.dn, lr=alpha, alpha=beta, eps=eps))
    theta = [p.detach().numpy().copy() for p in ref.dn]
    s = [np.zeros_like(t) for t in theta]  # (20)
    for params, grads in seen:
        for i, g in enumerate(grads):
            np.testing.assert_allclose(params[i], theta[i], rtol=1e-12)
            s[i] = beta * s[i] + (1 - beta) * g * g  # (21)
            theta[i] = theta[i] - alpha * g / (np.sqrt(s[i]) + eps)  # (22)
    _assert_params(pair, theta)


def test_adam_follows_000_eq_23():
    # eq. 23 puts ε under the square root; Adam (paper and PyTorch) adds it outside. With the
    # bias-corrected moments of eq. 16 and ε outside, the iterates are Adam's.
    pair, ref = Pair(np.float64), Pair(np.float64)
    alpha, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    seen = _gradients_along(pair, optim.Adam(pair.dn, lr=alpha, betas=(b1, b2), eps=eps))
    theta = [p.detach().numpy().copy() for p in ref.dn]
    m = [np.zeros_like(t) for t in theta]
    v = [np.zeros_like(t) for t in theta]
    for k, (params, grads) in enumerate(seen, start=1):
        for i, g in enumerate(grads):
            np.testing.assert_allclose(params[i], theta[i], rtol=1e-12)
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1**k), v[i] / (1 - b2**k)  # cEMA (16)
            theta[i] = theta[i] - alpha * m_hat / (np.sqrt(v_hat) + eps)
    _assert_params(pair, theta)


def test_momentum_helps_on_an_ill_conditioned_quadratic():
    # 003 §2.5: momentum crosses a poorly conditioned bowl where plain gradient descent crawls
    A, b, x_star = _quadratic(2, cond=100.0)
    errors = {}
    for momentum in (0.0, 0.9):
        w = Parameter(deepnum.tensor(np.zeros(2)))
        opt = optim.SGD([w], lr=1.0 / 100.0, momentum=momentum)
        for _ in range(200):
            opt.zero_grad()
            _split_quadratic_loss(A, b, [w]).backward()
            opt.step()
        errors[momentum] = np.linalg.norm(w.detach().numpy() - x_star)
    assert errors[0.9] < 1e-3 < errors[0.0]
