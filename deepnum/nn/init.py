"""Parameter initialisation: PyTorch's ``torch.nn.init`` and the schemes of the notes.

Every function fills its tensor in place without recording gradients, draws from deepnum's
global generator (or the ``generator`` given), keeps the tensor's dtype and returns it.

The notes' schemes (names are deepnum's; 000 §7.3, 002, 003 §2.4):

=========================  ==============================================  ===========
``he_normal_``             N(0, 1) · sqrt(2 / n), n = fan-in                000 §7.3, 002
``xavier_fan_in_normal_``  N(0, 1) · sqrt(1 / n) ("Xavier" in 000 §7.3)      000 §7.3, 002
``glorot_uniform_``        U(±sqrt(6 / (n + r))), r = fan-out               003 §2.4
``uniform_fan_in_``        U(±n^-0.5)                                       003 §2.4
``small_gaussian_``        N(0, 0.01²)                                      002
``relu_bias_``             constant 0.1 for biases of ReLU units            003 §2.4
``output_marginals_``      zero weights, biases matching the targets' marginals  003 §2.4
=========================  ==============================================  ===========
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "he_normal_", "xavier_fan_in_normal_", "glorot_uniform_", "uniform_fan_in_",
    "small_gaussian_", "relu_bias_", "output_marginals_",
]


def _fill(tensor: Tensor, values) -> Tensor:
    """Write ``values`` into the tensor's storage (views such as ``p.data`` see it)."""
    np.copyto(tensor.array, np.asarray(values), casting="unsafe")
    return tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The gain that keeps activations' variance stable through ``nonlinearity`` (PyTorch's table).

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2 / (1 + slope²)); selu: 3/4.
    """
    linear = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"]
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """fan_in = size(1) · receptive field, fan_out = size(0) · receptive field."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(shape {tuple(tensor.shape)})"
        )
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# --------------------------------------------------------------------- PyTorch's schemes
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with N(mean, std²)."""
    return _fill(tensor, mean + std * _rng(generator).standard_normal(tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with N(mean, std²) restricted to [a, b] (redrawing values that fall outside)."""
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    rng = _rng(generator)
    out = mean + std * rng.standard_normal(tensor.shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = mean + std * rng.standard_normal(int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    tensor.array.fill(val)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-D convolution weight so that the convolution is the identity per group."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups:
        raise ValueError("dim 0 must be divisible by groups")
    values = np.zeros(tensor.shape)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """U(±gain · sqrt(6 / (fan_in + fan_out))) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """N(0, gain² · 2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """U(±gain · sqrt(3 / fan)) with gain = calculate_gain(nonlinearity, a) (He et al., 2015)."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """N(0, gain² / fan) with gain = calculate_gain(nonlinearity, a) (He et al., 2015)."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al., 2013)."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # makes the decomposition unique (uniformly distributed q)
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


# ----------------------------------------------------------------- the notes' schemes
def _fan_in(tensor: Tensor) -> int:
    return _calculate_fan_in_and_fan_out(tensor)[0]


def he_normal_(tensor: Tensor, generator=None) -> Tensor:
    """w = N(0, 1) · sqrt(2 / n), n the number of inputs (fan-in): for ReLU layers.

    References:
        000 §7.3 ("Relu activation"); 002 ("variance of 2/N"); He et al., "Delving Deep into
        Rectifiers", ICCV 2015, arXiv:1502.01852. Equals ``kaiming_normal_(w, nonlinearity='relu')``.
    """
    return normal_(tensor, 0.0, math.sqrt(2.0 / _fan_in(tensor)), generator)


def xavier_fan_in_normal_(tensor: Tensor, generator=None) -> Tensor:
    """w = N(0, 1) · sqrt(1 / n), n the fan-in: for tanh layers.

    000 §7.3 and 002 call this *Xavier initialization*; PyTorch's ``xavier_normal_`` instead
    uses variance 2 / (fan_in + fan_out) (Glorot & Bengio's compromise). It is also known as
    LeCun normal initialisation.

    References:
        000 §7.3 ("Tanh activation"); 002 ("variance of 1/N").
    """
    return normal_(tensor, 0.0, math.sqrt(1.0 / _fan_in(tensor)), generator)


def glorot_uniform_(tensor: Tensor, generator=None) -> Tensor:
    """W ~ U(-sqrt(6 / (n + r)), sqrt(6 / (n + r))) for n inputs and r outputs.

    References:
        003 §2.4; Glorot & Bengio, "Understanding the difficulty of training deep feedforward
        neural networks", AISTATS 2010. Equals ``xavier_uniform_(w)``.
    """
    n, r = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(6.0 / (n + r))
    return uniform_(tensor, -bound, bound, generator)


def uniform_fan_in_(tensor: Tensor, fan_in: int | None = None, generator=None) -> Tensor:
    """W ~ U(-n^-0.5, n^-0.5) for n inputs (003 §2.4's first heuristic).

    Works for biases too when ``fan_in`` is given (PyTorch's default ``Linear`` bias is this).
    """
    n = fan_in if fan_in is not None else _fan_in(tensor)
    bound = 1.0 / math.sqrt(n)
    return uniform_(tensor, -bound, bound, generator)


def small_gaussian_(tensor: Tensor, std: float = 1e-2, generator=None) -> Tensor:
    """W ~ N(0, 0.01²): "small random numbers", fine for small networks only (002)."""
    return normal_(tensor, 0.0, std, generator)


def relu_bias_(tensor: Tensor, value: float = 0.1) -> Tensor:
    """Biases of ReLU units set slightly positive, "say 0.1", to avoid saturation (003 §2.4)."""
    return constant_(tensor, value)


def output_marginals_(module, targets, output: str = "softmax", eps: float = 1e-6):
    """Zero the output layer's weights and set its biases so that, at initialisation, the
    network's output equals the marginal distribution of the training targets (003 §2.4).

    Args:
        module: the output layer, with ``weight`` and ``bias`` (e.g. ``nn.Linear``).
        targets: training targets: class indices ``(N,)`` or probabilities ``(N, C)`` for
            ``'softmax'``; 0/1 labels ``(N,)`` or ``(N, C)`` for ``'sigmoid'``; values
            ``(N,)`` or ``(N, C)`` for ``'regression'``.
        output: ``'softmax'`` (b = log class frequency: softmax(b) = the frequencies),
            ``'sigmoid'`` (b = logit(p): σ(b) = p) or ``'regression'`` (b = target mean).
        eps: frequencies are clipped to [eps, 1 - eps] so that empty classes get a finite bias.

    Returns:
        ``module``.
    """
    t = targets.array if isinstance(targets, Tensor) else np.asarray(targets)
    n_out = module.bias.shape[0]
    if output == "softmax":
        if t.dtype.kind in "iu":
            freq = np.bincount(t.ravel(), minlength=n_out)[:n_out] / t.size
        else:
            freq = t.reshape(-1, n_out).mean(axis=0)
        bias = np.log(np.clip(freq, eps, None))
    elif output == "sigmoid":
        p = np.clip(t.reshape(t.shape[0], -1).mean(axis=0), eps, 1 - eps)
        bias = np.log(p) - np.log1p(-p)
    elif output == "regression":
        bias = t.reshape(t.shape[0], -1).mean(axis=0)
    else:
        raise ValueError(f"output_marginals_: output must be 'softmax', 'sigmoid' or 'regression', got {output!r}")
    if bias.size not in (1, n_out):
        raise ValueError(f"output_marginals_: targets give {bias.size} marginals for a layer with {n_out} outputs")
    zeros_(module.weight)
    _fill(module.bias, np.broadcast_to(bias, module.bias.shape))
    return module
