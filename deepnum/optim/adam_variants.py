"""Adam's relatives: Adamax (infinity norm), NAdam (Nesterov momentum), RAdam (rectified)."""

from __future__ import annotations

import math

import numpy as np

from deepnum.optim.optimizer import (
    Optimizer, _check_differentiable, _check_lr, _check_nonneg, _grad_array, _scalar,
    _state_tensor,
)

__all__ = ["Adamax", "NAdam", "RAdam"]


def _check_betas(betas) -> None:
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def _scalar_state(value: float) -> np.ndarray:
    """A 0-d float32 array, the precision PyTorch keeps its scalar state in."""
    return _state_tensor(np.array(value, dtype=np.float32))


class _AdamFamily(Optimizer):
    def _decayed_grad(self, p, group, lr):
        """The gradient with the L2 term added, or θ shrunk for decoupled decay."""
        g = _grad_array(p, group["maximize"])
        wd = group["weight_decay"]
        if wd != 0:
            if group.get("decoupled_weight_decay", False):
                p.array *= 1 - lr * wd  # decoupled decay shrinks θ directly
            else:
                g = g + wd * p.array  # L2 penalty λθ added to the gradient
        return g


class Adamax(_AdamFamily):
    r"""Adamax: Adam with an infinity norm ``u = max(β2·u, |g| + ε)``: ``θ ← θ − α·m/((1−β1^k)u)``.

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate α (default 2e-3).
        betas: (β1, β2) for the first moment and the infinity norm (default (0.9, 0.999)).
        eps: ε added to |g| (default 1e-8).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        maximize: ascend the objective instead of descending it (default False).

    References:
        D. P. Kingma, J. Ba, "Adam", 2014, arXiv:1412.6980, §7.1. 000 eq. 18 (first moment).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False) -> None:
        _check_differentiable("Adamax", differentiable)
        _check_lr(lr)
        _check_nonneg(eps, "epsilon")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = _scalar(group["lr"]), group["betas"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, k = self._advance(p, exp_avg=np.zeros_like, exp_inf=np.zeros_like)
                g = self._decayed_grad(p, group, lr)
                m, u = state["exp_avg"].array, state["exp_inf"].array
                tmp = np.multiply(g, 1 - beta1)
                m *= beta1
                m += tmp  # first moment estimate
                np.abs(g, out=tmp)
                tmp += eps
                u *= beta2
                np.maximum(u, tmp, out=u)  # exponentially weighted infinity norm
                clr = lr / (1 - beta1**k)  # bias correction of the first moment
                np.divide(m, u, out=tmp)
                tmp *= clr
                p.array -= tmp
        return loss


class NAdam(_AdamFamily):
    r"""NAdam: Adam with Nesterov momentum, looking ahead with the momentum schedule μ_k.

    ``μ_k = β1(1 − ½·0.96^(k·ψ))`` with ``ψ = momentum_decay``; the step combines the current
    gradient and the next momentum: ``θ ← θ − α(1−μ_k)/(1−Πμ)·g/d − α·μ_{k+1}/(1−Πμ·μ_{k+1})·m/d``
    with ``d = sqrt(v/(1−β2^k)) + ε``. Nesterov momentum is 003 §2.5.

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate α (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: weight decay λ (default 0).
        momentum_decay: ψ (default 4e-3).
        decoupled_weight_decay: shrink θ directly, as AdamW (default False).
        maximize: ascend the objective instead of descending it (default False).

    References:
        T. Dozat, "Incorporating Nesterov Momentum into Adam", ICLR workshop 2016. 003 §2.5.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False) -> None:
        _check_differentiable("NAdam", differentiable)
        _check_lr(lr)
        _check_nonneg(eps, "epsilon")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay")
        _check_nonneg(momentum_decay, "momentum_decay")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = _scalar(group["lr"]), group["betas"], group["eps"]
            psi = group["momentum_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, k = self._advance(p, mu_product=lambda _: _scalar_state(1.0),
                                         exp_avg=np.zeros_like, exp_avg_sq=np.zeros_like)
                g = self._decayed_grad(p, group, lr)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (k * psi))  # momentum schedule μ_k
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((k + 1) * psi))
                state["mu_product"].array *= mu  # Π_{i≤k} μ_i
                mu_product = float(state["mu_product"].array)
                m, v = state["exp_avg"].array, state["exp_avg_sq"].array
                tmp = np.multiply(g, 1 - beta1)
                m *= beta1
                m += tmp  # first moment estimate
                np.square(g, out=tmp)
                tmp *= 1 - beta2
                v *= beta2
                v += tmp  # second moment estimate
                denom = np.divide(v, 1 - beta2**k, out=tmp)
                np.sqrt(denom, out=denom)
                denom += eps  # sqrt(v̂) + ε
                # the current gradient's share, then the look-ahead momentum's
                p.array -= lr * (1.0 - mu) / (1.0 - mu_product) * (g / denom)
                p.array -= lr * mu_next / (1.0 - mu_product * mu_next) * (m / denom)
        return loss


class RAdam(_AdamFamily):
    r"""RAdam: Adam whose adaptive step is switched on only once its variance is tractable.

    With ``ρ_∞ = 2/(1−β2) − 1`` and ``ρ_k = ρ_∞ − 2kβ2^k/(1−β2^k)``, the step is
    ``α·m̂·r_k·sqrt(1−β2^k)/(sqrt(v)+ε)`` when ``ρ_k > 5`` (``r_k`` the variance rectification)
    and plain momentum ``α·m̂`` before.

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate α (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: weight decay λ (default 0).
        decoupled_weight_decay: shrink θ directly, as AdamW (default False).
        maximize: ascend the objective instead of descending it (default False).

    References:
        L. Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020,
        arXiv:1908.03265. 000 eq. 23 (Adam).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False) -> None:
        _check_differentiable("RAdam", differentiable)
        _check_lr(lr)
        _check_nonneg(eps, "epsilon")
        _check_betas(betas)
        _check_nonneg(weight_decay, "weight_decay")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = _scalar(group["lr"]), group["betas"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, k = self._advance(p, exp_avg=np.zeros_like, exp_avg_sq=np.zeros_like)
                g = self._decayed_grad(p, group, lr)
                m, v = state["exp_avg"].array, state["exp_avg_sq"].array
                tmp = np.multiply(g, 1 - beta1)
                m *= beta1
                m += tmp  # first moment estimate
                np.square(g, out=tmp)
                tmp *= 1 - beta2
                v *= beta2
                v += tmp  # second moment estimate
                bias_correction1, bias_correction2 = 1 - beta1**k, 1 - beta2**k
                m_hat = m / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1  # maximum length of the approximated SMA
                rho_k = rho_inf - 2 * k * beta2**k / bias_correction2
                if rho_k > 5.0:
                    rect = math.sqrt((rho_k - 4) * (rho_k - 2) * rho_inf
                                     / ((rho_inf - 4) * (rho_inf - 2) * rho_k))
                    adaptive = np.sqrt(v, out=tmp)
                    adaptive += eps
                    np.divide(bias_correction2**0.5, adaptive, out=adaptive)
                    p.array -= m_hat * lr * adaptive * rect  # rectified adaptive step
                else:
                    p.array -= m_hat * lr  # variance not yet tractable: momentum only
        return loss
