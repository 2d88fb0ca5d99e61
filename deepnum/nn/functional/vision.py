"""Resizing, resampling and comparing feature vectors (``torch.nn.functional``):
``interpolate``, ``pixel_shuffle``, ``affine_grid``/``grid_sample`` (spatial transformers),
``normalize``, ``cosine_similarity``, ``pairwise_distance``.

All are compositions of differentiable ops (indexing, reshapes, matrix products, norms), so
their gradients, including higher-order ones, come from those ops.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import deepnum
from deepnum.nn.functional.pooling import adaptive_avg_poolnd, resample_along
from deepnum.ops._util import as_tensor_arg
from deepnum.tensor import Tensor

__all__ = [
    "normalize",
    "cosine_similarity",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "interpolate",
    "upsample",
    "affine_grid",
    "grid_sample",
]


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
        raise RuntimeError(
            f"pixel_shuffle: channels ({c}) must be divisible by upscale_factor**2 = {r * r} (input shape {tuple(x.shape)})"
        )
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
        raise RuntimeError(
            f"pixel_unshuffle: height ({h}) and width ({w}) must be divisible by downscale_factor = {r}"
        )
    n = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_SPATIAL_DIMS = {**_LINEAR, "bicubic": 2}  # the modes defined for one input rank only
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_CUBIC_A = -0.75  # Keys' cubic convolution parameter, PyTorch's (and OpenCV's) choice
_ANTIALIAS_CUBIC_A = -0.5  # antialiased bicubic follows PIL, which uses Keys' own choice


def _step(in_size: int, out_size: int, scale, align_corners=False) -> float:
    """Input pixels per output pixel ``s``: ``(in−1)/(out−1)`` (0 for one output) with
    ``align_corners``, else ``1/scale_factor`` if given, else ``in/out``."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _source_index(out_size: int, in_size: int, scale, mode: str, align_corners):
    """Where output position i reads from, in input coordinates (PyTorch's conventions)."""
    dst = np.arange(out_size, dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):
        s = _step(in_size, out_size, scale)
        src = np.floor((dst + 0.5) * s) if mode == "nearest-exact" else np.floor(dst * s)
        return np.minimum(src.astype(np.int64), in_size - 1)
    if align_corners:
        return dst * _step(in_size, out_size, scale, True)
    src = (dst + 0.5) * _step(in_size, out_size, scale) - 0.5
    return src if mode == "bicubic" else np.maximum(src, 0.0)


def _cubic_near(d, a: float = _CUBIC_A):
    """Inner piece of Keys' cubic kernel, ``(a+2)d³ − (a+3)d² + 1``, for ``0 ≤ d ≤ 1``.

    Plain arithmetic, so ``d`` may be an array or a differentiable Tensor.
    """
    return ((a + 2) * d - (a + 3)) * d * d + 1


def _cubic_far(d, a: float = _CUBIC_A):
    """Outer piece of Keys' cubic kernel, ``a·d³ − 5a·d² + 8a·d − 4a``, for ``1 ≤ d ≤ 2``."""
    return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a


def _cubic_kernel(d: np.ndarray, a: float = _CUBIC_A) -> np.ndarray:
    """Keys' cubic convolution kernel ``W(d)`` (``a = _CUBIC_A`` unless given).

    ``W(d) = (a+2)|d|³ − (a+3)|d|² + 1`` for ``|d| ≤ 1``,
    ``W(d) = a|d|³ − 5a|d|² + 8a|d| − 4a`` for ``1 < |d| < 2``, and 0 beyond.
    """
    d = np.abs(d)
    return np.where(d <= 1, _cubic_near(d, a), np.where(d < 2, _cubic_far(d, a), 0.0))


def _bicubic_matrix(in_size: int, out_size: int, scale, align_corners) -> np.ndarray:
    """``M (out, in)`` with ``y = M x`` the cubic interpolation of x along one axis.

    Output i reads the four inputs ``⌊x_i⌋ − 1 … ⌊x_i⌋ + 2`` around its source coordinate
    ``x_i`` with weights ``W(x_i − j)``; taps beyond the border read the edge input
    (replicate), so their weights add up on it.
    """
    src = _source_index(out_size, in_size, scale, "bicubic", align_corners)
    base = np.floor(src)
    rows = np.arange(out_size)
    matrix = np.zeros((out_size, in_size))
    for offset in (-1, 0, 1, 2):
        taps = np.clip(base + offset, 0, in_size - 1).astype(np.int64)
        np.add.at(matrix, (rows, taps), _cubic_kernel(src - (base + offset)))
    return matrix


def _triangle_kernel(d: np.ndarray) -> np.ndarray:
    """The linear interpolation kernel ``max(0, 1 − |d|)``."""
    return np.maximum(0.0, 1.0 - np.abs(d))


_ANTIALIAS_KERNELS = {
    "bilinear": _triangle_kernel,
    "bicubic": lambda d: _cubic_kernel(d, _ANTIALIAS_CUBIC_A),
}


def _antialias_matrix(in_size: int, out_size: int, scale, align_corners, mode: str) -> np.ndarray:
    """``M (out, in)`` of antialiased (PIL-style) resampling along one axis.

    With step ``s`` (``_step``) and stretch ``σ = max(s, 1)``, output i is centred at
    ``c_i = s·(i + ½)`` in input coordinates, whose pixel j covers ``[j, j + 1)``, and

        ``M[i, j] = K((j + ½ − c_i)/σ) / Σ_j' K((j' + ½ − c_i)/σ)``

    over the pixels inside the image (a zero sum is left unnormalised), where ``K`` is the
    triangle (bilinear) or Keys' cubic kernel with ``a = −½`` (bicubic). Downsampling
    (``s > 1``) widens the kernel to ``σ`` times its support, averaging every input it
    covers; upsampling keeps it, so it interpolates, renormalised at the borders instead of
    replicating the edge pixel. ``align_corners`` changes only ``s``, not the centres ``c_i``.
    An axis whose size does not change is copied as is, whatever the scale factor.
    """
    if in_size == out_size:
        return np.eye(in_size)
    step = _step(in_size, out_size, scale, align_corners)
    stretch = max(step, 1.0)
    centres = step * (np.arange(out_size) + 0.5)
    offsets = (np.arange(in_size) + 0.5)[None, :] - centres[:, None]
    weights = _ANTIALIAS_KERNELS[mode](offsets / stretch)
    totals = weights.sum(axis=1, keepdims=True)
    return weights / np.where(totals == 0, 1.0, totals)


def _check_antialias(mode: str, spatial_dims: int) -> None:
    """PyTorch's ValueError where ``antialias=True`` has no meaning."""
    if mode not in _ANTIALIAS_KERNELS or spatial_dims != 2:
        raise ValueError(
            "Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D "
            "tensor as input"
        )


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dimensions of ``(N, C, *spatial)`` input (1 to 3 of them).

    Modes, as ``torch.nn.functional.interpolate``:

    - ``'nearest'``: index ``⌊i · s⌋``; ``'nearest-exact'``: ``⌊(i + ½) · s⌋``.
    - ``'linear' / 'bilinear' / 'trilinear'`` (1, 2, 3 spatial dims): separable linear
      interpolation between the two inputs around the source coordinate ``x_i``.
    - ``'bicubic'`` (2 spatial dims): separable cubic convolution of the four inputs
      ``⌊x_i⌋ − 1 … ⌊x_i⌋ + 2`` (indices clamped to the border) with weights ``W(x_i − j)``,
      ``W(d) = (A+2)|d|³ − (A+3)|d|² + 1`` for ``|d| ≤ 1``,
      ``W(d) = A|d|³ − 5A|d|² + 8A|d| − 4A`` for ``1 < |d| < 2``, 0 beyond, ``A = −0.75``.
      It overshoots: outputs may leave the range of the inputs.
    - ``'area'``: the mean over the windows ``[⌊i·in/out⌋, ⌈(i+1)·in/out⌉)``, i.e.
      ``adaptive_avg_pool{1,2,3}d`` to the output size.

    The source coordinate of output i is ``x_i = i·(in−1)/(out−1)`` with ``align_corners=True``,
    else ``x_i = (i + ½)·s − ½``, clamped at 0 by the linear modes but not by bicubic. The
    step ``s`` is ``1/scale_factor`` when ``scale_factor`` is given and
    ``recompute_scale_factor`` is not True, else ``in/out``.

    ``antialias=True`` (``'bilinear'`` and ``'bicubic'``, 4-D input only) resamples each axis
    as PIL does: output i is centred at ``c_i = s·(i + ½)`` (``s = (in−1)/(out−1)`` with
    ``align_corners=True``), input j at ``j + ½``, and

        ``y_i = Σ_j K((j + ½ − c_i)/σ) x_j / Σ_j K((j + ½ − c_i)/σ)``,  ``σ = max(s, 1)``,

    summed over the inputs inside the image; ``K`` is the triangle ``max(0, 1 − |d|)``
    (bilinear) or the cubic ``W`` above with ``A = −0.5`` (bicubic). When downsampling the
    kernel is widened by the factor ``s``, so every input under it contributes (a low-pass
    filter against aliasing); when upsampling it keeps its width and interpolates, and the
    weights are renormalised at the borders instead of repeating the edge pixel, so bilinear
    upsampling without ``align_corners`` equals the plain result. An axis whose size does not
    change is left as is.

    Shape:
        input ``(N, C, *spatial)``; output ``(N, C, *size)`` or ``(N, C, *floor(spatial·scale))``.

    Examples:
        >>> x = deepnum.tensor([[[[0.0, 1.0, 0.0]]]])
        >>> interpolate(x, size=(1, 5), mode="bicubic")
        tensor([[[[-0.0960,  0.4600,  1.0000,  0.4600, -0.0960]]]])
        >>> ramp = deepnum.arange(8.0).reshape(1, 1, 1, 8)
        >>> interpolate(ramp, size=(1, 4), mode="bilinear", antialias=True)
        tensor([[[[0.7143, 2.5000, 4.5000, 6.2857]]]])
    """
    x = as_tensor_arg(input)
    k = x.ndim - 2
    if k < 1 or k > 3:
        raise ValueError(
            f"interpolate: expected 3-D, 4-D or 5-D input (N, C, *spatial), got shape {tuple(x.shape)}"
        )
    if mode not in _MODES:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not supported; use 'nearest', 'nearest-exact', "
            "'linear', 'bilinear', 'bicubic', 'trilinear' or 'area'"
        )
    if antialias:
        _check_antialias(mode, k)
    if mode in _SPATIAL_DIMS and _SPATIAL_DIMS[mode] != k:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} expects {_SPATIAL_DIMS[mode]} spatial dims, "
            f"got input of shape {tuple(x.shape)}"
        )
    if mode not in _SPATIAL_DIMS and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    spatial = tuple(x.shape[2:])
    if size is not None:
        sizes = (size,) * k if isinstance(size, (int, np.integer)) else tuple(size)
        scales = (None,) * k
    else:
        scales = (
            (scale_factor,) * k if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        )
        sizes = tuple(int(math.floor(n * s)) for n, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * k
    if len(sizes) != k:
        raise ValueError(
            f"interpolate: size {sizes} must have {k} entries for input of shape {tuple(x.shape)}"
        )
    if mode != "area" and min(spatial + sizes) < 1:
        raise RuntimeError(
            f"interpolate: input and output sizes should be greater than 0, but got input "
            f"{spatial} and output {sizes}"
        )
    if mode == "area":
        return adaptive_avg_poolnd(x, sizes, k)
    out = x
    for axis, (n_in, n_out, scale) in enumerate(zip(spatial, sizes, scales)):
        dim = axis + 2
        if antialias:
            matrix = _antialias_matrix(n_in, n_out, scale, align_corners, mode).astype(x.dtype)
            out = resample_along(out, dim, deepnum.from_numpy(matrix))
        elif mode == "bicubic":
            matrix = _bicubic_matrix(n_in, n_out, scale, align_corners).astype(x.dtype)
            out = resample_along(out, dim, deepnum.from_numpy(matrix))
        elif mode in _LINEAR:
            src = _source_index(n_out, n_in, scale, mode, align_corners)
            lo = np.floor(src).astype(np.int64)
            hi = np.minimum(lo + 1, n_in - 1)
            lam = (src - lo).astype(x.dtype).reshape((n_out,) + (1,) * (x.ndim - dim - 1))
            a = deepnum.index_select(out, dim, deepnum.from_numpy(lo))
            b = deepnum.index_select(out, dim, deepnum.from_numpy(hi))
            out = a * deepnum.from_numpy(1 - lam) + b * deepnum.from_numpy(lam)
        else:
            src = _source_index(n_out, n_in, scale, mode, align_corners)
            out = deepnum.index_select(out, dim, deepnum.from_numpy(src))
    return out


def upsample(
    input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None
) -> Tensor:
    """Deprecated PyTorch name of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def _base_coords(n: int, align_corners: bool, dtype) -> np.ndarray:
    """Normalised [-1, 1] coordinates of n pixels: their centres, or their edges' ends if aligned."""
    if align_corners:
        return np.linspace(-1.0, 1.0, n, dtype=dtype) if n > 1 else np.zeros(1, dtype)
    return ((2.0 * np.arange(n) + 1.0) / n - 1.0).astype(dtype)


def affine_grid(theta, size, align_corners: bool = False) -> Tensor:
    """Sampling grid ``grid[n, …] = theta[n] @ (x, y[, z], 1)`` for ``grid_sample``.

    The base grid holds every output pixel's normalised coordinates (``_base_coords``), x
    along the last axis.

    Shape:
        2-D: theta ``(N, 2, 3)``, size ``(N, C, H, W)`` -> grid ``(N, H, W, 2)`` of (x, y);
        3-D: theta ``(N, 3, 4)``, size ``(N, C, D, H, W)`` -> grid ``(N, D, H, W, 3)`` of (x, y, z).
    """
    t = as_tensor_arg(theta)
    nd = len(size) - 2
    if nd not in (2, 3) or t.ndim != 3 or tuple(t.shape[1:]) != (nd, nd + 1) or t.shape[0] != size[0]:
        raise ValueError(
            "affine_grid: expected theta (N, 2, 3) with size (N, C, H, W), or theta (N, 3, 4) "
            f"with size (N, C, D, H, W), the same N; got theta {tuple(t.shape)} and size {tuple(size)}"
        )
    spatial = tuple(size[2:])
    axes = [_base_coords(n, align_corners, t.dtype) for n in spatial]  # (z,) y, x
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([*mesh[::-1], np.ones(spatial, t.dtype)], -1)  # (…, x, y[, z], 1)
    grid = deepnum.matmul(
        Tensor._make(base.reshape(1, -1, nd + 1), False, None, 0), t.transpose(1, 2)
    )
    return grid.reshape(size[0], *spatial, nd)


def _constant(array: np.ndarray) -> Tensor:
    """A tensor that takes no gradient, for indices, masks and coefficients."""
    return Tensor._make(array, False, None, 0)


def _unnormalize(coord: Tensor, n: int, align_corners: bool) -> Tensor:
    return (coord + 1) * ((n - 1) / 2) if align_corners else ((coord + 1) * n - 1) / 2


def _mirror_terms(c: np.ndarray, n: int, align_corners: bool):
    """``(slope, shift)`` with ``slope·c + shift`` the mirror image of c inside the image.

    The mirror line is at the outer pixels' centres (align_corners) or their outer edges, i.e.
    the interval [lo, hi] = [0, n−1] or [−½, n−½]; a coordinate c at distance a = |c − lo| from
    lo maps to lo + (a mod span) after an even number of flips and to lo + span − (a mod span)
    after an odd one (span = hi − lo). None when the interval is a single point.
    """
    lo, hi = (0.0, n - 1.0) if align_corners else (-0.5, n - 0.5)
    span = hi - lo
    if span <= 0:
        return None
    side = np.where(c < lo, -1.0, 1.0)
    flips = np.floor(side * (c - lo) / span)
    odd = flips % 2 == 1
    slope = np.where(odd, -side, side)
    shift = np.where(odd, lo + span + flips * span + side * lo, lo - flips * span - side * lo)
    return slope, shift


def _reflect(coord: Tensor, n: int, align_corners: bool) -> Tensor:
    """Fold a pixel coordinate back into the image by mirror reflection (``_mirror_terms``),
    then clip to [0, n−1]. Piecewise ``±c + b``: the slope ±1 carries the gradient."""
    terms = _mirror_terms(coord.array.astype(np.float64), n, align_corners)
    if terms is None:
        return coord * 0
    slope, shift = (_constant(t.astype(coord.dtype)) for t in terms)
    return deepnum.clamp(coord * slope + shift, 0, n - 1)


def _pad_index(index: np.ndarray, n: int, padding_mode: str, align_corners: bool) -> np.ndarray:
    """Where an integer tap index reads under ``padding_mode``: itself for ``'zeros'`` (read
    as 0 when outside), the nearest edge pixel for ``'border'``, the mirrored pixel (as
    ``_reflect``) for ``'reflection'``."""
    if padding_mode == "zeros":
        return index
    if padding_mode == "reflection":
        terms = _mirror_terms(index.astype(np.float64), n, align_corners)
        if terms is None:
            return np.zeros_like(index)
        slope, shift = terms
        index = np.rint(slope * index + shift).astype(np.int64)
    return np.clip(index, 0, n - 1)


def _read_pixels(channels_last: Tensor, index) -> Tensor:
    """``channels_last[n, i_1, …, i_d, :]`` at integer indices shaped like the grid
    ``(N, *out)``; indices outside the image read 0."""
    sizes = channels_last.shape[1:-1]
    inside = np.ones(index[0].shape, dtype=bool)
    for i, n in zip(index, sizes):
        inside &= (i >= 0) & (i < n)
    clipped = [np.clip(i, 0, n - 1) for i, n in zip(index, sizes)]
    batch = np.arange(channels_last.shape[0]).reshape((-1,) + (1,) * len(sizes))
    at = tuple(_constant(i) for i in np.broadcast_arrays(batch, *clipped))
    return channels_last[at] * _constant(inside[..., None].astype(channels_last.dtype))


def _sample_nearest(channels_last: Tensor, coords) -> Tensor:
    """The pixel closest to each position (ties to even, as ``rint``)."""
    return _read_pixels(channels_last, [np.rint(c.array).astype(np.int64) for c in coords])


def _sample_linear(channels_last: Tensor, coords) -> Tensor:
    """``Σ_corners Π_axes (1 − |c − corner|) · pixel(corner)`` over the 2^d pixels around c."""
    lows = [np.floor(c.array) for c in coords]
    highs = [(c - _constant(lo)).unsqueeze(-1) for c, lo in zip(coords, lows)]
    weights = [(1 - w_hi, w_hi) for w_hi in highs]  # (toward the low, the high neighbour)
    lows = [lo.astype(np.int64) for lo in lows]
    out = 0
    for corner in itertools.product((0, 1), repeat=len(coords)):
        weight = weights[0][corner[0]]
        for axis in range(1, len(coords)):
            weight = weight * weights[axis][corner[axis]]
        pixels = _read_pixels(channels_last, [lo + bit for lo, bit in zip(lows, corner)])
        out = out + pixels * weight
    return out


def _cubic_tap_weights(t: Tensor):
    """Weights ``W(t + 1), W(t), W(1 − t), W(2 − t)`` of the taps ``⌊c⌋ − 1 … ⌊c⌋ + 2`` at
    fractional position ``t = c − ⌊c⌋ ∈ [0, 1)``: polynomials in t, so differentiable."""
    return [_cubic_far(t + 1), _cubic_near(t), _cubic_near(1 - t), _cubic_far(2 - t)]


def _sample_bicubic(
    channels_last: Tensor, coords, padding_mode: str, align_corners: bool
) -> Tensor:
    """``Σ_{i,j} W(t_y, i) W(t_x, j) · pixel(⌊y⌋ − 1 + i, ⌊x⌋ − 1 + j)``, i, j = 0 … 3.

    ``coords = (y, x)`` are unclipped pixel coordinates; padding acts on each tap's index
    (``_pad_index``). Each row of four taps is interpolated along x, then the rows along y.
    """
    sizes = channels_last.shape[1:-1]
    floors = [np.floor(c.array) for c in coords]
    fractions = [(c - _constant(f)).unsqueeze(-1) for c, f in zip(coords, floors)]
    weights = [_cubic_tap_weights(t) for t in fractions]
    taps = [
        [
            _pad_index(f.astype(np.int64) + offset, n, padding_mode, align_corners)
            for offset in (-1, 0, 1, 2)
        ]
        for f, n in zip(floors, sizes)
    ]
    out = 0
    for row, weight_y in zip(taps[0], weights[0]):
        line = 0
        for col, weight_x in zip(taps[1], weights[1]):
            line = line + _read_pixels(channels_last, [row, col]) * weight_x
        out = out + line * weight_y
    return out


def grid_sample(
    input, grid, mode: str = "bilinear", padding_mode: str = "zeros", align_corners=None
) -> Tensor:
    """Read ``input`` at the positions of ``grid``, normalised to [-1, 1] (2-D or 3-D).

    A normalised coordinate u becomes the pixel coordinate ``(u + 1)(n − 1)/2`` with
    ``align_corners=True`` (±1 are the outer pixels' centres), else ``((u + 1)n − 1)/2`` (±1
    are their outer edges). ``bilinear`` (trilinear for 5-D input) mixes the 2^d neighbours with
    weights ``Π_axes (1 − |c − corner|)``, linear in the position, so the grid gets gradients
    too; ``nearest`` takes the closest pixel (ties to even, as ``rint``). Outside the image,
    ``padding_mode='zeros'`` reads 0, ``'border'`` clips the coordinate to the edge pixels and
    ``'reflection'`` mirrors it back inside (``_reflect``).

    ``bicubic`` (4-D input only) is cubic convolution over the 4×4 pixels around (x, y):
    ``Σ_{i,j} W(y − (⌊y⌋ − 1 + i)) W(x − (⌊x⌋ − 1 + j)) · pixel(⌊y⌋ − 1 + i, ⌊x⌋ − 1 + j)``
    with Keys' kernel ``W`` of ``interpolate(mode='bicubic')`` (``A = −0.75``). Its coordinate is
    never clipped or reflected; instead each of the 16 taps goes through the padding rule on
    its own: ``'zeros'`` reads 0 outside the image, ``'border'`` reads the nearest edge pixel,
    ``'reflection'`` the mirrored (then clipped) pixel. The weights are polynomials of the
    fractional parts, which gives the grid its gradient.

    Shape:
        input ``(N, C, H, W)``, grid ``(N, Ho, Wo, 2)`` of (x, y) -> ``(N, C, Ho, Wo)``;
        input ``(N, C, D, H, W)``, grid ``(N, Do, Ho, Wo, 3)`` of (x, y, z) -> ``(N, C, Do, Ho, Wo)``.
    """
    x, g = as_tensor_arg(input), as_tensor_arg(grid)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got {mode!r}"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}"
        )
    nd = x.ndim - 2
    if nd not in (2, 3) or g.ndim != x.ndim or g.shape[-1] != nd or g.shape[0] != x.shape[0]:
        raise ValueError(
            "grid_sample: expected input (N, C, H, W) with grid (N, Ho, Wo, 2), or input "
            "(N, C, D, H, W) with grid (N, Do, Ho, Wo, 3), the same N; "
            f"got input {tuple(x.shape)} and grid {tuple(g.shape)}"
        )
    if mode == "bicubic" and nd != 2:
        raise RuntimeError(
            "grid_sample: bicubic interpolation only supports 4-D input, got shape "
            f"{tuple(x.shape)}"
        )
    align = bool(align_corners)
    sizes = x.shape[2:]
    # pixel coordinate along each spatial axis (D,) H, W; the grid lists x first
    coords = [_unnormalize(g[..., nd - 1 - axis], n, align) for axis, n in enumerate(sizes)]
    channels_last = deepnum.movedim(x, 1, -1)  # (N, *S, C): one gather reads all channels
    if mode == "bicubic":
        return deepnum.movedim(_sample_bicubic(channels_last, coords, padding_mode, align), -1, 1)
    if padding_mode == "border":
        coords = [deepnum.clamp(c, 0, n - 1) for c, n in zip(coords, sizes)]
    elif padding_mode == "reflection":
        coords = [_reflect(c, n, align) for c, n in zip(coords, sizes)]
    if mode == "nearest":
        out = _sample_nearest(channels_last, coords)
    else:
        out = _sample_linear(channels_last, coords)
    return deepnum.movedim(out, -1, 1)
