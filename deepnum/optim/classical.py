"""First-order optimisers from the notes: momentum in EMA form, Robbins-Monro, block coordinates.

These have no PyTorch counterpart under the same name; they follow ``torch.optim``'s
conventions (``param_groups``, ``state``, ``step(closure)``, ``state_dict``).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from deepnum.optim.optimizer import (
    Optimizer, _check_lr, _check_nonneg, _grad_array, _scalar,
)

__all__ = ["MomentumEMA", "RobbinsMonro", "BlockCoordinateDescent"]


class MomentumEMA(Optimizer):
    r"""Gradient descent with momentum in EMA form: ``v = βv + (1−β)g``, ``θ ← θ − αv``.

    The velocity is the exponential moving average of the gradients (000 eq. 17-19), so its
    scale is that of one gradient; ``SGD(momentum=β)`` keeps the unnormalised sum instead
    (``v = βv + g``, 003 §2.5), which is this optimiser with the learning rate divided by
    ``1−β``. With ``bias_correction=True`` the step uses ``v/(1−β^k)`` (000 eq. 16), which is
    Adam's first moment without the second.

    Args:
        params: parameters or parameter groups to optimise.
        lr: learning rate α (default 1e-2).
        beta: momentum β, the decay of the average (default 0.9; 000 quotes β = 0.8 as common).
        bias_correction: divide the average by ``1−β^k`` (default False, as in eq. 19).
        weight_decay: L2 penalty λ added to the gradient as ``λθ`` (default 0).
        maximize: ascend the objective instead of descending it (default False).

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> opt = deepnum.optim.MomentumEMA([w], lr=0.5, beta=0.5)
        >>> (w * w).sum().backward(); opt.step()  # v = 0.5·2, θ = 1 − 0.5·1
        >>> w.item()
        0.5

    References:
        000 eq. 13-19. B. T. Polyak, "Some methods of speeding up the convergence of iteration
        methods", 1964.
    """

    def __init__(self, params, lr=1e-2, beta=0.9, bias_correction=False, weight_decay=0, *,
                 maximize=False) -> None:
        _check_lr(lr)
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta value: {beta}")
        _check_nonneg(weight_decay, "weight_decay")
        defaults = dict(lr=lr, beta=beta, bias_correction=bias_correction,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, beta, wd = _scalar(group["lr"]), group["beta"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.array
                g = _grad_array(p, group["maximize"])
                state, _ = self._advance(p, exp_avg=np.zeros_like)  # ⟨∇J⟩_0 = 0 (000 eq. 17)
                if wd != 0:
                    g = g + wd * theta  # L2 penalty λθ added to the gradient
                v = state["exp_avg"].array
                v *= beta
                v += (1 - beta) * g  # ⟨∇J⟩_k = β⟨∇J⟩_{k−1} + (1−β)∇J_k   (000 eq. 18)
                scale = lr
                if group["bias_correction"]:
                    scale = lr / (1 - beta ** float(state["step"].array))  # (000 eq. 16)
                theta -= scale * v  # θ_{k+1} = θ_k − α⟨∇J⟩_k   (000 eq. 19)
        return loss


class RobbinsMonro(Optimizer):
    r"""Stochastic approximation with step sizes ``a_n = a/(n + n0)``: ``θ_{n+1} = θ_n − a_n·g_n``.

    Robbins and Monro's conditions ``Σa_n = ∞``, ``Σa_n² < ∞`` (003 §2.8) hold for ``a/n``,
    the default (``n0 = 0``); a positive ``n0`` softens the first steps. ``n`` counts this
    parameter's steps from 1. ``lr`` is ``a``, so a learning-rate scheduler scales ``a``.

    Args:
        params: parameters or parameter groups to optimise.
        lr: the constant ``a > 0`` (default 1e-1).
        n0: offset of the step counter (default 0).
        maximize: ascend the objective instead of descending it (default False).

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> opt = deepnum.optim.RobbinsMonro([w], lr=0.25)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
        >>> w.item()  # 1 → 1 − 0.25·2 = 0.5 → 0.5 − 0.125·1 = 0.375
        0.375

    References:
        003 §2.8. H. Robbins, S. Monro, "A Stochastic Approximation Method", Ann. Math. Stat. 1951.
    """

    def __init__(self, params, lr=1e-1, n0=0, *, maximize=False) -> None:
        _check_lr(lr)
        _check_nonneg(n0, "n0")
        super().__init__(params, dict(lr=lr, n0=n0, maximize=maximize))

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                _, k = self._advance(p)
                n = k + group["n0"]
                a_n = _scalar(group["lr"]) / n  # a_n = a/n
                p.array -= a_n * _grad_array(p, group["maximize"])  # θ_{n+1} = θ_n − a_n·X(θ_n)
        return loss


class BlockCoordinateDescent(Optimizer):
    r"""Block coordinate descent: each ``step`` updates one parameter group, in turn.

    Wraps an inner optimiser and lets it see only one of its ``param_groups`` per step
    (group ``k mod G`` on step ``k``), so the other blocks are held fixed (003 §2.5). The
    wrapper shares the inner optimiser's ``param_groups`` and ``state``, so learning-rate
    schedulers and checkpoints work through it.

    Args:
        optimizer: the inner optimiser; each of its parameter groups is one block.
        order: the sequence of group indices to cycle through (default ``0, 1, ..., G−1``).

    Examples:
        >>> import deepnum
        >>> a = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> b = deepnum.nn.Parameter(deepnum.tensor([1.0]))
        >>> inner = deepnum.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.25)
        >>> opt = deepnum.optim.BlockCoordinateDescent(inner)
        >>> ((a * a).sum() + (b * b).sum()).backward(); opt.step()
        >>> a.item(), b.item()
        (0.5, 1.0)

    References:
        003 §2.5 (block coordinate descent). S. J. Wright, "Coordinate descent algorithms",
        Math. Program. 2015.
    """

    def __init__(self, optimizer: Optimizer, order=None) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"BlockCoordinateDescent: {type(optimizer).__name__} is not an Optimizer"
            )
        self.optimizer = optimizer
        self.order = list(range(len(optimizer.param_groups))) if order is None else list(order)
        if not self.order:
            raise ValueError("BlockCoordinateDescent: order is empty")
        for i in self.order:
            if not 0 <= i < len(optimizer.param_groups):
                raise ValueError(
                    f"BlockCoordinateDescent: order contains group {i}, but the optimizer has "
                    f"{len(optimizer.param_groups)} parameter groups"
                )
        self.position = 0
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._patch_step_function()

    # the inner optimiser's groups, state and defaults are this optimiser's
    defaults = property(lambda self: self.optimizer.defaults)
    param_groups = property(lambda self: self.optimizer.param_groups)
    state = property(lambda self: self.optimizer.state)

    def add_param_group(self, param_group: dict) -> None:
        self.optimizer.add_param_group(param_group)
        self.order.append(len(self.optimizer.param_groups) - 1)

    def step(self, closure=None):
        """Step the inner optimiser on the next block only; returns the closure's loss."""
        block = self.order[self.position % len(self.order)]
        groups = self.optimizer.param_groups
        self.optimizer.param_groups = [groups[block]]
        try:
            loss = self.optimizer.step(closure) if closure is not None else self.optimizer.step()
        finally:
            self.optimizer.param_groups = groups
        self.position += 1
        return loss

    def state_dict(self) -> dict:
        sd = self.optimizer.state_dict()
        sd["block_position"] = self.position
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        self.position = state_dict.pop("block_position", 0)
        self.optimizer.load_state_dict(state_dict)

    def __repr__(self) -> str:
        return f"BlockCoordinateDescent(order={self.order}, optimizer={self.optimizer!r})"
