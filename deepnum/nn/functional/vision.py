"""Resizing and comparing feature vectors (``torch.nn.functional``): ``interpolate``,
``pixel_shuffle``, ``normalize``, ``cosine_similarity``, ``pairwise_distance``.

All are compositions of differentiable ops (indexing, reshapes, norms), so their gradients,
including higher-order ones, come from those ops.
"""

from __future__ import annotations

import math

import numpy as np

import deepnum
from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Tensor

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle",
           "interpolate", "upsample"]


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``x / max(‖x‖_p, eps)`` along ``dim``: unit vectors, safe for zero vectors.

    Examples:
        >>> normalize(deepnum.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    x = as_tensor_arg(input)
    norm = deepnum.norm(x, p, dim, keepdim=True)
    return x / deepnum.clamp_min(norm, eps)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``Σ x1·x2 / (max(‖x1‖, eps) · max(‖x2‖, eps))`` along ``dim`` (inputs broadcast)."""
    a, b = as_tensor_arg(x1), as_tensor_arg(x2)
    na = deepnum.clamp_min(deepnum.norm(a, 2, dim, keepdim=True), eps)
    nb = deepnum.clamp_min(deepnum.norm(b, 2, dim, keepdim=True), eps)
    return ((a / na) * (b / nb)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``‖x1 - x2 + eps‖_p`` over the last dimension, as ``torch.nn.functional.pairwise_distance``."""
    a, b = as_tensor_arg(x1), as_tensor_arg(x2)
    return deepnum.norm(a - b + eps, p, -1, keepdim=keepdim)


def pixel_shuffle(input, upscale_factor: int) -> Tensor:
    """``(*, C·r², H, W) -> (*, C, H·r, W·r)``: channels become an r×r block of pixels (sub-pixel conv)."""
    x = as_tensor_arg(input)
    r = int(upscale_factor)
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle: channels ({c}) must be divisible by upscale_factor**2 = {r * r} (input shape {tuple(x.shape)})")
    n = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor: int) -> Tensor:
    """The inverse of ``pixel_shuffle``: ``(*, C, H·r, W·r) -> (*, C·r², H, W)``."""
    x = as_tensor_arg(input)
    r = int(downscale_factor)
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle: height ({h}) and width ({w}) must be divisible by downscale_factor = {r}")
    n = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _source_index(out_size: int, in_size: int, scale, mode: str, align_corners):
    """Where output position i reads from, in input coordinates (PyTorch's conventions)."""
    dst = np.arange(out_size, dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):
        s = in_size / out_size if scale is None else 1.0 / scale
        src = np.floor((dst + 0.5) * s) if mode == "nearest-exact" else np.floor(dst * s)
        return np.minimum(src.astype(np.int64), in_size - 1)
    if align_corners:
        return dst * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    s = in_size / out_size if scale is None else 1.0 / scale
    return np.maximum((dst + 0.5) * s - 0.5, 0.0)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions of ``(N, C, *spatial)`` input (1 to 3 of them).

    ``mode``: ``'nearest'`` (index ``floor(i · in/out)``), ``'nearest-exact'``, or
    ``'linear' / 'bilinear' / 'trilinear'`` (separable linear interpolation; with
    ``align_corners=False`` source ``(i + ½)·in/out − ½`` clamped at 0, with True
    ``i·(in−1)/(out−1)``), as ``torch.nn.functional.interpolate``.

    Shape:
        input ``(N, C, *spatial)``; output ``(N, C, *size)`` or ``(N, C, *floor(spatial·scale))``.
    """
    x = as_tensor_arg(input)
    k = x.ndim - 2
    if k < 1 or k > 3:
        raise ValueError(f"interpolate: expected 3-D, 4-D or 5-D input (N, C, *spatial), got shape {tuple(x.shape)}")
    if mode not in ("nearest", "nearest-exact", *_LINEAR):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; use 'nearest', 'nearest-exact', 'linear', 'bilinear' or 'trilinear'")
    if mode in _LINEAR and _LINEAR[mode] != k:
        raise NotImplementedError(f"interpolate: mode {mode!r} expects {_LINEAR[mode]} spatial dims, got input of shape {tuple(x.shape)}")
    if mode not in _LINEAR and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    spatial = tuple(x.shape[2:])
    if size is not None:
        sizes = (size,) * k if isinstance(size, (int, np.integer)) else tuple(size)
        scales = (None,) * k
    else:
        scales = (scale_factor,) * k if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        sizes = tuple(int(math.floor(n * s)) for n, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * k
    if len(sizes) != k:
        raise ValueError(f"interpolate: size {sizes} must have {k} entries for input of shape {tuple(x.shape)}")
    out = x
    for axis, (n_in, n_out, scale) in enumerate(zip(spatial, sizes, scales)):
        dim = axis + 2
        src = _source_index(n_out, n_in, scale, mode, align_corners)
        if mode in _LINEAR:
            lo = np.floor(src).astype(np.int64)
            hi = np.minimum(lo + 1, n_in - 1)
            lam = (src - lo).astype(x.dtype).reshape((n_out,) + (1,) * (x.ndim - dim - 1))
            a = deepnum.index_select(out, dim, deepnum.from_numpy(lo))
            b = deepnum.index_select(out, dim, deepnum.from_numpy(hi))
            out = a * deepnum.from_numpy(1 - lam) + b * deepnum.from_numpy(lam)
        else:
            out = deepnum.index_select(out, dim, deepnum.from_numpy(src))
    return out


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """Deprecated PyTorch name of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)
