"""AdaGrad: per-coordinate step sizes from the accumulated squared gradients."""

from __future__ import annotations

import numpy as np

from deepnum.optim.optimizer import (
    Optimizer, _check_differentiable, _check_lr, _check_nonneg, _grad_array, _scalar,
    _state_tensor, _step_tensor,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""AdaGrad: ``r ← r + g²``, ``θ ← θ − α_k·g / (sqrt(r) + δ)`` with ``α_k = α/(1+(k−1)·d)``.

    Each coordinate's step shrinks with the square root of the sum of all its past squared
    gradients, so steep directions slow down and flat ones keep moving (003 §2.5, where δ is
    ``eps`` and ``r_0 = 0`` is ``initial_accumulator_value``).

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate α (default 1e-2).
        lr_decay: d in the decayed rate ``α/(1+(k−1)d)`` (default 0).
        weight_decay: L2 penalty λ added to the gradient as ``λθ`` (default 0).
        initial_accumulator_value: starting value of every accumulator r (default 0).
        eps: δ added to the denominator (default 1e-10).
        maximize: ascend the objective instead of descending it (default False).

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> opt = deepnum.optim.Adagrad([w], lr=0.5)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)  # the first step is lr·g/|g|
        0.5

    References:
        003 §2.5 (AdaGrad). J. Duchi, E. Hazan, Y. Singer, "Adaptive Subgradient Methods for
        Online Learning and Stochastic Optimization", JMLR 2011.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None) -> None:
        _check_differentiable("Adagrad", differentiable)
        _check_lr(lr)
        _check_nonneg(lr_decay, "lr_decay")
        _check_nonneg(weight_decay, "weight_decay")
        _check_nonneg(initial_accumulator_value, "initial_accumulator_value")
        _check_nonneg(eps, "epsilon")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, initial_value) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["sum"] = _state_tensor(np.full_like(p.array, initial_value))
        return state

    def add_param_group(self, param_group: dict) -> None:
        # PyTorch creates AdaGrad's state eagerly, so a fresh optimiser already has a state_dict
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group["initial_accumulator_value"])

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = _scalar(group["lr"]), group["lr_decay"], group["eps"]
            wd = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.array
                g = _grad_array(p, group["maximize"])
                state = self._init_state(p, group["initial_accumulator_value"])
                state["step"].array += 1
                k = float(state["step"].array)
                if wd != 0:
                    g = g + wd * theta  # L2 penalty λθ added to the gradient
                clr = lr / (1 + (k - 1) * lr_decay)  # decayed learning rate α_k
                r = state["sum"].array
                tmp = np.square(g)  # the one scratch array of this update
                r += tmp  # accumulate the squared gradient: r ← r + g⊙g
                denom = np.sqrt(r, out=tmp)
                denom += eps  # sqrt(r) + δ
                step = np.divide(g, denom, out=denom)
                step *= clr
                theta -= step  # θ ← θ − α_k·g/(sqrt(r) + δ)   (003 §2.5)
        return loss
