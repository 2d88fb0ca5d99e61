"""Convolution layers (``torch.nn.Conv*d``, ``ConvTranspose*d``) and the causal 1-d convolution.

Each layer is a filter bank: ``out_channels`` learned kernels of shape
``(in_channels/groups, *kernel_size)`` slid over the input, plus one bias per filter
(001 §8: "several filters in parallel", "activation function and bias"; 004 Def. 6.18).
"""

from __future__ import annotations

import math

import deepnum
from deepnum.nn.functional.conv import (
    conv_pads,
    conv_transposend,
    convnd,
    ntuple,
    pad,
    transpose_out_sizes,
)
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "CausalConv1d",
    "Unfold",
    "Fold",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _uniform_init(weight, bias) -> None:
    """PyTorch's default: kaiming_uniform_(a=√5) ⇒ weight, bias ~ U(±1/√fan_in)."""
    fan_in = weight.shape[1] * math.prod(weight.shape[2:])
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    with deepnum.no_grad():
        weight.uniform_(-bound, bound)
        if bias is not None:
            bias.uniform_(-bound, bound)


class _ConvNd(Module):
    _nd = 0
    _transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        groups,
        bias,
        padding_mode,
        output_padding=0,
        dtype=None,
    ) -> None:
        super().__init__()
        nd, name = self._nd, type(self).__name__
        if groups < 1 or in_channels % groups:
            raise ValueError(
                f"{name}: in_channels={in_channels} must be divisible by groups={groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"{name}: out_channels={out_channels} must be divisible by groups={groups}"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, nd, f"{name}: kernel_size")
        self.stride = ntuple(stride, nd, f"{name}: stride")
        self.dilation = ntuple(dilation, nd, f"{name}: dilation")
        self.padding = (
            padding if isinstance(padding, str) else ntuple(padding, nd, f"{name}: padding")
        )
        self.output_padding = ntuple(output_padding, nd, f"{name}: output_padding")
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, self._transposed
        # validates 'same' with strides etc. at construction, as PyTorch does
        self._pads = conv_pads(
            self.padding, self.kernel_size, self.dilation, self.stride, nd, name
        )
        dtype = deepnum.get_default_dtype() if dtype is None else dtype
        shape = (
            (in_channels, out_channels // groups)
            if self._transposed
            else (out_channels, in_channels // groups)
        ) + self.kernel_size
        self.weight = Parameter(deepnum.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(deepnum.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_init(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else f", padding={self.padding}"
            )
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype=dtype,
        )

    def forward(self, input):
        padding = self.padding
        if self.padding_mode != "zeros":
            # other modes pad explicitly first (PyTorch's _reversed_padding_repeated_twice)
            flat = [p for lo_hi in reversed(self._pads) for p in lo_hi]
            if input.ndim in (self._nd + 1, self._nd + 2):
                input = pad(input, flat, mode=self.padding_mode)
            padding = 0
        return convnd(
            input,
            self.weight,
            self.bias,
            self.stride,
            padding,
            self.dilation,
            self.groups,
            self._nd,
            type(self).__name__,
        )


class Conv1d(_Conv):
    """1-d convolution layer ``y = b + w ⋆ x`` over ``(N, C_in, L)`` (001 eq. 31).

    Args: in_channels, out_channels, kernel_size, stride=1, padding=0 (int, tuple, 'valid',
    'same', or 'causal' for left-only padding), dilation=1, groups=1, bias=True,
    padding_mode='zeros' ('reflect', 'replicate', 'circular').
    Shape: ``(N, C_in, L_in)`` → ``(N, C_out, ⌊(L_in + 2p − d(k−1) − 1)/s⌋ + 1)``.
    Parameters: weight ``(C_out, C_in/groups, k)`` and bias ``(C_out,)``, both U(±1/√fan_in).
    """

    _nd = 1


class Conv2d(_Conv):
    """2-d convolution layer ``y[n,o] = b[o] + Σ_c w[o,c] ⋆ x[n,c]`` (001 eq. 31; 004 Def. 6.18).

    Args: as ``Conv1d``; sizes may be ints or ``(h, w)`` tuples.
    Shape: ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``) → ``(N, C_out, H_out, W_out)``.
    Parameters: weight ``(C_out, C_in/groups, kH, kW)``, bias ``(C_out,)``, U(±1/√fan_in).

    Examples:
        >>> conv = Conv2d(1, 6, 5)
        >>> conv(deepnum.zeros(64, 1, 28, 28)).shape
        deepnum.Size([64, 6, 24, 24])

    References: 001 §8; 003 §3.2 (stride, padding); LeCun et al. 1998, "Gradient-based
    learning applied to document recognition".
    """

    _nd = 2


class Conv3d(_Conv):
    """3-d convolution layer over ``(N, C_in, D, H, W)`` (volumes, video; 003 §3.3)."""

    _nd = 3


class CausalConv1d(Conv1d):
    """Causal 1-d convolution: left padding ``d·(k−1)`` so ``y[t]`` sees only ``x[≤ t]`` (001 §8).

    The output has the input's length. Same arguments as ``Conv1d`` without ``padding``.
    References: van den Oord et al. 2016, "WaveNet", arXiv:1609.03499.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        dilation=1,
        groups=1,
        bias=True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            "causal",
            dilation,
            groups,
            bias,
            dtype=dtype,
        )


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}"
            )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            dtype=dtype,
        )

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = tuple(output_size)[-nd:]
        base = transpose_out_sizes(
            input.shape[-nd:], self.kernel_size, self.stride, self._pads, self.dilation, (0,) * nd
        )
        extra = tuple(o - b for o, b in zip(size, base))
        if any(e < 0 or e >= max(s, d) for e, s, d in zip(extra, self.stride, self.dilation)):
            raise ValueError(
                f"{type(self).__name__}: requested output size {size} is not reachable; "
                f"valid sizes lie between {base} and "
                f"{tuple(b + max(s, d) - 1 for b, s, d in zip(base, self.stride, self.dilation))}"
            )
        return extra

    def forward(self, input, output_size=None):
        return conv_transposend(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
            self._nd,
            type(self).__name__,
        )


class ConvTranspose1d(_ConvTranspose):
    """1-d transposed convolution: the input-gradient of ``Conv1d`` used as a layer (001 §8).

    Shape: ``L_out = (L_in − 1)·s − 2p + d·(k − 1) + output_padding + 1``.
    Parameters: weight ``(C_in, C_out/groups, k)``, bias ``(C_out,)``.
    """

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """2-d transposed ("fractionally strided") convolution; upsamples by ``stride`` (001 §8).

    References: Zeiler et al. 2010, "Deconvolutional networks"; Dumoulin & Visin 2016, "A guide
    to convolution arithmetic for deep learning", arXiv:1603.07285.
    """

    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """3-d transposed convolution."""

    _nd = 3


class Unfold(Module):
    """Extract sliding local blocks (im2col): ``(N, C, H, W)`` → ``(N, C·kH·kW, L)``."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (
            kernel_size,
            dilation,
            padding,
            stride,
        )

    def forward(self, input):
        return deepnum.nn.functional.unfold(
            input, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """Sum sliding local blocks back into an image (col2im), the adjoint of ``Unfold``."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return deepnum.nn.functional.fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
