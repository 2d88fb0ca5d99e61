"""Loss modules (``nn.MSELoss``, ``nn.CrossEntropyLoss``, ...): thin wrappers of ``F``.

Constructor arguments, defaults and buffers (``weight``, ``pos_weight``) are PyTorch's, so
``state_dict`` keys match; ``forward(input, target)`` calls the functional form.
"""

from __future__ import annotations

from deepnum.nn import functional as F
from deepnum.nn.functional._loss_reduction import legacy_reduction
from deepnum.nn.modules.module import Module
from deepnum.ops._util import as_tensor_arg

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "QuadraticLoss", "BCELoss",
    "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "GaussianNLLLoss",
    "CTCLoss",
]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor_arg(weight))


class MSELoss(_Loss):
    """Mean squared error (x - y)^2; see ``F.mse_loss``.

    Examples:
        >>> import deepnum
        >>> from deepnum import nn
        >>> nn.MSELoss()(deepnum.tensor([1.0, 2.0]), deepnum.tensor([1.0, 0.0]))
        tensor(2.)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x - y|; see ``F.l1_loss``."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class QuadraticLoss(_Loss):
    """Quadratic loss ½ (y - ỹ)^2 (000 §3); see ``F.quadratic_loss``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input, target):
        return F.quadratic_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss with threshold ``delta``; see ``F.huber_loss``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [super().extra_repr(), f"delta={self.delta}"]))


class SmoothL1Loss(_Loss):
    """Smooth L1 loss with threshold ``beta``; see ``F.smooth_l1_loss``."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [super().extra_repr(), f"beta={self.beta}"]))


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities; see ``F.binary_cross_entropy``."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (stable); see ``F.binary_cross_entropy_with_logits``.

    ``weight`` and ``pos_weight`` are buffers, as in PyTorch.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else as_tensor_arg(weight))
        self.register_buffer("pos_weight",
                             None if pos_weight is None else as_tensor_arg(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits with class indices or probabilities; see ``F.cross_entropy``.

    Examples:
        >>> import deepnum
        >>> from deepnum import nn
        >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
        >>> logits = deepnum.zeros(4, 10, requires_grad=True)
        >>> out = loss(logits, deepnum.tensor([1, 0, 4, 9]))
        >>> out.backward()
        >>> round(out.item(), 4)  # ln 10
        2.3026
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(filter(None, parts))


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; see ``F.nll_loss``."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probability inputs; see ``F.kl_div``."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood; ``forward(input, target, var)``; see
    ``F.gaussian_nll_loss``."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss -log p(l | x); see ``F.ctc_loss``.

    Sums the probability of every alignment of an unsegmented target sequence with the
    input frames (Graves et al. 2006), e.g. for speech or handwriting recognition.
    ``forward(log_probs, targets, input_lengths, target_lengths)``.

    Args:
        blank: class index of the blank. Default: 0.
        reduction: ``'none'`` | ``'mean'`` (each loss divided by its target length, then
            averaged over the batch) | ``'sum'``. Default: ``'mean'``.
        zero_infinity: replace infinite losses (targets that cannot be aligned with the
            input) and their gradients by zero. Default: False.

    Shape:
        log_probs: (T, N, C) or (T, C) log-probabilities (e.g. ``log_softmax(dim=-1)``).
        targets: padded (N, S) or concatenated (sum(target_lengths),) class indices other
            than ``blank``.
        input_lengths, target_lengths: (N,) tensors, lists or tuples of ints.
        output: () or, with ``reduction='none'``, (N,).

    Examples:
        >>> import deepnum
        >>> from deepnum import nn
        >>> ctc = nn.CTCLoss()
        >>> log_probs = deepnum.full((2, 1, 2), 0.5).log().requires_grad_()
        >>> loss = ctc(log_probs, deepnum.tensor([[1]]), [2], [1])
        >>> loss.backward()
        >>> round(loss.item(), 4)  # -log 3/4: the paths 1-, -1 and 11 each have probability 1/4
        0.2877
    """

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                          reduction=self.reduction, zero_infinity=self.zero_infinity)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.blank != 0:
            parts.append(f"blank={self.blank}")
        if self.zero_infinity:
            parts.append("zero_infinity=True")
        return ", ".join(filter(None, parts))
