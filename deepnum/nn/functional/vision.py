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
from deepnum.nn.functional.pooling import adaptive_avg_poolnd
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
    src = (dst + 0.5) * s - 0.5
    return src if mode == "bicubic" else np.maximum(src, 0.0)


def _cubic_kernel(d: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel ``W(d)`` with ``A = _CUBIC_A``.

    ``W(d) = (A+2)|d|³ − (A+3)|d|² + 1`` for ``|d| ≤ 1``,
    ``W(d) = A|d|³ − 5A|d|² + 8A|d| − 4A`` for ``1 < |d| < 2``, and 0 beyond.
    """
    a, d = _CUBIC_A, np.abs(d)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


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


def _resample_along(x: Tensor, dim: int, matrix: Tensor) -> Tensor:
    """``y[..., o, ...] = Σ_i matrix[o, i] · x[..., i, ...]`` along ``dim``: one matrix product."""
    moved = deepnum.movedim(x, dim, -1)
    return deepnum.movedim(moved @ matrix.t(), -1, dim)


def _check_antialias(mode: str, spatial_dims: int) -> None:
    """Refuse ``antialias=True``: PyTorch's ValueError where it has no meaning, else unsupported."""
    if mode not in ("bilinear", "bicubic") or spatial_dims != 2:
        raise ValueError(
            "Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D "
            "tensor as input"
        )
    raise NotImplementedError(f"interpolate: antialias=True is not supported (mode {mode!r})")


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
    ``recompute_scale_factor`` is not True, else ``in/out``. ``antialias=True`` is not supported.

    Shape:
        input ``(N, C, *spatial)``; output ``(N, C, *size)`` or ``(N, C, *floor(spatial·scale))``.

    Examples:
        >>> x = deepnum.tensor([[[[0.0, 1.0, 0.0]]]])
        >>> interpolate(x, size=(1, 5), mode="bicubic")
        tensor([[[[-0.0960,  0.4600,  1.0000,  0.4600, -0.0960]]]])
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
    if mode in _SPATIAL_DIMS and _SPATIAL_DIMS[mode] != k:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} expects {_SPATIAL_DIMS[mode]} spatial dims, "
            f"got input of shape {tuple(x.shape)}"
        )
    if mode not in _SPATIAL_DIMS and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    if antialias:
        _check_antialias(mode, k)
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
        if mode == "bicubic":
            matrix = _bicubic_matrix(n_in, n_out, scale, align_corners).astype(x.dtype)
            out = _resample_along(out, dim, deepnum.from_numpy(matrix))
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


def _unnormalize(coord: Tensor, n: int, align_corners: bool) -> Tensor:
    return (coord + 1) * ((n - 1) / 2) if align_corners else ((coord + 1) * n - 1) / 2


def _reflect(coord: Tensor, n: int, align_corners: bool) -> Tensor:
    """Fold a pixel coordinate back into the image by mirror reflection, then clip to [0, n−1].

    The mirror line is at the outer pixels' centres (align_corners) or their outer edges, i.e.
    the interval [lo, hi] = [0, n−1] or [−½, n−½]; a coordinate c at distance a = |c − lo| from
    lo maps to lo + (a mod span) after an even number of flips and to lo + span − (a mod span)
    after an odd one (span = hi − lo). Piecewise ``±c + b``: the slope ±1 carries the gradient.
    """
    lo, hi = (0.0, n - 1.0) if align_corners else (-0.5, n - 0.5)
    span = hi - lo
    if span <= 0:
        return coord * 0
    c = coord.array.astype(np.float64)
    side = np.where(c < lo, -1.0, 1.0)
    a = side * (c - lo)
    flips = np.floor(a / span)
    odd = flips % 2 == 1
    slope = np.where(odd, -side, side)
    shift = np.where(odd, lo + span + flips * span + side * lo, lo - flips * span - side * lo)
    folded = coord * Tensor._make(slope.astype(coord.dtype), False, None, 0) + Tensor._make(
        shift.astype(coord.dtype), False, None, 0
    )
    return deepnum.clamp(folded, 0, n - 1)


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

    Shape:
        input ``(N, C, H, W)``, grid ``(N, Ho, Wo, 2)`` of (x, y) -> ``(N, C, Ho, Wo)``;
        input ``(N, C, D, H, W)``, grid ``(N, Do, Ho, Wo, 3)`` of (x, y, z) -> ``(N, C, Do, Ho, Wo)``.
    """
    x, g = as_tensor_arg(input), as_tensor_arg(grid)
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(
            f"grid_sample: mode {mode!r} is not supported; use 'bilinear' or 'nearest'"
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
    align = bool(align_corners)
    sizes = x.shape[2:]
    coords = []  # pixel coordinate along each spatial axis (D,) H, W; the grid lists x first
    for axis, n in enumerate(sizes):
        c = _unnormalize(g[..., nd - 1 - axis], n, align)
        if padding_mode == "border":
            c = deepnum.clamp(c, 0, n - 1)
        elif padding_mode == "reflection":
            c = _reflect(c, n, align)
        coords.append(c)
    channels_last = deepnum.movedim(x, 1, -1)  # (N, *S, C): one gather reads all channels
    batch = np.arange(x.shape[0]).reshape((-1,) + (1,) * nd)

    def read(index) -> Tensor:
        inside = np.ones(index[0].shape, dtype=bool)
        for i, n in zip(index, sizes):
            inside &= (i >= 0) & (i < n)
        clipped = [np.clip(i, 0, n - 1) for i, n in zip(index, sizes)]
        at = tuple(Tensor._make(i, False, None, 0) for i in np.broadcast_arrays(batch, *clipped))
        return channels_last[at] * Tensor._make(inside[..., None].astype(x.dtype), False, None, 0)

    if mode == "nearest":
        out = read([np.rint(c.array).astype(np.int64) for c in coords])
    else:
        lows = [np.floor(c.array) for c in coords]
        highs = [(c - Tensor._make(lo, False, None, 0)).unsqueeze(-1) for c, lo in zip(coords, lows)]
        weights = [(1 - w_hi, w_hi) for w_hi in highs]  # (toward the low, the high neighbour)
        lows = [lo.astype(np.int64) for lo in lows]
        out = 0
        for corner in itertools.product((0, 1), repeat=nd):
            weight = weights[0][corner[0]]
            for axis in range(1, nd):
                weight = weight * weights[axis][corner[axis]]
            out = out + read([lo + bit for lo, bit in zip(lows, corner)]) * weight
    return deepnum.movedim(out, -1, 1)
