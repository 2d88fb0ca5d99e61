"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import math

import numpy as np

from deepnum.optim.optimizer import (
    Optimizer, _check_differentiable, _check_lr, _check_nonneg, _grad_array, _scalar,
    _state_tensor, _step_tensor,
)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam: ``θ ← θ − α·m̂ / (sqrt(v̂) + ε)`` with bias-corrected moment estimates m̂, v̂.

    ``m = β1·m + (1−β1)·g`` and ``v = β2·v + (1−β2)·g²`` are exponential moving averages of the
    gradient and of its square (000 eq. 13-14, 18, 21); ``m̂ = m/(1−β1^k)``, ``v̂ = v/(1−β2^k)``
    correct their bias towards the zero start (000 eq. 15-16) and the step is 000 eq. 23,
    with ε added to the square root as in the paper and in PyTorch.

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate α (default 1e-3).
        betas: decay rates (β1, β2) of the two moment estimates (default (0.9, 0.999)).
        eps: ε added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty λ added to the gradient as ``λθ`` (default 0).
        amsgrad: divide by the running maximum of v̂ (AMSGrad, default False).
        maximize: ascend the objective instead of descending it (default False).
        decoupled_weight_decay: apply the decay to θ directly, as AdamW (default False).
        foreach, fused, capturable: PyTorch kernel choices, accepted and ignored.

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> opt = deepnum.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)  # the first Adam step has length lr
        0.9

    References:
        000 eq. 23. D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", 2014,
        arXiv:1412.6980. S. J. Reddi et al., "On the Convergence of Adam and Beyond", ICLR 2018.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False) -> None:
        _check_differentiable(type(self).__name__, differentiable)
        _check_lr(lr)
        _check_nonneg(eps, "epsilon")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _check_nonneg(weight_decay, "weight_decay")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, amsgrad: bool) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["exp_avg"] = _state_tensor(np.zeros_like(p.array))
            state["exp_avg_sq"] = _state_tensor(np.zeros_like(p.array))
            if amsgrad:
                state["max_exp_avg_sq"] = _state_tensor(np.zeros_like(p.array))
        return state

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = _scalar(group["lr"]), group["betas"], group["eps"]
            wd, amsgrad = group["weight_decay"], group["amsgrad"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.array
                g = _grad_array(p, group["maximize"])
                state = self._init_state(p, amsgrad)
                state["step"].array += 1
                k = float(state["step"].array)
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        theta *= 1 - lr * wd  # decoupled decay: shrink θ directly (AdamW)
                    else:
                        g = g + wd * theta  # L2 penalty λθ added to the gradient
                m, v = state["exp_avg"].array, state["exp_avg_sq"].array
                tmp = np.multiply(g, 1 - beta1)  # the one scratch array of this update
                m *= beta1
                m += tmp  # first moment estimate m = β1·m + (1−β1)·g   (000 eq. 18)
                np.square(g, out=tmp)
                tmp *= 1 - beta2
                v *= beta2
                v += tmp  # second moment estimate v = β2·v + (1−β2)·g²   (000 eq. 21)
                bias_correction1 = 1 - beta1**k  # bias correction (000 eq. 16)
                bias_correction2_sqrt = math.sqrt(1 - beta2**k)
                if amsgrad:
                    v_max = state["max_exp_avg_sq"].array
                    np.maximum(v_max, v, out=v_max)  # AMSGrad: never let v̂ shrink
                    v = v_max
                denom = np.sqrt(v, out=tmp)
                denom /= bias_correction2_sqrt
                denom += eps  # sqrt(v̂) + ε
                step = np.divide(m, denom, out=denom)
                step *= lr / bias_correction1  # α·m̂ / (sqrt(v̂) + ε)   (000 eq. 23)
                theta -= step
        return loss


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, ``θ ← θ(1 − αλ)`` before the Adam step.

    The same as ``Adam(..., decoupled_weight_decay=True)``, with a default decay of 1e-2.

    The decay shrinks the weights directly instead of entering the moment estimates as an L2
    gradient (003 §2.2 describes weight decay as multiplying the weights by a number slightly
    less than 1 after each iteration).

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate α (default 1e-3).
        betas: decay rates (β1, β2) of the moment estimates (default (0.9, 0.999)).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: decoupled decay rate λ (default 1e-2).
        amsgrad: use the running maximum of v̂ (default False).
        maximize: ascend the objective instead of descending it (default False).

    References:
        I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
        arXiv:1711.05101. 003 §2.2 (weight decay); 000 eq. 23.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         differentiable=differentiable, decoupled_weight_decay=True)
