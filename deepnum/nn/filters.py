"""Classic fixed filters and the two sliding products: cross-correlation and true convolution.

Deep-learning "convolutions" are cross-correlations (003 §3.2): the kernel slides unflipped,
``(x ⋆ w)[p] = Σ_t x[p + t] w[t]`` (001 eq. 25). The convolution of analysis flips the kernel,
``(x * w)[p] = Σ_{s+t=p} x[s] w[t]`` (001 eq. 24, 31), and the two are related by the mirror
operator: ``x ⋆ w = x * Pw`` (001 eq. 26). ``correlate`` and ``convolve`` make the difference
explicit; both are differentiable and run on ``F.conv1d`` / ``F.conv2d``.

Examples:
    >>> from deepnum.nn import filters
    >>> x = deepnum.tensor([[80., 92., 163., 234., 230.],
    ...                     [85., 98., 237., 233., 232.],
    ...                     [83., 96., 236., 235., 231.]])
    >>> filters.sobel(x, padding_mode="replicate")[0]
    tensor([ -49., -401., -561., -196.,   13.])
"""

from __future__ import annotations

import numpy as np

import deepnum
from deepnum.nn.functional.conv import conv1d, conv2d, pad
from deepnum.tensor import Tensor

__all__ = [
    "EDGE_CROSS",
    "LAPLACE_4",
    "LAPLACE_8",
    "SOBEL_VERTICAL",
    "SOBEL_HORIZONTAL",
    "correlate",
    "convolve",
    "flip_kernel",
    "sobel",
    "edge_filters",
]

#: The three edge-detection kernels of 001 eq. 32.
EDGE_CROSS = np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], dtype=np.float32)
LAPLACE_4 = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=np.float32)
LAPLACE_8 = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32)
#: The vertical-edge Sobel filter of 004 Ex. 6.20, and its transpose for horizontal edges.
SOBEL_VERTICAL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
SOBEL_HORIZONTAL = SOBEL_VERTICAL.T.copy()


def edge_filters() -> dict:
    """The fixed kernels by name (001 eq. 32; 004 Ex. 6.20)."""
    return {
        "edge_cross": EDGE_CROSS,
        "laplace_4": LAPLACE_4,
        "laplace_8": LAPLACE_8,
        "sobel_vertical": SOBEL_VERTICAL,
        "sobel_horizontal": SOBEL_HORIZONTAL,
    }


def flip_kernel(kernel):
    """The mirror operator ``P w(t) = w(−t)`` of 001 eq. 26 (all axes reversed)."""
    if isinstance(kernel, Tensor):
        return kernel.flip(tuple(range(kernel.ndim)))
    return np.ascontiguousarray(np.flip(kernel))


def _pads(mode: str, k: int) -> tuple:
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return k - 1, k - 1
    if mode == "same":
        return (k - 1) // 2, k - 1 - (k - 1) // 2
    raise ValueError(f"mode must be 'valid', 'same' or 'full', got {mode!r}")


def correlate(input, kernel, mode: str = "valid", padding_mode: str = "zeros"):
    """Cross-correlation ``(x ⋆ w)[p] = Σ_t x[p + t] w[t]`` of signals or images (001 eq. 25).

    Args:
        input: ``(L)``, ``(H, W)`` or batched ``(N, C, L)`` / ``(N, C, H, W)`` (each channel
            filtered separately).
        kernel: 1-d ``(k)`` or 2-d ``(kH, kW)`` array or tensor.
        mode: 'valid' (no padding), 'same' (output as large as the input) or 'full'.
        padding_mode: 'zeros', 'replicate' (copy the border, 004 Ex. 6.20), 'reflect', 'circular'.
    """
    x = input if isinstance(input, Tensor) else deepnum.tensor(np.asarray(input, dtype=np.float32))
    w = kernel if isinstance(kernel, Tensor) else deepnum.tensor(np.asarray(kernel, dtype=x.dtype))
    nd = w.ndim
    if nd not in (1, 2) or x.ndim not in (nd, nd + 2):
        raise ValueError(
            f"correlate: expected a 1-d or 2-d kernel and an input of {nd} or {nd + 2} dims, "
            f"got kernel {tuple(w.shape)} and input {tuple(x.shape)}"
        )
    plain = x.ndim == nd
    if plain:
        x = x.reshape(1, 1, *x.shape)
    n, c = x.shape[:2]
    x = x.reshape(n * c, 1, *x.shape[2:])
    flat = [p for k in reversed(w.shape) for p in _pads(mode, k)]
    if any(flat):
        x = pad(x, flat, mode="constant" if padding_mode == "zeros" else padding_mode)
    y = (conv1d if nd == 1 else conv2d)(x, w.reshape(1, 1, *w.shape))
    y = y.reshape(n, c, *y.shape[2:])
    return y.reshape(*y.shape[2:]) if plain else y


def convolve(input, kernel, mode: str = "valid", padding_mode: str = "zeros"):
    """True convolution ``(x * w)[p] = Σ_{s+t=p} x[s] w[t]`` (001 eq. 24, 31): correlate with P w.

    Matches ``numpy.convolve`` for 1-d signals (modes 'full' and 'valid').
    """
    return correlate(input, flip_kernel(kernel), mode, padding_mode)


def sobel(input, direction: str = "vertical", padding_mode: str = "replicate"):
    """Edges by the Sobel filter: ``Y = X ⋆ W`` with border replication (004 Ex. 6.20).

    ``direction='vertical'`` finds vertical edges (horizontal intensity gradient).
    """
    if direction not in ("vertical", "horizontal"):
        raise ValueError(f"sobel: direction must be 'vertical' or 'horizontal', got {direction!r}")
    kernel = SOBEL_VERTICAL if direction == "vertical" else SOBEL_HORIZONTAL
    return correlate(input, kernel, mode="same", padding_mode=padding_mode)
