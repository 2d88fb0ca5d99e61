"""Stochastic gradient descent with momentum (heavy ball), dampening and Nesterov momentum."""

from __future__ import annotations

import numpy as np

from deepnum.optim.optimizer import (
    Optimizer, _check_differentiable, _check_lr, _check_nonneg, _grad_array, _scalar,
    _state_tensor,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent: ``θ ← θ − lr·b`` with velocity ``b ← μ·b + (1−τ)·g``.

    With ``momentum=0`` this is plain gradient descent ``θ_{k+1} = θ_k − α∇J_k`` (000 eq. 12).
    With momentum it is the velocity form of Polyak's heavy ball (003 §2.5,
    ``v ← αv − ε∇J``, ``θ ← θ + v``) written as PyTorch does, with ``b = −v/ε``; the first
    step sets ``b = g``. Nesterov momentum (003 §2.5) steps along ``g + μ·b`` instead of ``b``.
    The EMA form ``v = βv + (1−β)g`` of 000 eq. 17-19 is ``optim.MomentumEMA``.

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate α (default 1e-3).
        momentum: momentum factor μ (default 0).
        dampening: dampening τ of the gradient added to the velocity (default 0).
        weight_decay: L2 penalty λ, added to the gradient as ``λθ`` (default 0).
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening = 0``).
        maximize: ascend the objective instead of descending it (default False).

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> opt = deepnum.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.46

    References:
        003 §2.5 (momentum, Nesterov); 000 eq. 12. B. T. Polyak, "Some methods of speeding up
        the convergence of iteration methods", 1964. I. Sutskever et al., "On the importance of
        initialization and momentum in deep learning", ICML 2013.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None) -> None:
        _check_differentiable("SGD", differentiable)
        _check_lr(lr)
        _check_nonneg(momentum, "momentum")
        _check_nonneg(weight_decay, "weight_decay")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, mu, tau = _scalar(group["lr"]), group["momentum"], group["dampening"]
            wd, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.array
                g = _grad_array(p, group["maximize"])
                if wd != 0:
                    g = g + wd * theta  # L2 penalty λθ added to the gradient
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = _state_tensor(np.array(g, copy=True))
                    else:
                        buf.array *= mu  # velocity decays by μ
                        buf.array += (1 - tau) * g if tau != 0 else g  # and gathers the gradient
                    # Nesterov looks ahead along the velocity; heavy ball steps along it
                    g = g + mu * buf.array if nesterov else buf.array
                theta -= lr * g  # θ ← θ − α·direction
        return loss
