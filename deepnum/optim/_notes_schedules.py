"""Learning-rate decays from the notes (000 §7.3, 003 §2.2), as ``lr_scheduler`` classes.

Each is a closed form in the epoch count ``n_e = last_epoch`` (0 at construction) and the
group's starting rate ``α0 = initial_lr``, so ``step(epoch)`` and checkpoints are exact.
"""

from __future__ import annotations

import math

from deepnum.optim.lr_scheduler import LRScheduler, _format_param

__all__ = [
    "InverseTimeDecay", "ExponentialEpochDecay", "InverseSqrtDecay", "LinearDecayToConstant",
]


class _ClosedForm(LRScheduler):
    def get_lr(self) -> list:
        return self._get_closed_form_lr()


class InverseTimeDecay(_ClosedForm):
    r"""``α = α0 / (1 + d·n_e)`` (000 §7.3).

    Args:
        optimizer: the wrapped optimiser.
        decay_rate: d ≥ 0.
        last_epoch: index of the last epoch (default -1).

    Examples:
        >>> import deepnum
        >>> opt = deepnum.optim.SGD([deepnum.nn.Parameter(deepnum.zeros(1))], lr=1.0)
        >>> sched = InverseTimeDecay(opt, decay_rate=1.0)
        >>> opt.step(); sched.step(); sched.get_last_lr()
        [0.5]

    References:
        000 §7.3 (learning rate decay).
    """

    def __init__(self, optimizer, decay_rate: float, last_epoch: int = -1) -> None:
        if decay_rate < 0:
            raise ValueError(f"InverseTimeDecay: decay_rate must be >= 0, got {decay_rate}")
        self.decay_rate = decay_rate
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self) -> list:
        return [base / (1 + self.decay_rate * self.last_epoch) for base in self.base_lrs]


class ExponentialEpochDecay(_ClosedForm):
    r"""``α = α0 · base^n_e`` with ``base = 0.95`` as in 000 §7.3.

    The same numbers as ``ExponentialLR(gamma=base)``, from the closed form.

    Args:
        optimizer: the wrapped optimiser.
        base: factor per epoch, in (0, 1] (default 0.95).
        last_epoch: index of the last epoch (default -1).

    References:
        000 §7.3 (learning rate decay).
    """

    def __init__(self, optimizer, base: float = 0.95, last_epoch: int = -1) -> None:
        if not 0 < base <= 1:
            raise ValueError(f"ExponentialEpochDecay: base must be in (0, 1], got {base}")
        self.base = base
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self) -> list:
        return [b * self.base**self.last_epoch for b in self.base_lrs]


class InverseSqrtDecay(_ClosedForm):
    r"""``α = α0 · d / sqrt(n_e)`` for ``n_e ≥ 1`` and ``α = α0`` at ``n_e = 0`` (000 §7.3).

    The formula of 000 §7.3 is undefined at ``n_e = 0``; before the first epoch has passed
    the schedule uses the starting rate α0 itself, as every scheduler does at construction.

    Args:
        optimizer: the wrapped optimiser.
        decay: the constant d > 0 (default 1.0).
        last_epoch: index of the last epoch (default -1).

    References:
        000 §7.3 (learning rate decay).
    """

    def __init__(self, optimizer, decay: float = 1.0, last_epoch: int = -1) -> None:
        if decay <= 0:
            raise ValueError(f"InverseSqrtDecay: decay must be > 0, got {decay}")
        self.decay = decay
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self) -> list:
        if self.last_epoch <= 0:
            return list(self.base_lrs)
        return [base * self.decay / math.sqrt(self.last_epoch) for base in self.base_lrs]


class LinearDecayToConstant(_ClosedForm):
    r"""``ε_k = (1 − k/τ)·ε0 + (k/τ)·ε_τ`` for ``k ≤ τ``, then ``ε_τ`` (003 §2.2).

    ``ε0`` is the group's starting rate; ``ε_τ`` is ``end_lr`` if given, else
    ``end_factor·ε0`` (003 §2.2: commonly 1% of ε0, with τ of a few hundred iterations).

    Args:
        optimizer: the wrapped optimiser.
        total_iters: τ, the number of steps of the decay (default 300).
        end_factor: ``ε_τ/ε0`` when ``end_lr`` is not given (default 0.01).
        end_lr: ε_τ, one value or one per group (default None).
        last_epoch: index of the last step (default -1).

    References:
        003 §2.2 (learning rate for SGD).
    """

    def __init__(self, optimizer, total_iters: int = 300, end_factor: float = 0.01,
                 end_lr=None, last_epoch: int = -1) -> None:
        if not isinstance(total_iters, int) or total_iters <= 0:
            raise ValueError(
                f"LinearDecayToConstant: total_iters must be a positive int, got {total_iters}"
            )
        self.total_iters = total_iters
        self.end_factor = end_factor
        self.end_lrs = None if end_lr is None else _format_param("end_lr", optimizer, end_lr)
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self) -> list:
        a = min(self.last_epoch, self.total_iters) / self.total_iters  # α_k = k/τ, then 1
        ends = self.end_lrs or [self.end_factor * base for base in self.base_lrs]
        return [(1 - a) * base + a * end for base, end in zip(self.base_lrs, ends)]
