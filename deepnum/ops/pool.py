"""Pooling: max and average over sliding windows, adaptive max (003 §3.1; 002).

Every window is a strided slice of the padded input per kernel offset, so a pooling pass is
``k_h·k_w`` vectorised operations on output-sized arrays: for the common 2×2 stride-2 max
pool (002) that is four comparisons of quarter-size views, with no copy of the input.
The backward pass routes each output gradient to the first maximum of its window (PyTorch's
tie rule) or spreads it evenly over the window for the average.
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd.function import Function
from deepnum.tensor import Tensor

__all__: list[str] = []


def pool_geometry(sizes, kernel, stride, padding, dilation, ceil_mode):
    """Output sizes and the extra right padding ``ceil_mode`` needs, per spatial axis.

    ``out = ⌊(L + 2p − d(k−1) − 1)/s⌋ + 1`` (⌈·⌉ with ceil_mode, but the last window must
    start inside the input or the left padding, as in PyTorch).
    """
    outs, extra = [], []
    for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        outs.append(o)
        extra.append(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)))
    return tuple(outs), tuple(extra)


def _pad(x, padding, extra, value):
    if not any(padding) and not any(extra):
        return x
    shape = x.shape[:2] + tuple(n + 2 * p + e for n, p, e in zip(x.shape[2:], padding, extra))
    out = np.full(shape, value, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + n) for n, p in zip(x.shape[2:], padding))] = x
    return out


def _window(offset, stride, dilation, outs):
    """Slice picking, for every output position, the element at kernel ``offset``."""
    return (Ellipsis,) + tuple(
        slice(t * d, t * d + s * (o - 1) + 1, s)
        for t, s, d, o in zip(offset, stride, dilation, outs)
    )


class MaxPoolNd(Function):
    """``y[p] = max_{t} x[s·p + d·t − pad]`` over the windows (padding counts as −∞).

    The forward pass takes element-wise maxima of strided views, one spatial axis at a time;
    the backward pass finds, window by window, the first offset that attains the maximum
    (PyTorch's tie rule: after a ReLU whole windows are 0 and only the first gets the gradient).
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        outs, extra = pool_geometry(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
        xp = _pad(x, padding, extra, -np.inf)
        # the max is separable: reduce one spatial axis at a time, the first over whole rows
        # (contiguous runs), so only the last pass reads strided elements (k_h + k_w views)
        y, fresh = xp, False
        for a, (k, s, d, o) in enumerate(zip(kernel, stride, dilation, outs)):
            lead = (slice(None),) * (2 + a)
            views = [y[lead + (slice(t * d, t * d + s * (o - 1) + 1, s),)] for t in range(k)]
            if k == 1:
                y = views[0]
                continue
            y, fresh = np.maximum(views[0], views[1]), True
            for view in views[2:]:
                np.maximum(y, view, out=y)
        if not fresh:
            y = y.copy()
        ctx.conf = (kernel, stride, padding, dilation, outs, extra)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = (t.array if isinstance(t, Tensor) else t for t in ctx.saved_tensors)
        kernel, stride, padding, dilation, outs, extra = ctx.conf
        xp = _pad(x, padding, extra, -np.inf)
        if ctx.graph_mode:  # route through a differentiable scatter (higher-order derivatives)
            masks = _first_max_masks(xp, y, kernel, stride, dilation, outs)
            geometry = (kernel, stride, dilation, outs, padding, xp.shape, x.shape)
            return (MaxPoolScatter.apply(g, masks, geometry),) + (None,) * 5
        # disjoint windows (e.g. 2×2 stride 2) write their share in place; overlapping ones add
        disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(stride, dilation, kernel))
        # windows that tile the input exactly write every element: no zero fill needed
        tiled = disjoint and all(
            d == 1 and s == k and o * s == n
            for s, d, k, o, n in zip(stride, dilation, kernel, outs, xp.shape[2:])
        )
        gx = (np.empty if tiled else np.zeros)(xp.shape, dtype=g.dtype)
        free = np.empty(y.shape, dtype=bool)  # windows whose maximum is not yet assigned
        hit = np.empty(y.shape, dtype=bool)
        offsets = list(np.ndindex(*kernel))
        for i, offset in enumerate(offsets):
            window = _window(offset, stride, dilation, outs)
            np.equal(xp[window], y, out=hit)
            if i == 0:
                np.logical_not(hit, out=free)
            else:
                hit &= free
                if i < len(offsets) - 1:
                    np.greater(free, hit, out=free)  # free and not hit
            if disjoint:
                np.multiply(g, hit, out=gx[window])
            else:
                gx[window] += g * hit
        gx = gx[(Ellipsis,) + tuple(slice(p, p + n) for n, p in zip(x.shape[2:], padding))]
        return gx, None, None, None, None, None


def _first_max_masks(xp, y, kernel, stride, dilation, outs) -> list:
    """One boolean mask per kernel offset: where that offset is its window's first maximum."""
    free = np.ones(y.shape, dtype=bool)
    masks = []
    for offset in np.ndindex(*kernel):
        hit = (xp[_window(offset, stride, dilation, outs)] == y) & free
        free &= ~hit
        masks.append(hit)
    return masks


class MaxPoolScatter(Function):
    """The max-pool backward as a linear map of the gradient: ``g`` onto each window's argmax."""

    @staticmethod
    def forward(ctx, g, masks, geometry):
        kernel, stride, dilation, outs, padding, padded, shape = geometry
        gx = np.zeros(padded, dtype=g.dtype)
        for mask, offset in zip(masks, np.ndindex(*kernel)):
            gx[_window(offset, stride, dilation, outs)] += g * mask
        ctx.state = (masks, geometry)
        return gx[(Ellipsis,) + tuple(slice(p, p + n) for n, p in zip(shape[2:], padding))]

    @staticmethod
    def backward(ctx, h):
        masks, geometry = ctx.state
        return MaxPoolGather.apply(h, masks, geometry), None, None


class MaxPoolGather(Function):
    """Adjoint of ``MaxPoolScatter``: read each window's argmax (the max pool with fixed masks)."""

    @staticmethod
    def forward(ctx, h, masks, geometry):
        kernel, stride, dilation, outs, padding, padded, shape = geometry
        hp = _pad(
            h, padding, tuple(q - n - 2 * p for q, n, p in zip(padded[2:], shape[2:], padding)), 0
        )
        y = np.zeros(masks[0].shape, dtype=h.dtype)
        for mask, offset in zip(masks, np.ndindex(*kernel)):
            y += hp[_window(offset, stride, dilation, outs)] * mask
        ctx.state = (masks, geometry)
        return y

    @staticmethod
    def backward(ctx, gg):
        masks, geometry = ctx.state
        return MaxPoolScatter.apply(gg, masks, geometry), None, None


def max_pool_argmax(x, y, kernel, stride, padding, dilation, ceil_mode):
    """Offset (0..K−1) of the first maximum of every window, for ``return_indices``."""
    outs, extra = pool_geometry(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    xp = _pad(x, padding, extra, -np.inf)
    arg = np.full(y.shape, -1, dtype=np.int64)
    for j, offset in enumerate(np.ndindex(*kernel)):
        hit = (xp[_window(offset, stride, dilation, outs)] == y) & (arg < 0)
        arg[hit] = j
    return np.maximum(arg, 0)


def flat_indices(arg, kernel, stride, padding, dilation, sizes):
    """Window-offset argmax → index into each flattened input plane (``return_indices``)."""
    nd = len(kernel)
    offsets = np.unravel_index(arg, kernel)
    flat = np.zeros(arg.shape, dtype=np.int64)
    for i in range(nd):
        pos = np.arange(arg.shape[2 + i]) * stride[i] - padding[i]
        pos = pos.reshape((-1,) + (1,) * (nd - 1 - i))
        flat = flat * sizes[i] + pos + offsets[i] * dilation[i]
    return flat


def avg_divisor(sizes, kernel, stride, padding, outs, count_include_pad, dtype):
    """Per-window divisor, the outer product of per-axis counts (PyTorch's convention).

    With ``count_include_pad`` windows count the zero padding but not the ceil_mode overhang.
    """
    div = np.ones((), dtype=dtype)
    for i, (n, k, s, p, o) in enumerate(zip(sizes, kernel, stride, padding, outs)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        div = np.multiply.outer(div, (end - start).astype(dtype))
    return div


def avg_pool_geometry(
    sizes, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, dtype
):
    """Output sizes, ceil_mode overhang and the reciprocal divisor of every window."""
    ones = (1,) * len(kernel)
    outs, extra = pool_geometry(sizes, kernel, stride, padding, ones, ceil_mode)
    if divisor_override:
        inv = np.asarray(1.0 / divisor_override, dtype=dtype)
    else:
        inv = 1 / avg_divisor(sizes, kernel, stride, padding, outs, count_include_pad, dtype)
    return outs, extra, inv


class AvgPoolNd(Function):
    """``y[p] = (1/|window|) Σ_t x[s·p + t − pad]`` (003 §3.1); ``inv`` holds the 1/|window|."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, outs, extra, inv):
        ones = (1,) * len(kernel)
        xp = _pad(x, padding, extra, 0)
        offsets = list(np.ndindex(*kernel))
        y = xp[_window(offsets[0], stride, ones, outs)].copy()
        for offset in offsets[1:]:
            y += xp[_window(offset, stride, ones, outs)]
        y *= inv
        ctx.conf = (kernel, stride, padding, outs, extra, inv, x.shape)
        return y

    @staticmethod
    def backward(ctx, g):
        kernel, stride, padding, outs, extra, inv, shape = ctx.conf
        return (AvgPoolBackward.apply(g, kernel, stride, padding, outs, extra, inv, shape),) + (
            None,
        ) * 6


class AvgPoolBackward(Function):
    """Adjoint of the average pool: spread each output gradient evenly over its window."""

    @staticmethod
    def forward(ctx, g, kernel, stride, padding, outs, extra, inv, shape):
        ones = (1,) * len(kernel)
        padded = shape[:2] + tuple(n + 2 * p + e for n, p, e in zip(shape[2:], padding, extra))
        gx = np.zeros(padded, dtype=g.dtype)
        share = g * inv
        for offset in np.ndindex(*kernel):
            gx[_window(offset, stride, ones, outs)] += share
        ctx.conf = (kernel, stride, padding, outs, extra, inv)
        return gx[(Ellipsis,) + tuple(slice(p, p + n) for n, p in zip(shape[2:], padding))]

    @staticmethod
    def backward(ctx, h):
        kernel, stride, padding, outs, extra, inv = ctx.conf
        return (AvgPoolNd.apply(h, kernel, stride, padding, outs, extra, inv),) + (None,) * 7


def adaptive_bounds(n: int, o: int):
    """Window i covers ``[⌊i·n/o⌋, ⌈(i+1)·n/o⌉)`` (PyTorch's adaptive pooling)."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


class AdaptiveMaxPoolNd(Function):
    """Max over the adaptive windows of ``adaptive_bounds`` along every spatial axis; returns
    the values and the flat per-plane indices of the first maxima."""

    @staticmethod
    def forward(ctx, x, out_size):
        n, c, *sizes = x.shape
        nd = len(sizes)
        flat = np.zeros((1,) * (2 * nd), dtype=np.int64)  # axes: the outputs, then window offsets
        for axis, (length, o) in enumerate(zip(sizes, out_size)):
            start, end = adaptive_bounds(length, o)
            span = int((end - start).max())
            # pad short windows by repeating their last element: the max (and first argmax) stay
            idx = np.minimum(start[:, None] + np.arange(span), end[:, None] - 1)
            shape = [1] * (2 * nd)
            shape[axis], shape[nd + axis] = o, span
            flat = flat * length + idx.reshape(shape)
        flat = flat.reshape(*out_size, -1)
        vals = x.reshape(n, c, -1)[:, :, flat]
        arg = vals.argmax(axis=-1)[..., None]
        y = np.take_along_axis(vals, arg, axis=-1)[..., 0]
        index = np.take_along_axis(np.broadcast_to(flat, vals.shape), arg, axis=-1)[..., 0]
        ctx.index = index
        ctx.shape = x.shape
        return y, index

    @staticmethod
    def backward(ctx, g, _g_index):
        if ctx.graph_mode:
            raise RuntimeError("adaptive_max_pool: second derivatives are not supported")
        n, c, *sizes = ctx.shape
        plane = math.prod(sizes)
        rows = np.arange(n * c).reshape((n, c) + (1,) * len(sizes)) * plane
        gx = np.bincount((ctx.index + rows).ravel(), weights=g.ravel(), minlength=n * c * plane)
        return gx.astype(g.dtype, copy=False).reshape(ctx.shape), None
