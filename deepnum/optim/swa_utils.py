"""Weight averaging (``torch.optim.swa_utils``): Polyak/SWA means and EMAs of a model's weights.

``AveragedModel`` keeps a deep copy of a model whose parameters are the running average of
the model's along training (Polyak averaging, 003 §2.7), either the equal-weight mean
``θ̄_n = θ̄_{n−1} + (θ_n − θ̄_{n−1})/(n+1)`` (SWA) or an exponential moving average
(``get_ema_multi_avg_fn``; 000 eq. 13-14). ``SWALR`` anneals the rate to a constant for the
averaging phase; ``update_bn`` recomputes batch-norm statistics for the averaged weights.
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np

from deepnum.autograd.grad_mode import no_grad
from deepnum.nn.modules.module import Module
from deepnum.optim.lr_scheduler import LRScheduler, _format_param
from deepnum.tensor import Tensor

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _arr(x):
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def get_ema_multi_avg_fn(decay: float = 0.999):
    """In-place EMA over lists of tensors: ``θ̄ ← decay·θ̄ + (1−decay)·θ`` (000 eq. 18 form)."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )

    def ema_update(ema_param_list, current_param_list, _num_averaged) -> None:
        for p_ema, p_model in zip(ema_param_list, current_param_list):
            a, b = p_ema.array, _arr(p_model)
            if a.dtype.kind == "f":
                a += (1 - decay) * (b - a)  # lerp towards the current weights
            else:
                a[...] = a * decay + b * (1 - decay)

    return ema_update


def get_swa_multi_avg_fn():
    """In-place running mean over lists of tensors: ``θ̄ ← θ̄ + (θ − θ̄)/(n+1)`` (003 §2.7)."""

    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        n = float(_arr(num_averaged))
        for p_avg, p_model in zip(averaged_param_list, current_param_list):
            a = p_avg.array
            if a.dtype.kind == "f":
                a += (_arr(p_model) - a) / (n + 1)
            else:  # integer buffers: the mean truncated towards zero, as PyTorch's copy_ does
                a[...] = a + (_arr(p_model) - a) / (n + 1)

    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """EMA of one tensor: returns ``decay·θ̄ + (1−decay)·θ``."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """Running mean of one tensor: returns ``θ̄ + (θ − θ̄)/(n+1)`` (Polyak averaging, 003 §2.7)."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    r"""A copy of ``model`` holding the running average of its weights (SWA, EMA; 003 §2.7).

    ``update_parameters(model)`` folds in the model's current weights: the first call copies
    them, later calls apply ``multi_avg_fn`` (in place over all tensors) or ``avg_fn`` (one
    tensor at a time) or, by default, the equal-weight running mean
    ``θ̄ ← θ̄ + (θ − θ̄)/(n+1)``. The count is the buffer ``n_averaged``; the state dict holds
    ``module.<name>`` entries and ``n_averaged``. With ``use_buffers=True`` buffers are averaged
    too; otherwise they are copied from the model.

    Args:
        model: the model whose weights are averaged (deep-copied).
        device: accepted for compatibility (CPU only).
        avg_fn: ``avg_fn(averaged, current, n_averaged) -> new averaged`` per tensor.
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, n_averaged)`` in place.
        use_buffers: average buffers as well as parameters (default False).

    Examples:
        >>> import deepnum
        >>> net = deepnum.nn.Module(); net.w = deepnum.nn.Parameter(deepnum.tensor([0.0]))
        >>> swa = AveragedModel(net)
        >>> for v in [1.0, 2.0, 3.0]:
        ...     net.w.array[...] = v; swa.update_parameters(net)
        >>> swa.module.w.item()  # the mean of 1, 2, 3
        2.0

    References:
        003 §2.7 (Polyak averaging). P. Izmailov et al., "Averaging Weights Leads to Wider
        Optima and Better Generalization", UAI 2018, arXiv:1803.05407. B. T. Polyak,
        A. B. Juditsky, "Acceleration of stochastic approximation by averaging", 1992.
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError(
                "AveragedModel: only one of avg_fn and multi_avg_fn should be provided"
            )
        self.module = copy.deepcopy(model)
        count = Tensor._make(np.array(0, dtype=np.int64), False, None, 0)
        self.register_buffer("n_averaged", count)
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average."""
        if self.use_buffers:
            own = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            other = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            own, other = list(self.parameters()), list(model.parameters())
        own = [Tensor._make(p.array, False, None, 0) for p in own]
        other = [Tensor._make(p.array, False, None, 0) for p in other]
        n = int(self.n_averaged.array)
        if n == 0:
            for a, b in zip(own, other):
                np.copyto(a.array, b.array)  # the first model is the average
        else:
            n_averaged = Tensor._make(self.n_averaged.array.copy(), False, None, 0)
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(own, other, n_averaged)
            elif self.avg_fn is None:
                get_swa_multi_avg_fn()(own, other, n_averaged)
            else:
                for a, b in zip(own, other):
                    new = self.avg_fn(a, b, n_averaged)
                    np.copyto(a.array, _arr(new), casting="unsafe")
        if not self.use_buffers:
            for b_avg, b_model in zip(self.module.buffers(), model.buffers()):
                np.copyto(b_avg.array, b_model.array)
        self.n_averaged.array += 1


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute batch-norm running statistics with one pass over ``loader``.

    Averaged weights need their own statistics. Every module with ``reset_running_stats``
    and ``momentum`` (the batch-norm layers) is reset and switched to a cumulative average
    (``momentum=None``) for the pass; ``(input, target)`` batches use their first element.
    """
    momenta = {}
    for module in model.modules():
        if hasattr(module, "reset_running_stats") and hasattr(module, "momentum"):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's rate to ``swa_lr`` over ``anneal_epochs``, then hold it (SWA phase).

    Args:
        optimizer: the wrapped optimiser.
        swa_lr: the constant rate of the averaging phase, one value or one per group.
        anneal_epochs: epochs of the annealing (default 10).
        anneal_strategy: ``'cos'`` or ``'linear'`` (default ``'cos'``).
        last_epoch: index of the last epoch (default -1).

    References:
        003 §2.7; P. Izmailov et al., 2018, arXiv:1803.05407.
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1) -> None:
        for lr, group in zip(_format_param("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t: float) -> float:
        if self._anneal_strategy == "cos":
            return (1 - math.cos(math.pi * t)) / 2
        return t

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        groups = self.optimizer.param_groups
        # undo the previous blend to recover the rate the annealing started from
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]
