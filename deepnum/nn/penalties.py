"""Parameter norm penalties λΩ(θ) added to the cost: J̃ = J + λΩ(θ) (000 eq. 10).

Each penalty is a differentiable function of a module's weights, so
``loss = criterion(model(x), y) + l2_penalty(model, lam, m)`` trains with it. Biases are
left out by default, as 000 §6.3 does ("only the w^[l] are regularized"): a parameter is a
bias if its name ends in ``bias`` or it is one-dimensional (which also spares the scales
of normalisation layers).
"""

from __future__ import annotations

import numpy as np

from deepnum.nn.modules.module import Module
from deepnum import ops
from deepnum.tensor import Tensor

__all__ = ["penalized_parameters", "l2_penalty", "l1_penalty", "scad_penalty"]


def penalized_parameters(module, include_bias: bool = False) -> list[Tensor]:
    """The parameters a penalty applies to: the weights of ``module`` (or of an iterable of
    parameters), biases and other 1-D parameters excluded unless ``include_bias``."""
    if isinstance(module, Module):
        named = list(module.named_parameters())
    elif isinstance(module, Tensor):
        named = [("", module)]
    else:
        named = [("", p) for p in module]
    return [p for name, p in named
            if include_bias or not (name.endswith("bias") or p.ndim <= 1)]


def _total(terms: list[Tensor]) -> Tensor:
    if not terms:
        return Tensor._make(np.zeros((), np.float32), False, None, 0)
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def l2_penalty(module, lam: float, m: int = 1, include_bias: bool = False) -> Tensor:
    """L2 (weight decay) penalty λ/(2m) Σ_l ‖W^[l]‖²_F (000 eq. 11).

    Args:
        module: a module, or an iterable of parameters.
        lam: λ, the regularisation strength.
        m: the number of training examples (the cost is an average over them). Default: 1.
        include_bias: also penalise biases and 1-D parameters. Default: False.

    Its gradient λ/m · W is the weight-decay shrinkage W ← (1 - αλ/m) W of a gradient step
    (003 §2.2: weight decay as multiplying the weights by a number slightly below 1).

    Examples:
        >>> from deepnum import nn
        >>> layer = nn.Linear(2, 1)
        >>> _ = layer.weight.data.fill_(1.0)
        >>> l2_penalty(layer, lam=0.5, m=2).item()  # 0.5 / (2 * 2) * (1 + 1)
        0.25

    References:
        000 §6.3, eq. 11 (Frobenius-norm penalty on the weights of every layer).
    """
    terms = [(p * p).sum() for p in penalized_parameters(module, include_bias)]
    return _total(terms) * (lam / (2 * m))


def l1_penalty(module, lam: float, m: int = 1, include_bias: bool = False) -> Tensor:
    """L1 (LASSO) penalty λ/m Σ_l Σ_ij |W^[l]_ij|: 000 eq. 10 with Ω = Σ|w| (003 §2.2).

    The same 1/m scaling as ``l2_penalty`` (000 eq. 11). Its subgradient at 0 is 0.

    Args:
        module: a module, or an iterable of parameters.
        lam: λ. m: number of training examples. Default: 1.
        include_bias: also penalise biases and 1-D parameters. Default: False.

    References:
        000 §6.3, eq. 10; 003 §2.2 (penalty on the sum of absolute values of the weights).
    """
    terms = [ops.abs(p).sum() for p in penalized_parameters(module, include_bias)]
    return _total(terms) * (lam / m)


def scad_penalty(module, lam: float, a: float = 3.7, include_bias: bool = False) -> Tensor:
    """SCAD penalty Σ p_λ(w) over the weights, with (Fan & Li, 2001)

        p_λ(w) = λ|w|                                 if |w| <= λ
               = (2aλ|w| - w² - λ²) / (2(a - 1))      if λ < |w| <= aλ
               = λ²(a + 1) / 2                        if |w| > aλ

    Like LASSO near zero (it sets small weights to zero), constant for large weights (it
    does not shrink them), and continuously differentiable in between; a = 3.7 is Fan and
    Li's recommended value. 003 §2.2 lists SCAD beside ridge and LASSO as a penalty whose
    non-convex cost is a difference of convex functions.

    Args:
        module: a module, or an iterable of parameters.
        lam: λ > 0. a: the shape parameter, > 2. Default: 3.7.
        include_bias: also penalise biases and 1-D parameters. Default: False.

    References:
        003 §2.2 (SCAD penalty); J. Fan, R. Li, "Variable Selection via Nonconcave Penalized
        Likelihood and its Oracle Properties", JASA 96(456):1348-1360, 2001.
    """
    if lam <= 0:
        raise ValueError(f"scad_penalty: lam must be positive, got {lam}")
    if a <= 2:
        raise ValueError(f"scad_penalty: a must be greater than 2, got {a}")
    terms = []
    for p in penalized_parameters(module, include_bias):
        w = ops.abs(p)
        wa = w.array
        middle = (w * (2 * a * lam) - w * w - lam * lam) * (1 / (2 * (a - 1)))
        flat = lam * lam * (a + 1) / 2
        value = ops.where(wa <= lam, w * lam, ops.where(wa <= a * lam, middle, flat))
        terms.append(value.sum())
    return _total(terms)
