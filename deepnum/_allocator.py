"""Keep large NumPy buffers in the heap instead of fresh ``mmap`` pages.

Every training step allocates and frees the same large temporaries (im2col blocks,
activations, gradients). glibc serves blocks above its mmap threshold with fresh ``mmap``
pages and unmaps them on ``free``, so each step pays one page fault per 4 KiB touched —
on virtual machines this costs several times the arithmetic (a LeNet step ran 1.6× slower).
Raising the trim threshold and turning off ``mmap`` for large requests (``M_MMAP_MAX = 0``;
raising the mmap threshold alone stops at glibc's 32 MiB cap, and a convolution's im2col
block is often larger: 80 MB for a 3×3 64→64 layer on a batch of 32 32×32 maps, which then
took 3 ms more per forward pass in page faults) keeps freed blocks for reuse, the role
PyTorch's caching allocator plays. Peak memory is unchanged; the process simply does not
hand freed heap memory back to the OS below the trim threshold.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit
TRIM_THRESHOLD = 512 * 1024 * 1024


def tune_malloc() -> bool:
    """Apply the thresholds above (glibc only); returns whether they were applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_MMAP_MAX, 0) == 1 and ok  # large blocks from the heap too
    return bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok)
