"""N-d convolution as one matrix product: im2col windows times the filter bank.

A convolution layer computes, for each output position p and filter o (001 eq. 31, in the
cross-correlation form every framework uses, 003 §3.2)::

    y[n, o, p] = b[o] + Σ_{c, t} w[o, c, t] · x[n, c, s·p + d·t − pad]

Gathering the receptive fields into a matrix (im2col: a strided *view* of the padded input,
copied once into a contiguous ``(C·K, N·P)`` block) turns the whole layer into one BLAS GEMM
``W (O, C·K) @ cols (C·K, N·P)``. The three bilinear maps of a convolution layer are

* ``conv(x, w)``                  the forward pass,
* ``conv_transpose(g, w)``        its adjoint in ``x`` (input gradient, transposed convolution),
* ``conv_weight(x, g)``           its adjoint in ``w`` (weight gradient),

and the derivative of each is made of the other two, so the three ``Function`` classes below
are closed under differentiation: backward passes stay differentiable (create_graph works)
while the ordinary backward reuses the forward's im2col block and runs on plain arrays.
The input gradient scatters the columns back with a loop over the kernel offsets (``k_h·k_w``
strided additions, never a loop over pixels); for 2-d stride 1 the kernel columns are summed
inside the GEMM instead, leaving ``k_h`` additions of row blocks (``_wide_transpose``).

Two details keep memory traffic down: the bias is a row of ones in the block, so the GEMM adds
it and the weight-gradient GEMM returns its gradient (``_gather``); and a layer with few
filters, whose GEMM is limited by memory speed, gathers a few images at a time into a block
that stays in cache, never storing the whole block (``Windows``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from deepnum._blas_threads import matmul as gemm
from deepnum._blas_threads import small_product
from deepnum.autograd.function import Function

__all__: list[str] = []


def out_size(length: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    """Number of window positions along one axis: ⌊(L + lo + hi − d(k−1) − 1)/s⌋ + 1."""
    return (length + lo + hi - d * (k - 1) - 1) // s + 1


def pad_zeros(x: np.ndarray, pads) -> np.ndarray:
    """``x`` with ``pads[i] = (lo, hi)`` zeros around spatial axis i (axes 2, 3, ...)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    out = np.zeros(shape, dtype=x.dtype)
    out[
        (slice(None), slice(None))
        + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads))
    ] = x
    return out


def crop(x: np.ndarray, pads, sizes) -> np.ndarray:
    if not any(lo or hi for lo, hi in pads):
        return x
    return x[
        (slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(sizes, pads))
    ]


def _is_wide(nd, stride) -> bool:
    """Use the row-pitch layout: 2-d, stride 1 (the common case; see ``_wide_cols``)."""
    return nd == 2 and stride == (1, 1)


def _gather(view: np.ndarray, groups: int, kernel_dims: int, ones_row: bool, out=None):
    """Copy the window view ``(C, *kernel, N, *out)`` into a ``(G, C/G·K [+1], N·P)`` block.

    With ``ones_row`` each group's block gets a last row of ones: the bias then rides in the
    GEMM as one more filter column, and the weight-gradient GEMM returns the bias gradient
    (Σ over positions of g) as that column, saving a pass over the output and one over g.
    ``out``: a block of the right shape to fill (its ones row already set).
    """
    split = (groups, view.shape[0] // groups) + view.shape[1:]
    rows = math.prod(split[1 : 2 + kernel_dims])
    m = math.prod(split[2 + kernel_dims :])
    if not ones_row and out is None:
        return view.reshape(groups, rows, m)
    if out is None:
        out = np.empty((groups, rows + 1, m), dtype=view.dtype)
        out[:, rows] = 1
    np.copyto(out[:, :rows].reshape(split), view.reshape(split))
    return out


CACHED_BLOCK_BYTES = 2 * 1024 * 1024  # a block that stays in L2/L3 from its writing to its use


class Windows:
    """The receptive fields of a batch: a strided view ``(C, *kernel, N, *P)`` of the padded
    input (no copy yet) and how to gather it into GEMM blocks (``_gather``).

    A layer with few filters per group does little arithmetic per copied element, so its
    GEMM runs at memory speed on a block that left the cache long ago (LeNet's first layer:
    a 6 MB block for 26 × 6 numbers per position). For such a layer, ``chunk`` images are
    gathered at a time into a block that stays in the core's L2 cache (``CHUNK_BYTES``), and
    the weight gradient gathers them again instead of keeping the whole block: 1.8x faster
    forward for that layer, and the block is never stored.

    When no gradient will be wanted, nobody needs the block after the product, so any large
    block is gathered in chunks of ``NO_GRAD_CHUNK_BYTES``, which stay in the caches between
    their gathering and their product: a 3×3 64→64 layer over 32 maps of 32×32 (an 80 MB
    block) then runs in 10 ms instead of 14, ResNet-20's 16-filter layers in 3 ms instead of
    5.4.
    """

    CHUNK_BYTES = 384 * 1024  # a gathered chunk that stays in L2
    MIN_BYTES = 2 * 1024 * 1024  # smaller blocks stay in cache whole
    MAX_FILTERS = 8  # filters per group up to which the GEMM is memory-bound
    NO_GRAD_CHUNK_BYTES = CACHED_BLOCK_BYTES
    NO_GRAD_MIN_BYTES = 2 * CACHED_BLOCK_BYTES

    def __init__(self, view, groups: int, kernel_dims: int, ones_row: bool):
        self.view, self.groups, self.kernel_dims, self.ones_row = view, groups, kernel_dims, ones_row
        self.images = view.shape[1 + kernel_dims]
        self.positions = math.prod(view.shape[2 + kernel_dims :])  # per image
        self.rows = view.shape[0] // groups * math.prod(view.shape[1 : 1 + kernel_dims]) + ones_row
        self.image_bytes = groups * self.rows * self.positions * view.itemsize
        self.chunk = None

    def plan(self, filters_per_group: int, keep: bool = True) -> "Windows":
        """Decide whether to gather in chunks (see the class docstring); ``keep``: whether a
        backward pass will follow."""
        total = self.image_bytes * self.images
        if filters_per_group <= self.MAX_FILTERS and total >= self.MIN_BYTES:
            self.chunk = max(1, self.CHUNK_BYTES // self.image_bytes)
        elif not keep and total >= self.NO_GRAD_MIN_BYTES:
            self.chunk = max(1, self.NO_GRAD_CHUNK_BYTES // self.image_bytes)
        return self

    def block(self, start: int = 0, stop=None, out=None) -> np.ndarray:
        """The GEMM block of images [start, stop)."""
        lead = (slice(None),) * (1 + self.kernel_dims)
        view = self.view if start == 0 and stop is None else self.view[lead + (slice(start, stop),)]
        return _gather(view, self.groups, self.kernel_dims, self.ones_row, out)

    def chunks(self):
        """(start, stop, block) for each chunk of images, all gathered into one buffer."""
        buffer = np.empty((self.groups, self.rows, self.chunk * self.positions), self.view.dtype)
        if self.ones_row:
            buffer[:, -1] = 1
        for start in range(0, self.images, self.chunk):
            stop = min(start + self.chunk, self.images)
            yield start, stop, self.block(start, stop, buffer[..., : (stop - start) * self.positions])


def im2col_windows(xp, kernel, stride, dilation, out, groups: int, ones_row=False) -> Windows:
    """Receptive fields of the padded input ``xp (N, C, *S)`` for a ``(G, C/G·K, N·P)`` block.

    The strided view has the layout ``(C, *kernel, N, *out)`` so that the copy runs along the
    output rows and the GEMM result comes out channel-major. ``ones_row``: see ``_gather``.
    """
    n, c = xp.shape[:2]
    st = xp.strides
    nd = len(kernel)
    shape = (c, *kernel, n, *out)
    strides = (
        st[1],
        *(st[2 + i] * dilation[i] for i in range(nd)),
        st[0],
        *(st[2 + i] * stride[i] for i in range(nd)),
    )
    return Windows(as_strided(xp, shape, strides, writeable=False), groups, nd, ones_row)


def im2col(xp, kernel, stride, dilation, out, groups: int, ones_row=False) -> np.ndarray:
    """The whole ``(G, C/G·K [+1], N·P)`` block of ``im2col_windows``."""
    return im2col_windows(xp, kernel, stride, dilation, out, groups, ones_row).block()


def wide_windows(xp: np.ndarray, kernel, dilation, groups: int, ones_row=False) -> Windows:
    """im2col for 2-d stride 1 with rows at the input's pitch: ``(G, C/G·K, N·oh·W)``.

    Output position (a, b) is computed for every b < W (not only b < ow), so the window of a
    kernel offset (i, j) is one contiguous run ``x_flat[i·d·W + j·d :][: oh·W]``: the copy
    moves long contiguous runs instead of ``ow``-long pieces. Columns b ≥ ow are discarded in
    the forward pass and receive zero gradient in the backward pass.
    """
    n, c, h, w = xp.shape
    kh, kw = kernel
    oh = h - dilation[0] * (kh - 1)
    tail = dilation[1] * (kw - 1)
    buf = np.empty(xp.size + tail, dtype=xp.dtype)
    buf[: xp.size] = xp.reshape(-1)
    buf[xp.size :] = 0
    it = buf.itemsize
    view = as_strided(
        buf,
        (c, kh, kw, n, oh * w),
        (h * w * it, dilation[0] * w * it, dilation[1] * it, c * h * w * it, it),
        writeable=False,
    )
    return Windows(view, groups, 2, ones_row)


def _wide_cols(xp: np.ndarray, kernel, dilation, groups: int, ones_row=False) -> np.ndarray:
    """The whole block of ``wide_windows``."""
    return wide_windows(xp, kernel, dilation, groups, ones_row).block()


def _wide_transpose(gm: np.ndarray, w: np.ndarray, padded_shape, dilation) -> np.ndarray:
    """Adjoint of the wide convolution onto the padded input, from ``gm`` of ``_channel_major``.

    ``gx[n,c,a,b] = Σ_{o,i,j} w[o,c,i,j] · g[n,o,a − d₀i, b − d₁j]`` split in two: the sum over
    ``(o, j)`` is one GEMM against ``g`` shifted by ``d₁j`` along the flattened rows (a strided
    view; a shift past a row's start lands in the previous row's zero columns ``b ≥ ow``, or in
    the zero margin ``_channel_major`` leaves before the first row), the sum over ``i`` is
    ``k_h`` additions of whole row blocks, instead of ``k_h·k_w`` additions of a col2im.
    Both blocks are made a few images at a time (``CACHED_BLOCK_BYTES``), so that they stay
    in the caches between the GEMM and the additions (ResNet-20's 16-channel layers: forward +
    backward 11% faster than with whole blocks).
    """
    n, c, h, wd = padded_shape
    groups, og, m = gm.shape
    o, cg, kh, kw = w.shape
    oh = h - dilation[0] * (kh - 1)
    it = gm.itemsize
    shifted = as_strided(
        gm, (groups, og, kw, m), (og * m * it, m * it, -dilation[1] * it, it), writeable=False
    )
    w2 = w.reshape(groups, og, cg, kh, kw).transpose(0, 2, 3, 1, 4).reshape(groups, cg * kh, -1)
    gx = np.zeros(n * c * h * wd, dtype=gm.dtype)
    # row block of kernel row i: the oh rows starting at row d₀i of every (n, c) plane
    targets = as_strided(
        gx, (kh, c, n, oh * wd), (dilation[0] * wd * it, h * wd * it, c * h * wd * it, it)
    )
    per = oh * wd  # columns per image
    chunk = max(1, CACHED_BLOCK_BYTES // (max(o * kw, c * kh) * per * it))
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        cols = shifted[..., start * per : stop * per].reshape(groups, og * kw, -1)
        rows = gemm(w2, cols).reshape(c, kh, stop - start, per)
        for i in range(kh):
            targets[i, :, start:stop] += rows[:, i]
    return gx.reshape(padded_shape)


def col2im(cols: np.ndarray, padded_shape, kernel, stride, dilation, out) -> np.ndarray:
    """Adjoint of ``im2col``: add every column back onto the window it came from."""
    n, c = padded_shape[:2]
    gx = np.zeros((c, n, *padded_shape[2:]), dtype=cols.dtype)
    blocks = cols.reshape(c, *kernel, n, *out)
    for offset in np.ndindex(*kernel):
        window = tuple(
            slice(t * d, t * d + s * (o - 1) + 1, s)
            for t, d, s, o in zip(offset, dilation, stride, out)
        )
        gx[(slice(None), slice(None)) + window] += blocks[(slice(None),) + offset]
    return gx.swapaxes(0, 1)


def _channel_major(g: np.ndarray, groups: int, pitch=None) -> np.ndarray:
    """``(N, O, *P)`` → ``(G, O/G, N·P)``, the layout the GEMMs want.

    With ``pitch`` (the wide layout of ``_wide_cols``), rows are zero-extended to that width,
    and ``pitch − ow`` zeros precede the block in memory (``_wide_transpose`` reads them).
    """
    n, o = g.shape[:2]
    if pitch is not None:
        oh, ow = g.shape[2:]
        flat = np.zeros(pitch - ow + o * n * oh * pitch, dtype=g.dtype)
        wide = flat[pitch - ow :].reshape(o, n, oh, pitch)
        wide[..., :ow] = g.swapaxes(0, 1)
        return wide.reshape(groups, o // groups, -1)
    p = g[0, 0].size
    return (
        g.reshape(n, groups, o // groups, p)
        .transpose(1, 2, 0, 3)
        .reshape(groups, o // groups, n * p)
    )


def conv_forward(x, w, stride, pads, dilation, groups, b=None, keep=True):
    """``conv(x, w) + b``: the output ``(N, O, *out)`` (a view), the im2col block, its pitch.

    With a bias the block carries a row of ones and the bias is the last column of the filter
    matrix (``_gather``), so the GEMM adds it. ``keep``: whether a backward pass will want the
    block (else large blocks are gathered in chunks, ``Windows``).
    """
    kernel = w.shape[2:]
    out = tuple(
        out_size(n, k, s, d, lo, hi)
        for n, k, s, d, (lo, hi) in zip(x.shape[2:], kernel, stride, dilation, pads)
    )
    xp = pad_zeros(x, pads)
    o = w.shape[0]
    filters = w.reshape(groups, o // groups, -1)
    if b is not None:
        filters = np.concatenate([filters, b.reshape(groups, o // groups, 1)], axis=2)
    ones_row = b is not None
    wide = _is_wide(len(kernel), stride)
    if wide:
        windows = wide_windows(xp, kernel, dilation, groups, ones_row)
    else:
        windows = im2col_windows(xp, kernel, stride, dilation, out, groups, ones_row)
    cols, y = _windows_gemm(filters, windows.plan(o // groups, keep))  # one GEMM per group
    if wide:
        pitch = xp.shape[-1]
        y = y.reshape(o, x.shape[0], out[0], pitch)[..., : out[1]].swapaxes(0, 1)
        return y, cols, pitch
    return y.reshape(o, x.shape[0], *out).swapaxes(0, 1), cols, None


def _windows_gemm(filters, windows: Windows):
    """``filters @ block``: (what the weight gradient needs, the product).

    Gathered whole, the block is returned for the weight gradient; gathered in chunks
    (``Windows``), each chunk's product goes into its columns and the windows are returned.
    """
    if windows.chunk is None:
        cols = windows.block()
        return cols, gemm(filters, cols)
    per = windows.positions
    y = np.empty(filters.shape[:2] + (windows.images * per,), dtype=filters.dtype)
    for start, stop, cols in windows.chunks():
        with small_product(2.0 * filters.size * cols.shape[-1]):
            np.matmul(filters, cols, out=y[..., start * per : stop * per])
    return windows, y


def conv_input_grad(g, w, in_sizes, stride, pads, dilation, groups, gm=None):
    """``conv_transpose(g, w)``: the adjoint of ``conv(·, w)`` onto an input of ``in_sizes``.

    ``gm`` may pass ``g`` already in the GEMM layout of ``_channel_major``.
    """
    o = w.shape[0]
    kernel = w.shape[2:]
    padded = (g.shape[0], w.shape[1] * groups) + tuple(
        n + lo + hi for n, (lo, hi) in zip(in_sizes, pads)
    )
    wide = _is_wide(len(kernel), stride) and all(
        o == n - d * (k - 1) for o, n, d, k in zip(g.shape[2:], padded[2:], dilation, kernel)
    )
    if wide:
        gm = _channel_major(g, groups, padded[-1]) if gm is None else gm
        gx = _wide_transpose(gm, w, padded, dilation)
    else:
        wt = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)
        cols = gemm(wt, _channel_major(g, groups) if gm is None else gm)
        gx = col2im(cols, padded, kernel, stride, dilation, g.shape[2:])
    return crop(gx, pads, in_sizes)


LONG_K_CHUNK = 1024


def _long_k_gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a (G, M, K) @ b (G, K, N)`` for an inner dimension far longer than the M·N outputs.

    OpenBLAS runs such a product (a first layer's weight gradient: K = N·P positions, M·N a
    few hundred filter taps) far below its speed; cut into chunks of ``LONG_K_CHUNK`` along
    K, as one batched product whose partial results are summed after, it runs about 4x
    faster (conv 1→6, 5×5, 64 images of 28×28: 0.61 ms → 0.15 ms).
    """
    k = a.shape[-1]
    chunks = k // LONG_K_CHUNK
    if chunks < 8 or k < 32 * a.shape[-2] * b.shape[-1]:
        return gemm(a, b)
    main = chunks * LONG_K_CHUNK
    g, m, n = a.shape[0], a.shape[-2], b.shape[-1]
    a_chunks = a[..., :main].reshape(g, m, chunks, LONG_K_CHUNK).transpose(0, 2, 1, 3)
    b_chunks = b[:, :main].reshape(g, chunks, LONG_K_CHUNK, n)
    out = gemm(a_chunks, b_chunks).sum(axis=1)
    if main < k:
        out += gemm(a[..., main:], b[:, main:])
    return out


def conv_weight_grad(g, cols, w_shape, groups, pitch=None, gm=None):
    """``conv_weight(x, g)`` from the im2col block of x: Σ_{n,p} g[n,o,p] · cols[c·t, n·p].

    A block with a row of ones (``_gather``) gives ``(weight gradient, bias gradient)``.
    """
    gm = _channel_major(g, groups, pitch) if gm is None else gm
    # cols @ gmᵀ runs a little faster in OpenBLAS than gm @ colsᵀ (long K, tiny M and N)
    if isinstance(cols, Windows):  # gathered again chunk by chunk, as in the forward pass
        per, full = cols.positions, None
        for start, stop, block in cols.chunks():
            part = gemm(block, gm[..., start * per : stop * per].transpose(0, 2, 1))
            full = part if full is None else np.add(full, part, out=full)
        full = full.transpose(0, 2, 1)
    else:
        full = _long_k_gemm(cols, gm.transpose(0, 2, 1)).transpose(0, 2, 1)
    taps = math.prod(w_shape[1:])
    if full.shape[-1] == taps:
        return full.reshape(w_shape)
    return full[..., :taps].reshape(w_shape), full[..., taps].reshape(-1)


def _bias_grad(g):
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


class ConvNd(Function):
    """``y = conv(x, w) + b`` for 1-, 2- and 3-d inputs (fused: the im2col block is reused)."""

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups, keep=True):
        y, cols, pitch = conv_forward(x, w, stride, pads, dilation, groups, b, keep)
        out = np.empty(y.shape, dtype=y.dtype)
        np.copyto(out, y)
        ctx.conf = (stride, pads, dilation, groups)
        ctx.pitch = pitch
        ctx.with_bias = b is not None  # then cols carries the row of ones
        ctx.save_for_backward(x, w, cols)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w, cols = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.conf
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if ctx.graph_mode:
            if need_x:
                gx = ConvTransposeNd.apply(g, w, None, stride, pads, dilation, groups, x.shape[2:])
            if need_w:
                gw = ConvWeight.apply(x, g, w.shape[2:], stride, pads, dilation, groups)
            if need_b:
                gb = _bias_grad(g)
        else:
            # one channel-major copy of g serves all three products (wide rows: zero-padded)
            gm = _channel_major(g, groups, ctx.pitch)
            if need_x:
                gx = conv_input_grad(g, w, x.shape[2:], stride, pads, dilation, groups, gm)
            if need_w or need_b:
                grads = conv_weight_grad(g, cols, w.shape, groups, gm=gm)
                gw, gb = grads if ctx.with_bias else (grads, None)
                gw, gb = (gw if need_w else None), (gb if need_b else None)
        return gx, gw, gb, None, None, None, None, None


class ConvTransposeNd(Function):
    """``y = conv_transpose(g, w) + b``: the adjoint of ``conv(·, w)``, sized ``in_sizes``."""

    @staticmethod
    def forward(ctx, g, w, b, stride, pads, dilation, groups, in_sizes):
        y = conv_input_grad(g, w, tuple(in_sizes), stride, pads, dilation, groups)
        y = (
            y + b.reshape((-1,) + (1,) * (y.ndim - 2))
            if b is not None
            else np.ascontiguousarray(y)
        )
        ctx.conf = (stride, pads, dilation, groups)
        ctx.save_for_backward(g, w)
        return y

    @staticmethod
    def backward(ctx, h):
        g, w = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.conf
        need_g, need_w, need_b = ctx.needs_input_grad[:3]
        gg = gw = gb = None
        if ctx.graph_mode:
            if need_g:
                gg = ConvNd.apply(h, w, None, stride, pads, dilation, groups, True)
            if need_w:
                gw = ConvWeight.apply(h, g, w.shape[2:], stride, pads, dilation, groups)
        else:
            y, cols, pitch = conv_forward(h, w, stride, pads, dilation, groups)
            gg = np.ascontiguousarray(y) if need_g else None
            gw = conv_weight_grad(g, cols, w.shape, groups, pitch) if need_w else None
        if need_b:
            gb = _bias_grad(h)
        return gg, gw, gb, None, None, None, None, None


class ConvWeight(Function):
    """``conv_weight(x, g)``: the adjoint of ``conv(x, ·)`` (gradient of the filters)."""

    @staticmethod
    def forward(ctx, x, g, kernel, stride, pads, dilation, groups):
        xp = pad_zeros(x, pads)
        if _is_wide(len(kernel), stride):
            cols, pitch = _wide_cols(xp, kernel, dilation, groups), xp.shape[-1]
        else:
            cols, pitch = im2col(xp, kernel, stride, dilation, g.shape[2:], groups), None
        ctx.conf = (stride, pads, dilation, groups)
        ctx.save_for_backward(x, g)
        w_shape = (g.shape[1], x.shape[1] // groups, *kernel)
        return conv_weight_grad(g, cols, w_shape, groups, pitch)

    @staticmethod
    def backward(ctx, h):
        x, g = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.conf
        need_x, need_g = ctx.needs_input_grad[:2]
        if ctx.graph_mode:
            gx = (
                ConvTransposeNd.apply(g, h, None, stride, pads, dilation, groups, x.shape[2:])
                if need_x
                else None
            )
            gg = None
            if need_g:
                gg = ConvNd.apply(x, h, None, stride, pads, dilation, groups, True)
        else:
            gx = (
                conv_input_grad(g, h, x.shape[2:], stride, pads, dilation, groups)
                if need_x
                else None
            )
            gg = (
                np.ascontiguousarray(conv_forward(x, h, stride, pads, dilation, groups)[0])
                if need_g
                else None
            )
        return gx, gg, None, None, None, None, None


class Unfold(Function):
    """Sliding local blocks ``(N, C, *S)`` → ``(N, C·K, L)`` (``F.unfold``); adjoint of Fold."""

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, dilation):
        out = tuple(
            out_size(n, k, s, d, lo, hi)
            for n, k, s, d, (lo, hi) in zip(x.shape[2:], kernel, stride, dilation, pads)
        )
        cols = im2col(pad_zeros(x, pads), kernel, stride, dilation, out, 1)
        ctx.conf = (kernel, stride, pads, dilation, x.shape[2:])
        n, ck = x.shape[0], cols.shape[1]
        return np.ascontiguousarray(cols.reshape(ck, n, -1).swapaxes(0, 1))

    @staticmethod
    def backward(ctx, g):
        kernel, stride, pads, dilation, sizes = ctx.conf
        return Fold.apply(g, sizes, kernel, stride, pads, dilation), None, None, None, None


class Fold(Function):
    """Sum sliding blocks ``(N, C·K, L)`` into ``(N, C, *S)`` (``F.fold``); adjoint of Unfold."""

    @staticmethod
    def forward(ctx, cols, sizes, kernel, stride, pads, dilation):
        out = tuple(
            out_size(n, k, s, d, lo, hi)
            for n, k, s, d, (lo, hi) in zip(sizes, kernel, stride, dilation, pads)
        )
        n, ck, _ = cols.shape
        c = ck // math.prod(kernel)
        block = cols.swapaxes(0, 1).reshape(1, ck, -1)
        padded = (n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(sizes, pads))
        ctx.conf = (kernel, stride, pads, dilation)
        return np.ascontiguousarray(
            crop(col2im(block, padded, kernel, stride, dilation, out), pads, sizes)
        )

    @staticmethod
    def backward(ctx, g):
        kernel, stride, pads, dilation = ctx.conf
        return Unfold.apply(g, kernel, stride, pads, dilation), None, None, None, None, None
