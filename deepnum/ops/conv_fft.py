"""Convolution by the convolution theorem: ``f ⋆ g = F⁻¹(conj(F f) · F g)`` (001 eq. 29-30).

For a kernel of size k the direct (im2col) convolution costs O(k^d) per output; the FFT
route costs O(log n) per output whatever the kernel, so it wins for large kernels
(003 §3.4). Linear (not circular) correlation comes from zero-padding both operands to
``n + k − 1`` points; the channel sum becomes, at every frequency, a complex matrix
product ``(N, C) @ (C, O)``.
"""

from __future__ import annotations

import numpy as np

from deepnum._blas_threads import matmul as gemm
from deepnum.autograd.function import Function
from deepnum.ops.conv import crop, pad_zeros

__all__: list[str] = []


def fast_length(n: int) -> int:
    """Smallest 2^a·3^b·5^c ≥ n: sizes the FFT handles fastest."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _spectra_product(a, b, nd):
    """``(N, C, *F) × (C, O, *F) → (N, O, *F)``: per-frequency matrix products."""
    fshape = a.shape[2:]
    af = a.reshape(a.shape[0], a.shape[1], -1).transpose(2, 0, 1)
    bf = b.reshape(b.shape[0], b.shape[1], -1).transpose(2, 0, 1)
    out = gemm(af, bf)  # (F, N, O)
    return out.transpose(1, 2, 0).reshape(a.shape[0], b.shape[1], *fshape)


class ConvFFT(Function):
    """``y = x ⋆ w + b`` (stride 1, groups 1) through real FFTs over the spatial axes."""

    @staticmethod
    def forward(ctx, x, w, b, pads):
        nd = w.ndim - 2
        axes = tuple(range(2, 2 + nd))
        xp = pad_zeros(x, pads)
        kernel = w.shape[2:]
        sizes = tuple(fast_length(n + k - 1) for n, k in zip(xp.shape[2:], kernel))
        flipped = w[(Ellipsis,) + (slice(None, None, -1),) * nd]  # 001 eq. 26: ⋆ is * with Pf
        fx = np.fft.rfftn(xp, s=sizes, axes=axes)
        fw = np.fft.rfftn(flipped, s=sizes, axes=axes)
        full = np.fft.irfftn(_spectra_product(fx, fw.swapaxes(0, 1), nd), s=sizes, axes=axes)
        valid = tuple(slice(k - 1, n) for n, k in zip(xp.shape[2:], kernel))
        y = np.ascontiguousarray(full[(Ellipsis,) + valid]).astype(x.dtype, copy=False)
        if b is not None:
            y += b.reshape((-1,) + (1,) * nd)
        ctx.state = (fx, fw, sizes, valid, xp.shape, pads, x.shape)
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.graph_mode:
            raise RuntimeError(
                "conv_fft: second derivatives (create_graph=True) are not supported; "
                "use the direct convolution"
            )
        fx, fw, sizes, valid, padded, pads, shape = ctx.state
        nd = len(sizes)
        axes = tuple(range(2, 2 + nd))
        full = np.zeros(g.shape[:2] + sizes, dtype=g.dtype)
        full[(Ellipsis,) + valid] = g
        fg = np.fft.rfftn(full, s=sizes, axes=axes)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if need_x:  # adjoint of a circular convolution: correlate with the same kernel
            gx = np.fft.irfftn(_spectra_product(fg, np.conj(fw), nd), s=sizes, axes=axes)
            gx = crop(gx[(Ellipsis,) + tuple(slice(0, n) for n in padded[2:])], pads, shape[2:])
            gx = np.ascontiguousarray(gx).astype(g.dtype, copy=False)
        if need_w:
            gv = np.fft.irfftn(
                _spectra_product(np.conj(fx).swapaxes(0, 1), fg, nd), s=sizes, axes=axes
            )
            k = tuple(s.start + 1 for s in valid)
            gv = gv[(Ellipsis,) + tuple(slice(0, n) for n in k)][
                (Ellipsis,) + (slice(None, None, -1),) * nd
            ]
            gw = np.ascontiguousarray(gv.swapaxes(0, 1)).astype(g.dtype, copy=False)
        if need_b:
            gb = g.sum(axis=(0,) + axes)
        return gx, gw, gb, None
