"""Adadelta: steps whose units match the parameters', from two running averages."""

from __future__ import annotations

import numpy as np

from deepnum.optim.optimizer import (
    Optimizer, _check_differentiable, _check_lr, _check_nonneg, _grad_array, _scalar,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta: ``Δ = sqrt(u + ε)/sqrt(v + ε)·g``, ``θ ← θ − lr·Δ``.

    ``v ← ρv + (1−ρ)g²`` is the running average of squared gradients (as in RMSprop,
    000 eq. 21) and ``u ← ρu + (1−ρ)Δ²`` that of squared updates, so the ratio of their
    roots carries the units of θ and no learning rate is needed (``lr=1`` by default).

    Args:
        params: parameters or parameter groups to optimise.
        lr: coefficient scaling Δ before it is applied (default 1.0).
        rho: decay rate ρ of both running averages (default 0.9).
        eps: ε inside both square roots (default 1e-6).
        weight_decay: L2 penalty λ added to the gradient as ``λθ`` (default 0).
        maximize: ascend the objective instead of descending it (default False).

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> opt = deepnum.optim.Adadelta([w])
        >>> (w * w).sum().backward(); opt.step()
        >>> w.item() < 1.0
        True

    References:
        M. D. Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012, arXiv:1212.5701.
        000 eq. 20-22 (the running average of squared gradients).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False) -> None:
        _check_differentiable("Adadelta", differentiable)
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonneg(eps, "epsilon")
        _check_nonneg(weight_decay, "weight_decay")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps = _scalar(group["lr"]), group["rho"], group["eps"]
            wd = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.array
                g = _grad_array(p, group["maximize"])
                state, _ = self._advance(p, square_avg=np.zeros_like, acc_delta=np.zeros_like)
                if wd != 0:
                    g = g + wd * theta  # L2 penalty λθ added to the gradient
                v, u = state["square_avg"].array, state["acc_delta"].array
                std = np.square(g)  # scratch arrays: std and delta
                std *= 1 - rho
                v *= rho
                v += std  # running average of g²
                np.add(v, eps, out=std)
                np.sqrt(std, out=std)  # RMS of the gradient
                delta = u + eps
                np.sqrt(delta, out=delta)  # RMS of past updates
                delta /= std
                delta *= g  # Δ = RMS(update)/RMS(g) · g
                np.square(delta, out=std)
                std *= 1 - rho
                u *= rho
                u += std  # running average of Δ²
                delta *= lr
                theta -= delta
        return loss
