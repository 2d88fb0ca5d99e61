"""Activation layers (000 §2, 002, 003 §1.2, 004 Def. 6.13): thin modules over ``nn.functional``.

Beyond PyTorch: ``Step`` (Heaviside, 003 §1.2), ``ScaledSigmoid`` and ``ScaledTanh`` (slope α,
002); maxout units are ``nn.Maxout`` (a layer with weights, in ``linear.py``).
"""

from __future__ import annotations

import numpy as np

from deepnum import _dtype
from deepnum.nn import functional as F
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter

__all__ = [
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "CELU", "SELU", "GELU", "Sigmoid", "Tanh",
    "Softplus", "Softmax", "LogSoftmax", "Softmin", "Hardtanh", "Threshold", "SiLU", "Mish",
    "Softsign", "Tanhshrink", "LogSigmoid", "Hardsigmoid", "Hardswish", "Step", "ScaledSigmoid",
    "ScaledTanh",
]


def _inplace_repr(inplace: bool, lead: bool = False) -> str:
    if not inplace:
        return ""
    return ", inplace=True" if lead else "inplace=True"


class _Inplace(Module):
    """An activation with only an ``inplace`` flag."""

    _fn = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class ReLU(_Inplace):
    """max(0, x) (003 §1.2; 002: converges several times faster than sigmoid/tanh)."""

    _fn = staticmethod(F.relu)


class ReLU6(_Inplace):
    """min(max(0, x), 6)."""

    _fn = staticmethod(F.relu6)


class SELU(_Inplace):
    """λ · elu(x, α), λ ≈ 1.0507, α ≈ 1.6733 (Klambauer et al., 2017)."""

    _fn = staticmethod(F.selu)


class SiLU(_Inplace):
    """x σ(x)."""

    _fn = staticmethod(F.silu)


class Mish(_Inplace):
    """x tanh(softplus(x))."""

    _fn = staticmethod(F.mish)


class Hardsigmoid(_Inplace):
    """relu6(x + 3) / 6."""

    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:
        return ""


class Hardswish(_Inplace):
    """x · relu6(x + 3) / 6."""

    _fn = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""


class LeakyReLU(Module):
    """max(0, x) + negative_slope · min(0, x) (000 §2; 003 §1.2 shows slope 0.1)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace, True)}"


class PReLU(Module):
    """max(0, x) + a · min(0, x) with learnable a: one shared (``num_parameters=1``) or one per channel.

    Shape:
        ``weight``: ``(num_parameters,)``, filled with ``init`` (0.25).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        dt = _dtype.to_dtype(dtype) if dtype else _dtype.get_default_dtype()
        self.weight = Parameter(np.empty(num_parameters, dtype=dt))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.weight.array.fill(self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x for x > 0, α(eˣ - 1) otherwise (003 §1.2)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_repr(self.inplace, True)}"


class CELU(ELU):
    """max(0, x) + min(0, α(exp(x/α) - 1))."""

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)


class GELU(Module):
    """x Φ(x); ``approximate='tanh'`` uses ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class _Plain(Module):
    _fn = None

    def forward(self, input):
        return type(self)._fn(input)


class Sigmoid(_Plain):
    """σ(x) = 1 / (1 + e^{-x}) (000 §2)."""

    _fn = staticmethod(F.sigmoid)


class Tanh(_Plain):
    """tanh(x) (000 §2: zero-centred, preferred to the sigmoid in hidden layers)."""

    _fn = staticmethod(F.tanh)


class Softsign(_Plain):
    """x / (1 + |x|)."""

    _fn = staticmethod(F.softsign)


class Tanhshrink(_Plain):
    """x - tanh(x)."""

    _fn = staticmethod(F.tanhshrink)


class LogSigmoid(_Plain):
    """log σ(x)."""

    _fn = staticmethod(F.logsigmoid)


class Softplus(Module):
    """(1/β) log(1 + exp(βx)); linear where βx > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class _SoftmaxLike(Module):
    _fn = None

    def __init__(self, dim=None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxLike):
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim`` (000 §2; stable, 001 App. A)."""

    _fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxLike):
    """log softmax(x) along ``dim`` via log-sum-exp (001 App. A)."""

    _fn = staticmethod(F.log_softmax)


class Softmin(_SoftmaxLike):
    """softmax(-x) along ``dim``."""

    _fn = staticmethod(F.softmin)


class Hardtanh(Module):
    """min(max(x, min_val), max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace, True)}"


class Threshold(Module):
    """x where x > threshold, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_repr(self.inplace, True)}"


class Step(Module):
    """Heaviside step f(z) = a for z ≥ 0, else 0 (003 §1.2). Its gradient is zero everywhere
    (see ``F.step``): layers below a step do not learn by gradient descent."""

    def __init__(self, a: float = 1.0) -> None:
        super().__init__()
        self.a = a

    def forward(self, input):
        return F.step(input, self.a)

    def extra_repr(self) -> str:
        return f"a={self.a}"


class ScaledSigmoid(Module):
    """σ(αx) = 1 / (1 + e^{-αx}), derivative α σ(1 - σ) (002). Larger α, steeper step."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        return F.scaled_sigmoid(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class ScaledTanh(Module):
    """tanh(αx), derivative α (1 - tanh²(αx)) (002)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        return F.scaled_tanh(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
