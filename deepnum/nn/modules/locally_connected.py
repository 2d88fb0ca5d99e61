"""Unshared and tiled convolutions (003 §3.2): between a convolution and a dense layer.

A *locally connected* layer ("unshared convolution") looks at the same local windows as a
convolution but learns a separate filter bank at every output position:
``y[n,o,p] = b[o,p] + Σ_{c,t} w[p,o,c,t] · x[n,c,s·p + d·t − pad]``.
*Tiled convolution* learns ``t_h·t_w`` filter banks and rotates through them as it moves
over the image: position ``(i, j)`` uses bank ``(i mod t_h, j mod t_w)``; ``tile_size=1``
is an ordinary convolution, a tile as large as the output a locally connected layer.
Both gather windows with ``F.unfold`` (one im2col) and contract them with batched matrix
products, so autograd differentiates them through existing ops.

References: 003 §3.2; Goodfellow, Bengio & Courville 2016, "Deep Learning" §9.5;
Le et al. 2010, "Tiled convolutional neural networks" (NeurIPS).
"""

from __future__ import annotations

import math

import deepnum
from deepnum.nn import functional as F
from deepnum.nn.functional.conv import ntuple
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter

__all__ = ["LocallyConnected1d", "LocallyConnected2d", "TiledConv2d"]


def _out_sizes(size, kernel, stride, padding, dilation, name):
    out = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)
    )
    if any(o < 1 for o in out):
        raise ValueError(
            f"{name}: kernel_size={kernel} (dilation={dilation}) does not fit the padded "
            f"input size {tuple(n + 2 * p for n, p in zip(size, padding))}"
        )
    return out


def _init(weight, bias, fan_in) -> None:
    bound = 1 / math.sqrt(fan_in)  # as Conv2d: U(±1/√fan_in)
    with deepnum.no_grad():
        weight.uniform_(-bound, bound)
        if bias is not None:
            bias.uniform_(-bound, bound)


def _check_input(name, x, channels, size):
    expected = (channels, *size)
    if x.ndim != len(size) + 2 or tuple(x.shape[1:]) != expected:
        dims = ", ".join(str(v) for v in expected)
        raise RuntimeError(
            f"{name}(in_channels={channels}, input_size={tuple(size)}): expected input of "
            f"shape (N, {dims}), got {tuple(x.shape)}"
        )


def _set_window(layer, nd, kernel_size, stride, padding, dilation) -> None:
    """Store a layer's window geometry as ``nd``-tuples; errors name the layer and argument."""
    name = type(layer).__name__
    layer.kernel_size = ntuple(kernel_size, nd, f"{name}: kernel_size")
    layer.stride = ntuple(stride, nd, f"{name}: stride")
    layer.padding = ntuple(padding, nd, f"{name}: padding")
    layer.dilation = ntuple(dilation, nd, f"{name}: dilation")


class _LocallyConnectedNd(Module):
    """``y[n,o,p] = b[o,p] + Σ_{c,t} w[p,o,c,t] · x[n,c,s·p + d·t − pad]`` over ``_nd`` axes."""

    _nd = 0

    def __init__(
        self,
        in_channels,
        out_channels,
        input_size,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        bias=True,
        dtype=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels, self.out_channels = in_channels, out_channels
        self.input_size = ntuple(input_size, self._nd, f"{name}: input_size")
        _set_window(self, self._nd, kernel_size, stride, padding, dilation)
        self.output_size = _out_sizes(
            self.input_size, self.kernel_size, self.stride, self.padding, self.dilation, name
        )
        dtype = dtype or deepnum.get_default_dtype()
        shape = (*self.output_size, out_channels, in_channels, *self.kernel_size)
        self.weight = Parameter(deepnum.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(deepnum.empty(out_channels, *self.output_size, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _init(self.weight, self.bias, self.in_channels * math.prod(self.kernel_size))

    def forward(self, input):
        _check_input(type(self).__name__, input, self.in_channels, self.input_size)
        n = input.shape[0]
        k, d, p, s = self.kernel_size, self.dilation, self.padding, self.stride
        if self._nd == 1:  # a sequence is an image of height 1
            input = input.unsqueeze(2)
            k, d, p, s = (1, *k), (1, *d), (0, *p), (1, *s)
        cols = F.unfold(input, k, d, p, s)  # (N, C·K, L)
        w = self.weight.reshape(math.prod(self.output_size), self.out_channels, -1)  # (L, O, C·K)
        y = cols.permute(2, 0, 1) @ w.transpose(1, 2)  # one (N, CK) @ (CK, O) product per position
        y = y.permute(1, 2, 0).reshape(n, self.out_channels, *self.output_size)
        return y + self.bias if self.bias is not None else y


class LocallyConnected2d(_LocallyConnectedNd):
    """Unshared 2-d convolution: a separate filter bank at every output position (003 §3.2).

    Args: in_channels, out_channels, input_size ``(H, W)`` (the layer is tied to it),
    kernel_size, stride=1, padding=0, dilation=1, bias=True.
    Shape: ``(N, C_in, H, W)`` → ``(N, C_out, H_out, W_out)`` with Conv2d's output sizes.
    Parameters: weight ``(H_out, W_out, C_out, C_in, kH, kW)`` and bias ``(C_out, H_out, W_out)``,
    U(±1/√(C_in·kH·kW)).

    Examples:
        >>> layer = LocallyConnected2d(1, 4, (8, 8), 3)
        >>> layer(deepnum.zeros(2, 1, 8, 8)).shape
        deepnum.Size([2, 4, 6, 6])
    """

    _nd = 2

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
            + (", bias=False" if self.bias is None else "")
        )


class LocallyConnected1d(_LocallyConnectedNd):
    """Unshared 1-d convolution over ``(N, C_in, L)``: one filter bank per output step (003 §3.2).

    Parameters: weight ``(L_out, C_out, C_in, k)``, bias ``(C_out, L_out)``.
    """

    _nd = 1

    def __init__(
        self,
        in_channels,
        out_channels,
        input_length,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        bias=True,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            int(input_length),
            kernel_size,
            stride,
            padding,
            dilation,
            bias,
            dtype,
        )
        self.input_length = self.input_size[0]
        self.output_length = self.output_size[0]

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, input_length={self.input_length}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        )


class TiledConv2d(Module):
    """Tiled convolution: ``t_h·t_w`` filter banks rotated over positions (003 §3.2).

    ``y[n,o,i,j] = b[i mod t_h, j mod t_w, o] + Σ_{c,a,b} w[i mod t_h, j mod t_w, o, c, a, b] ·
    x[n, c, s·i + d·a − p, s·j + d·b − p]``.

    Args: in_channels, out_channels, kernel_size, tile_size=2 (int or ``(t_h, t_w)``), stride=1,
    padding=0, dilation=1, bias=True.
    Parameters: weight ``(t_h, t_w, C_out, C_in, kH, kW)``, bias ``(t_h, t_w, C_out)``,
    U(±1/√(C_in·kH·kW)). Any input size is accepted, as for a convolution.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        tile_size=2,
        stride=1,
        padding=0,
        dilation=1,
        bias=True,
        dtype=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels, self.out_channels = in_channels, out_channels
        self.tile_size = ntuple(tile_size, 2, f"{name}: tile_size")
        _set_window(self, 2, kernel_size, stride, padding, dilation)
        if min(self.tile_size) < 1:
            raise ValueError(f"{name}: tile_size must be positive, got {self.tile_size}")
        dtype = dtype or deepnum.get_default_dtype()
        self.weight = Parameter(
            deepnum.empty(
                *self.tile_size, out_channels, in_channels, *self.kernel_size, dtype=dtype
            )
        )
        if bias:
            self.bias = Parameter(deepnum.empty(*self.tile_size, out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _init(self.weight, self.bias, self.in_channels * math.prod(self.kernel_size))

    def forward(self, input):
        name = type(self).__name__
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise RuntimeError(
                f"{name}(in_channels={self.in_channels}): expected input of shape "
                f"(N, {self.in_channels}, H, W), got {tuple(input.shape)}"
            )
        n = input.shape[0]
        oh, ow = _out_sizes(
            input.shape[2:], self.kernel_size, self.stride, self.padding, self.dilation, name
        )
        th, tw = self.tile_size
        ph, pw = -(-oh // th), -(-ow // tw)  # tiles per axis (the last may be partial)
        cols = F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)
        ck = cols.shape[1]
        cols = cols.reshape(n, ck, oh, ow)
        if ph * th != oh or pw * tw != ow:
            cols = F.pad(cols, (0, pw * tw - ow, 0, ph * th - oh))
        # (N, CK, ph, th, pw, tw) -> (th, tw, N·ph·pw, CK): one product per filter bank
        cols = (
            cols.reshape(n, ck, ph, th, pw, tw).permute(3, 5, 0, 2, 4, 1).reshape(th * tw, -1, ck)
        )
        w = self.weight.reshape(th * tw, self.out_channels, ck)
        y = cols @ w.transpose(1, 2)  # (T, N·ph·pw, O)
        if self.bias is not None:
            y = y + self.bias.reshape(th * tw, 1, self.out_channels)
        y = y.reshape(th, tw, n, ph, pw, self.out_channels).permute(2, 5, 3, 0, 4, 1)
        return y.reshape(n, self.out_channels, ph * th, pw * tw)[:, :, :oh, :ow]

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"tile_size={self.tile_size}, stride={self.stride}, padding={self.padding}"
        )
