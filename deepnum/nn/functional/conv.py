"""Convolutions, transposed convolutions, padding and sliding blocks (``torch.nn.functional``).

All of them are cross-correlations, as in every deep-learning framework (003 §3.2: "in most
CNNs, the kernel is not flipped"); ``deepnum.nn.filters.convolve`` gives the true convolution
of 001 eq. 24/31 by flipping the kernel (001 eq. 26).
"""

from __future__ import annotations

import deepnum
from deepnum.autograd.function import will_record
from deepnum.ops.conv import ConvNd, ConvTransposeNd, Fold, Unfold
from deepnum.ops.conv_fft import ConvFFT
from deepnum.tensor import Tensor

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "pad",
    "unfold",
    "fold",
    "conv1d_fft",
    "conv2d_fft",
]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def ntuple(value, n: int, name: str = "argument") -> tuple:
    """``value`` as an n-tuple of ints (an int is repeated, a sequence must have length n)."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {tuple(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def conv_pads(padding, kernel, dilation, stride, nd: int, name: str) -> tuple:
    """Per-axis ``(lo, hi)`` zero padding from an int, a tuple, 'valid', 'same' or 'causal'.

    'same' keeps the size for stride 1 (an odd total goes one more to the right, as PyTorch);
    'causal' pads only on the left by ``d·(k−1)`` so output t sees inputs ≤ t (001 §8).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride})"
                )
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in totals)
        if padding == "causal":
            if nd != 1:
                raise ValueError(f"{name}: padding='causal' is defined for 1-d convolutions only")
            return ((dilation[0] * (kernel[0] - 1), 0),)
        raise ValueError(
            f"{name}: invalid padding string {padding!r}, should be one of "
            "'valid', 'same' or 'causal'"
        )
    p = ntuple(padding, nd, f"{name}: padding")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{name}: negative padding is not supported, got padding={p}")
    return tuple((v, v) for v in p)


def _batched(input, nd: int, name: str, channels: int, groups: int):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{name}(in_channels={channels}): expected input of shape "
            f"(N, {channels}, {_SPATIAL[nd]}) or ({channels}, {_SPATIAL[nd]}), "
            f"got {tuple(input.shape)}"
        )
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    if x.shape[1] != channels:
        config = f"in_channels={channels}" + (f", groups={groups}" if groups != 1 else "")
        raise RuntimeError(
            f"{name}({config}): expected input of shape "
            f"({'' if unbatched else 'N, '}{channels}, {_SPATIAL[nd]}), "
            f"got {tuple(input.shape)}"
        )
    return x, unbatched


def _check_dtypes(name, x, weight, bias):
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise RuntimeError(
                f"{name}: input type ({x.dtype}) and {what} type ({t.dtype}) should be the same"
            )


def convnd(
    input, weight, bias, stride, padding, dilation, groups, nd: int, name: str | None = None
):
    """Shared body of ``conv1d/2d/3d`` (``name`` is the layer or function in error messages)."""
    name = name or f"conv{nd}d"
    kernel = tuple(weight.shape[2:])
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{name}: expected a {nd + 2}-d weight (out_channels, in_channels/groups, "
            f"{_SPATIAL[nd]}), got shape {tuple(weight.shape)}"
        )
    if groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(
            f"{name}: out_channels={weight.shape[0]} must be divisible by groups={groups}"
        )
    stride = ntuple(stride, nd, f"{name}: stride")
    dilation = ntuple(dilation, nd, f"{name}: dilation")
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise RuntimeError(
            f"{name}: stride and dilation must be positive, got stride={stride}, "
            f"dilation={dilation}"
        )
    pads = conv_pads(padding, kernel, dilation, stride, nd, name)
    x, unbatched = _batched(input, nd, name, weight.shape[1] * groups, groups)
    _check_dtypes(name, x, weight, bias)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    effective = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < e for p, e in zip(padded, effective)):
        raise RuntimeError(
            f"{name}(kernel_size={kernel}, padding={padding}, dilation={dilation}): "
            f"the padded input size {padded} is smaller than the (dilated) kernel "
            f"size {effective}; input shape {tuple(input.shape)}"
        )
    keep = will_record(x, weight, bias)  # a backward pass will want the im2col block
    y = ConvNd.apply(x, weight, bias, stride, pads, dilation, groups, keep)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation ``y[n,o,t] = b[o] + Σ_{c,k} w[o,c,k] x[n,c,s·t + d·k − p]``.

    References: 001 eq. 31.

    ``padding`` may also be ``'causal'``: left padding only, so y[t] depends on x[≤ t] (001 §8).
    Shape: input ``(N, C_in, L)`` or ``(C_in, L)``; weight ``(C_out, C_in/groups, k)``.
    """
    return convnd(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation ``y[n,o,i,j] = b[o] + Σ_{c,a,b} w[o,c,a,b] x[n,c,s·i + d·a − p, …]``.

    Shape: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``; weight ``(C_out, C_in/groups, kH, kW)``.

    Examples:
        >>> x = deepnum.ones(1, 1, 4, 4)
        >>> conv2d(x, deepnum.ones(1, 1, 3, 3)).shape
        deepnum.Size([1, 1, 2, 2])

    References: 001 eq. 31; 004 Def. 6.18, Fig. 6.19.
    """
    return convnd(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d cross-correlation over ``(D, H, W)`` (volumes, video; 003 §3.3)."""
    return convnd(input, weight, bias, stride, padding, dilation, groups, 3)


def transpose_out_sizes(sizes, kernel, stride, pads, dilation, output_padding):
    """``(L−1)·s − 2p + d·(k−1) + output_padding + 1`` per axis."""
    return tuple(
        (n - 1) * s - lo - hi + d * (k - 1) + op + 1
        for n, k, s, (lo, hi), d, op in zip(sizes, kernel, stride, pads, dilation, output_padding)
    )


def conv_transposend(
    input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name=None
):
    """Shared body of ``conv_transpose1d/2d/3d``: the adjoint of ``conv`` in its input."""
    name = name or f"conv_transpose{nd}d"
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{name}: expected a {nd + 2}-d weight (in_channels, out_channels/groups, "
            f"{_SPATIAL[nd]}), got shape {tuple(weight.shape)}"
        )
    kernel = tuple(weight.shape[2:])
    stride = ntuple(stride, nd, f"{name}: stride")
    dilation = ntuple(dilation, nd, f"{name}: dilation")
    output_padding = ntuple(output_padding, nd, f"{name}: output_padding")
    if isinstance(padding, str):
        raise ValueError(f"{name}: padding must be an int or a tuple, got {padding!r}")
    pads = conv_pads(padding, kernel, dilation, stride, nd, name)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{name}: output padding must be smaller than either stride or dilation, "
            f"got output_padding={output_padding}, stride={stride}, dilation={dilation}"
        )
    if groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(
            f"{name}: in_channels={weight.shape[0]} must be divisible by groups={groups}"
        )
    x, unbatched = _batched(input, nd, name, weight.shape[0], groups)
    _check_dtypes(name, x, weight, bias)
    sizes = transpose_out_sizes(x.shape[2:], kernel, stride, pads, dilation, output_padding)
    if any(s < 1 for s in sizes):
        raise RuntimeError(
            f"{name}: output size {sizes} is too small for input {tuple(input.shape)} "
            f"with padding={padding}"
        )
    y = ConvTransposeNd.apply(x, weight, bias, stride, pads, dilation, groups, sizes)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """1-d transposed convolution: the input-gradient of ``conv1d`` as a layer (001 §8)."""
    return conv_transposend(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 1
    )


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """2-d transposed convolution; weight ``(C_in, C_out/groups, kH, kW)`` (001 §8).

    References: Zeiler et al. 2010, "Deconvolutional networks".
    """
    return conv_transposend(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 2
    )


def conv_transpose3d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """3-d transposed convolution."""
    return conv_transposend(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 3
    )


def pad(input, pad, mode: str = "constant", value=None):
    """Pad the last ``len(pad)//2`` axes; ``pad = (left_last, right_last, left_prev, ...)``.

    Modes: 'constant' (``value``, default 0), 'reflect', 'replicate' (edge values, 003 §3.2,
    004 Ex. 6.20), 'circular'. The same function as ``deepnum.pad``.
    """
    return deepnum.pad(input, pad, mode=mode, value=value)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks (im2col): ``(N, C, H, W)`` → ``(N, C·kH·kW, L)``."""
    nd = input.ndim - 2
    if nd != 2:
        raise NotImplementedError(
            f"unfold: expected a 4-d input (N, C, H, W), got {tuple(input.shape)}"
        )
    kernel = ntuple(kernel_size, nd, "unfold: kernel_size")
    pads = conv_pads(padding, kernel, ntuple(dilation, nd), ntuple(stride, nd), nd, "unfold")
    return Unfold.apply(input, kernel, ntuple(stride, nd), pads, ntuple(dilation, nd))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image (col2im): ``(N, C·kH·kW, L)`` → ``(N, C, H, W)``."""
    nd = 2
    kernel = ntuple(kernel_size, nd, "fold: kernel_size")
    size = ntuple(output_size, nd, "fold: output_size")
    stride, dilation = ntuple(stride, nd), ntuple(dilation, nd)
    pads = conv_pads(padding, kernel, dilation, stride, nd, "fold")
    blocks = 1
    for n, k, s, d, (lo, hi) in zip(size, kernel, stride, dilation, pads):
        blocks *= (n + lo + hi - d * (k - 1) - 1) // s + 1
    k_total = kernel[0] * kernel[1]
    if input.ndim != 3 or input.shape[1] % k_total or input.shape[2] != blocks:
        raise RuntimeError(
            f"fold(output_size={size}, kernel_size={kernel}): expected input of shape "
            f"(N, C·{k_total}, {blocks}), got {tuple(input.shape)}"
        )
    return Fold.apply(input, size, kernel, stride, pads, dilation)


def conv_fftnd(input, weight, bias, padding, nd: int):
    """Shared body of ``conv1d_fft`` / ``conv2d_fft``."""
    name = f"conv{nd}d_fft"
    kernel = tuple(weight.shape[2:])
    pads = conv_pads(padding, kernel, (1,) * nd, (1,) * nd, nd, name)
    x, unbatched = _batched(input, nd, name, weight.shape[1], 1)
    _check_dtypes(name, x, weight, bias)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    if any(p < k for p, k in zip(padded, kernel)):
        raise RuntimeError(
            f"{name}(kernel_size={kernel}, padding={padding}): the padded input size "
            f"{padded} is smaller than the kernel; input shape {tuple(input.shape)}"
        )
    y = ConvFFT.apply(x, weight, bias, pads)
    return y.squeeze(0) if unbatched else y


def conv1d_fft(input, weight, bias=None, padding=0):
    """``conv1d`` (stride 1, groups 1) by the convolution theorem ``F⁻¹(conj(F w)·F x)``.

    References: 001 eq. 30.

    Same result as ``conv1d`` up to float rounding; faster for long kernels.
    """
    return conv_fftnd(input, weight, bias, padding, 1)


def conv2d_fft(input, weight, bias=None, padding=0):
    """``conv2d`` (stride 1, dilation 1, groups 1) via real 2-d FFTs (001 eq. 29-30; 003 §3.4).

    Cost per output does not grow with the kernel size, so large kernels run faster than
    the im2col GEMM of ``conv2d``; results agree up to float rounding.
    """
    return conv_fftnd(input, weight, bias, padding, 2)
