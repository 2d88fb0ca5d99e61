"""Pooling (``torch.nn.functional``): max, average, power-average (L2) and adaptive pools.

The pooling stage replaces each output by a summary of its neighbourhood — the maximum, the
average or the L2 norm (003 §3.1); the 2×2 stride-2 max pool halves each side (002).
"""

from __future__ import annotations

import math

import numpy as np

import deepnum
from deepnum.nn.functional.conv import _SPATIAL, ntuple
from deepnum.ops.pool import (
    AdaptiveMaxPoolNd,
    AvgPoolNd,
    MaxPoolNd,
    adaptive_bounds,
    avg_pool_geometry,
    flat_indices,
    max_pool_argmax,
    pool_geometry,
)
from deepnum.tensor import Tensor

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]

def _batched(input, nd: int, name: str):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{name}: expected input of shape (N, C, {_SPATIAL[nd]}) or "
            f"(C, {_SPATIAL[nd]}), got {tuple(input.shape)}"
        )
    return (input.unsqueeze(0), True) if input.ndim == nd + 1 else (input, False)


def _pool_args(nd, name, kernel_size, stride, padding, dilation=1):
    kernel = ntuple(kernel_size, nd, f"{name}: kernel_size")
    stride = (
        kernel
        if stride is None or (isinstance(stride, (tuple, list)) and not stride)
        else ntuple(stride, nd, f"{name}: stride")
    )
    padding = ntuple(padding, nd, f"{name}: padding")
    dilation = ntuple(dilation, nd, f"{name}: dilation")
    if any(k < 1 for k in kernel) or any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(
            f"{name}: kernel_size, stride and dilation must be positive, got "
            f"kernel_size={kernel}, stride={stride}, dilation={dilation}"
        )
    if any(p < 0 or p > (d * (k - 1) + 1) // 2 for p, k, d in zip(padding, kernel, dilation)):
        raise RuntimeError(
            f"{name}(kernel_size={kernel}): pad should be at most half of the "
            f"effective kernel size, got padding={padding}"
        )
    return kernel, stride, padding, dilation


def _check_size(name, x, kernel, padding, dilation, outs):
    if any(o < 1 for o in outs):
        raise RuntimeError(
            f"{name}(kernel_size={kernel}, padding={padding}, dilation={dilation}): "
            f"output size {outs} is too small for input {tuple(x.shape)}"
        )


def max_poolnd(
    input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, name=None
):
    """Shared body of ``max_pool1d/2d/3d``."""
    name = name or f"max_pool{nd}d"
    kernel, stride, padding, dilation = _pool_args(
        nd, name, kernel_size, stride, padding, dilation
    )
    x, unbatched = _batched(input, nd, name)
    outs, _ = pool_geometry(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    _check_size(name, input, kernel, padding, dilation, outs)
    out = MaxPoolNd.apply(x, kernel, stride, padding, dilation, ceil_mode)
    y = out.squeeze(0) if unbatched else out
    if not return_indices:
        return y
    arg = max_pool_argmax(x.array, out.array, kernel, stride, padding, dilation, ceil_mode)
    flat = flat_indices(arg, kernel, stride, padding, dilation, input.shape[-nd:])
    return y, deepnum.tensor(flat[0] if unbatched else flat)


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """``y[n,c,t] = max_k x[n,c,s·t + d·k − p]`` (003 §3.1; padding counts as −∞)."""
    return max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """``y[n,c,i,j] = max_{a,b} x[n,c,s·i + d·a − p, s·j + d·b − p]`` (003 §3.1; 2×2/2 in 002).

    Examples:
        >>> x = deepnum.arange(16.0).reshape(1, 1, 4, 4)
        >>> max_pool2d(x, 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    return max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """3-d max pooling over ``(D, H, W)``."""
    return max_poolnd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def avg_poolnd(
    input,
    kernel_size,
    stride,
    padding,
    ceil_mode,
    count_include_pad,
    divisor_override,
    nd,
    name=None,
):
    """Shared body of ``avg_pool1d/2d/3d``."""
    name = name or f"avg_pool{nd}d"
    kernel, stride, padding, _ = _pool_args(nd, name, kernel_size, stride, padding)
    x, unbatched = _batched(input, nd, name)
    outs, extra, inv = avg_pool_geometry(
        x.shape[2:],
        kernel,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
        x.dtype,
    )
    _check_size(name, input, kernel, padding, (1,) * nd, outs)
    y = AvgPoolNd.apply(x, kernel, stride, padding, outs, extra, inv)
    return y.squeeze(0) if unbatched else y


def avg_pool1d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
):
    """``y[n,c,t] = (1/k) Σ_j x[n,c,s·t + j − p]`` (003 §3.1)."""
    return avg_poolnd(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Mean over each ``kH×kW`` window; ``count_include_pad`` counts zero padding (003 §3.1)."""
    return avg_poolnd(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2
    )


def avg_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Mean over each ``kD×kH×kW`` window."""
    return avg_poolnd(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3
    )


def lp_poolnd(input, norm_type, kernel_size, stride, ceil_mode, nd):
    """``y = (Σ_window x^p)^{1/p}``: p = 2 is the L2 pooling of 003 §3.1, p → ∞ the max pool."""
    kernel = ntuple(kernel_size, nd, f"lp_pool{nd}d: kernel_size")
    out = avg_poolnd(
        input.pow(norm_type), kernel, stride, 0, ceil_mode, True, None, nd, f"lp_pool{nd}d"
    )
    size = math.prod(kernel)
    # the sign·relu(|·|) guard is PyTorch's: negative sums (odd p) give 0 rather than NaN
    return (deepnum.sign(out) * deepnum.relu(deepnum.abs(out))).mul(size).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over 1-d windows: ``(Σ x^p)^{1/p}`` (003 §3.1)."""
    return lp_poolnd(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over 2-d windows; ``norm_type=2`` is L2 pooling (003 §3.1)."""
    return lp_poolnd(input, norm_type, kernel_size, stride, ceil_mode, 2)


def _adaptive_matrix(n: int, o: int, dtype) -> Tensor:
    """``A (o, n)`` averaging each adaptive window: ``A[i, j] = 1/|window i|`` for j in it."""
    start, end = adaptive_bounds(n, o)
    j = np.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return deepnum.tensor((inside / (end - start)[:, None]).astype(dtype))


def _output_size(output_size, sizes, nd, name):
    size = (
        ntuple(output_size if output_size is not None else 0, nd, f"{name}: output_size")
        if not isinstance(output_size, (tuple, list))
        else tuple(output_size)
    )
    if len(size) != nd:
        raise ValueError(f"{name}: output_size must have {nd} entries, got {output_size}")
    return tuple(n if o is None else int(o) for o, n in zip(size, sizes))


def resample_along(x: Tensor, dim: int, matrix: Tensor) -> Tensor:
    """``y[..., o, ...] = Σ_i matrix[o, i] · x[..., i, ...]`` along ``dim``: one matrix product."""
    return deepnum.movedim(deepnum.movedim(x, dim, -1) @ matrix.t(), -1, dim)


def adaptive_avg_poolnd(input, output_size, nd):
    """Shared body of ``adaptive_avg_pool1d/2d/3d`` (and of ``interpolate(mode='area')``).

    Average over adaptive windows, one spatial axis at a time: ``y = x ×_a A_a`` for each
    axis a, with ``A_a`` of ``_adaptive_matrix`` (separable)."""
    name = f"adaptive_avg_pool{nd}d"
    x, unbatched = _batched(input, nd, name)
    size = _output_size(output_size, x.shape[2:], nd, name)
    y = x
    for axis, (n, o) in enumerate(zip(x.shape[2:], size)):
        y = resample_along(y, 2 + axis, _adaptive_matrix(n, o, x.dtype))
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """Average over ``output_size`` windows ``[⌊iL/O⌋, ⌈(i+1)L/O⌉)``: a product ``x @ Aᵀ``."""
    return adaptive_avg_poolnd(input, output_size, 1)


def adaptive_avg_pool2d(input, output_size):
    """Average over adaptive windows in H and W: ``y = A_H · x · A_Wᵀ`` (separable)."""
    return adaptive_avg_poolnd(input, output_size, 2)


def adaptive_avg_pool3d(input, output_size):
    """Average over adaptive windows in D, H and W (separable, one axis at a time)."""
    return adaptive_avg_poolnd(input, output_size, 3)


def _adaptive_max_poolnd(input, output_size, return_indices, nd):
    name = f"adaptive_max_pool{nd}d"
    x, unbatched = _batched(input, nd, name)
    size = _output_size(output_size, x.shape[2:], nd, name)
    y, index = AdaptiveMaxPoolNd.apply(x, size)
    if unbatched:
        y, index = y.squeeze(0), index.squeeze(0)
    return (y, index) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over adaptive 1-d windows ``[⌊iL/O⌋, ⌈(i+1)L/O⌉)``."""
    return _adaptive_max_poolnd(input, output_size, return_indices, 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over the adaptive windows of ``adaptive_avg_pool2d``."""
    return _adaptive_max_poolnd(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over adaptive windows in D, H and W."""
    return _adaptive_max_poolnd(input, output_size, return_indices, 3)

def _unpool_size(name, x, kernel, stride, padding, output_size, nd) -> tuple:
    """``(L − 1)·s + k − 2p`` per axis, or ``output_size`` (spatial, or with N and C in front)
    if it lies strictly within one stride of that, as PyTorch."""
    default = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(x.shape[2:], kernel, stride, padding))
    if output_size is None:
        return default
    size = tuple(int(v) for v in output_size)
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(
            f"{name}: output_size should have {nd} or {nd + 2} elements, got {len(size)} ({size})"
        )
    for d, (o, m, s) in enumerate(zip(size, default, stride)):
        if not m - s < o < m + s:
            raise ValueError(
                f"{name}: invalid output_size {size} (dim {d} must be between {m - s} and {m + s})"
            )
    return size


def max_unpoolnd(input, indices, kernel_size, stride, padding, output_size, nd, name=None):
    """Shared body of ``max_unpool1d/2d/3d``: ``y[n, c, indices[n, c, p]] = x[n, c, p]``, zeros
    elsewhere, where ``indices`` are the flat per-plane positions ``max_pool`` returned with
    ``return_indices=True``. The gradient gathers ``g`` back at the same positions."""
    name = name or f"max_unpool{nd}d"
    kernel, stride, padding, _ = _pool_args(nd, name, kernel_size, stride, padding)
    x, unbatched = _batched(input, nd, name)
    index = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if index.shape != tuple(input.shape):
        raise RuntimeError(
            f"{name}: indices must have the input's shape {tuple(input.shape)}, got {index.shape}"
        )
    if not np.issubdtype(index.dtype, np.integer):
        raise RuntimeError(f"{name}: indices must be integers, got dtype {index.dtype}")
    size = _unpool_size(name, x, kernel, stride, padding, output_size, nd)
    plane = math.prod(size)
    bad = (index < 0) | (index >= plane)
    if bad.any():
        raise RuntimeError(
            f"{name}: found an invalid max index {int(index[bad].flat[0])} "
            f"(output planes are of size {'x'.join(map(str, size))}, {plane} positions)"
        )
    n, c = x.shape[:2]
    flat_index = deepnum.tensor(index.reshape(n, c, -1).astype(np.int64, copy=False))
    zeros = deepnum.zeros((n, c, plane), dtype=x.dtype)
    y = zeros.scatter(2, flat_index, x.reshape(n, c, -1)).reshape(n, c, *size)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: each value back at its argmax, zeros elsewhere."""
    return max_unpoolnd(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: each value back at its argmax, zeros elsewhere.

    Examples:
        >>> x = deepnum.tensor([[[[1.0, 5.0], [3.0, 2.0]]]])
        >>> y, idx = max_pool2d(x, 2, return_indices=True)
        >>> max_unpool2d(y, idx, 2)
        tensor([[[[0., 5.],
                  [0., 0.]]]])
    """
    return max_unpoolnd(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``: each value back at its argmax, zeros elsewhere."""
    return max_unpoolnd(input, indices, kernel_size, stride, padding, output_size, 3)
