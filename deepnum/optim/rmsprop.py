"""RMSprop: gradient steps scaled by a running root mean square of the gradient."""

from __future__ import annotations

import numpy as np

from deepnum.optim.optimizer import (
    Optimizer, _check_differentiable, _check_lr, _check_nonneg, _grad_array, _scalar,
    _state_tensor, _step_tensor,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: ``v ← αv + (1−α)g²``, ``θ ← θ − lr·g / (sqrt(v) + ε)``.

    ``v`` is the exponential moving average of the squared gradient (000 eq. 20-21) and the
    step divides by its root (000 eq. 22; 003 §2.5 writes the decay rate as ρ, δ for ε).
    ``centered=True`` subtracts the squared running mean of the gradient, dividing by an
    estimate of its standard deviation; ``momentum > 0`` accumulates the scaled steps in a
    velocity ``b ← μb + g/(sqrt(v)+ε)``.

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant α of the squared-gradient average (default 0.99).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: L2 penalty λ added to the gradient as ``λθ`` (default 0).
        momentum: momentum factor μ (default 0).
        centered: normalise by the estimated variance of the gradient (default False).
        maximize: ascend the objective instead of descending it (default False).

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> opt = deepnum.optim.RMSprop([w], lr=0.01, alpha=0.75)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)  # 1 − 0.01·2/sqrt(0.25·4)
        0.98

    References:
        000 eq. 20-22; 003 §2.5. T. Tieleman, G. Hinton, Lecture 6.5 "rmsprop", COURSERA:
        Neural Networks for Machine Learning, 2012. A. Graves, "Generating Sequences With
        Recurrent Neural Networks", 2013, arXiv:1308.0850 (centered form).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False) -> None:
        _check_differentiable("RMSprop", differentiable)
        _check_lr(lr)
        _check_nonneg(eps, "epsilon")
        _check_nonneg(momentum, "momentum")
        _check_nonneg(weight_decay, "weight_decay")
        _check_nonneg(alpha, "alpha")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["square_avg"] = _state_tensor(np.zeros_like(p.array))
            if group["momentum"] > 0:
                state["momentum_buffer"] = _state_tensor(np.zeros_like(p.array))
            if group["centered"]:
                state["grad_avg"] = _state_tensor(np.zeros_like(p.array))
        return state

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps = _scalar(group["lr"]), group["alpha"], group["eps"]
            wd, mu = group["weight_decay"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.array
                g = _grad_array(p, group["maximize"])
                state = self._init_state(p, group)
                state["step"].array += 1
                if wd != 0:
                    g = g + wd * theta  # L2 penalty λθ added to the gradient
                v = state["square_avg"].array
                tmp = np.square(g)  # the one scratch array of this update
                tmp *= 1 - alpha
                v *= alpha
                v += tmp  # EMA of the squared gradient (000 eq. 21)
                if group["centered"]:
                    m = state["grad_avg"].array
                    np.multiply(g, 1 - alpha, out=tmp)
                    m *= alpha
                    m += tmp  # EMA of the gradient
                    avg = np.square(m, out=tmp)
                    np.subtract(v, avg, out=avg)
                    np.sqrt(avg, out=avg)  # running standard deviation of the gradient
                else:
                    avg = np.sqrt(v, out=tmp)  # running RMS of the gradient
                avg += eps
                if mu > 0:
                    buf = state["momentum_buffer"].array
                    buf *= mu
                    buf += np.divide(g, avg, out=avg)  # velocity of the scaled steps
                    np.multiply(buf, lr, out=avg)
                    theta -= avg
                else:
                    step = np.divide(g, avg, out=avg)
                    step *= lr
                    theta -= step  # θ ← θ − lr·g/(sqrt(v) + ε)   (000 eq. 22)
        return loss
