"""Rprop and ASGD: sign-based steps, and SGD with Polyak averaging of the iterates."""

from __future__ import annotations

import numpy as np

from deepnum.optim.optimizer import (
    Optimizer, _check_differentiable, _check_lr, _check_nonneg, _grad_array, _scalar,
)

__all__ = ["Rprop", "ASGD"]


class Rprop(Optimizer):
    r"""Rprop: per-coordinate step sizes grown by η+ or shrunk by η−, ``θ ← θ − sign(g)·step``.

    Where the gradient kept its sign the step size is multiplied by η+ (capped at
    ``step_sizes[1]``), where it flipped by η− (floored at ``step_sizes[0]``) and that
    coordinate skips the update. Meant for full-batch gradients.

    Args:
        params: parameters or parameter groups to optimise.
        lr: initial step size (default 1e-2).
        etas: (η−, η+) with ``0 < η− < 1 < η+`` (default (0.5, 1.2)).
        step_sizes: (minimal, maximal) step size (default (1e-6, 50)).
        maximize: ascend the objective instead of descending it (default False).

    References:
        M. Riedmiller, H. Braun, "A direct adaptive method for faster backpropagation
        learning: the RPROP algorithm", ICNN 1993.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False) -> None:
        _check_differentiable("Rprop", differentiable)
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      maximize=maximize))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            eta_minus, eta_plus = group["etas"]
            step_min, step_max = group["step_sizes"]
            lr = _scalar(group["lr"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, _ = self._advance(p, prev=np.zeros_like,
                                         step_size=lambda a: np.full_like(a, lr))
                g = np.array(_grad_array(p, group["maximize"]), copy=True)
                prev, step_size = state["prev"].array, state["step_size"].array
                sign = np.sign(g * prev)  # did the gradient keep its sign?
                factor = np.where(sign > 0, eta_plus, np.where(sign < 0, eta_minus, 1.0))
                step_size *= factor.astype(step_size.dtype, copy=False)
                np.clip(step_size, step_min, step_max, out=step_size)
                g[sign < 0] = 0  # after a sign flip, wait one step
                p.array -= np.sign(g) * step_size
                np.copyto(prev, g)
        return loss


class ASGD(Optimizer):
    r"""Averaged SGD: SGD with decaying steps whose iterates are Polyak-averaged into ``ax``.

    ``θ ← θ(1 − λη_k) − η_k·g`` with ``η_k = lr/(1 + λ·lr·k)^α``, and from step ``t0`` on the
    running mean ``ax ← ax + μ(θ − ax)`` with ``μ = 1/max(1, k − 1 − t0)`` at step k, so ``ax``
    is the mean of the iterates ``θ_{t0+2} … θ_k`` (PyTorch's indexing) — Polyak averaging,
    003 §2.7, first proposed to accelerate Robbins-Monro (003 §2.8). The average is in
    ``optimizer.state[p]['ax']``; the parameters themselves follow the SGD iterates.

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate (default 1e-2).
        lambd: decay term λ (default 1e-4).
        alpha: power α of the step decay (default 0.75).
        t0: step at which averaging starts (default 1e6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: ascend the objective instead of descending it (default False).

    References:
        003 §2.7-2.8. B. T. Polyak, A. B. Juditsky, "Acceleration of stochastic approximation
        by averaging", SIAM J. Control Optim. 1992.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False) -> None:
        _check_differentiable("ASGD", differentiable)
        _check_lr(lr)
        _check_nonneg(weight_decay, "weight_decay")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lambd, alpha = _scalar(group["lr"]), group["lambd"], group["alpha"]
            t0, wd = group["t0"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                # η and μ are kept in float32, as PyTorch keeps them
                state, _ = self._advance(p, eta=lambda _: np.array(lr, dtype=np.float32),
                                         mu=lambda _: np.ones((), dtype=np.float32),
                                         ax=np.zeros_like)
                theta = p.array
                g = _grad_array(p, group["maximize"])
                if wd != 0:
                    g = g + wd * theta  # L2 penalty λθ added to the gradient
                eta = float(state["eta"].array)
                theta *= 1 - lambd * eta  # decay term
                theta -= eta * g  # SGD step
                ax, mu = state["ax"].array, float(state["mu"].array)
                if mu != 1:
                    ax += (theta - ax) * mu  # Polyak average of the iterates (003 §2.7)
                else:
                    np.copyto(ax, theta)
                k = float(state["step"].array)
                state["eta"].array[...] = lr / (1 + lambd * lr * k) ** alpha
                state["mu"].array[...] = 1 / max(1, k - t0)
        return loss
