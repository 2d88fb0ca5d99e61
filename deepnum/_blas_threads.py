"""One OpenBLAS thread for tiny matrix products; the thread count depends on the size alone.

OpenBLAS splits even a 0.1 ms product across its threads, which then wait for one another at
every call (and spin for a while after it). For the tiniest products (below ``SMALL_FLOPS``,
10 MFLOP: a batch of 64 through a 256-unit layer) the hand-off costs more than the second
thread gains, and on cores shared with other work a waiting thread is often descheduled, so
those run on one thread. Larger products keep OpenBLAS's own choice: on idle cores two threads
pay from about 10 MFLOP (an LSTM step product of 32 x 256 x 1024, 17 MFLOP, takes 46 us on two
threads and 83 us on one; a LeNet epoch is about 1.3x slower with its convolution GEMMs on
one thread).

The rule looks at the product only, never at the machine's load: OpenBLAS's one- and
two-thread results differ in the last bits, and deepnum promises that the same seed and code
on the same machine give a bit-identical run (and that a resumed run continues it exactly).

Nothing happens when NumPy's BLAS is not OpenBLAS.
"""

from __future__ import annotations

import ctypes
import math
import re

SMALL_FLOPS = 1e7
_functions = None  # (set, get) from OpenBLAS, () when there is none


def _probe():
    """OpenBLAS's thread-count functions in the library NumPy loaded, or () if none."""
    import numpy  # noqa: F401 - loads NumPy's BLAS into the process

    try:
        with open("/proc/self/maps") as f:
            libs = sorted(set(re.findall(r"/\S*openblas\S*\.so\S*", f.read())))
    except OSError:
        return ()
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")):
            setter = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = (ctypes.c_int,), None
                getter.restype = ctypes.c_int
                return setter, getter
    return ()


def blas_functions():
    """(set_num_threads, get_num_threads) of NumPy's OpenBLAS, or () if it is not OpenBLAS."""
    global _functions
    if _functions is None:
        _functions = _probe()
    return _functions


class small_product:
    """Context: the products inside (``flops`` each) run on one BLAS thread if they are small
    (see the module docstring); the thread count is restored after."""

    __slots__ = ("flops", "restore")

    def __init__(self, flops: float) -> None:
        self.flops = flops
        self.restore = 0

    def __enter__(self):
        if self.flops < SMALL_FLOPS:
            functions = blas_functions()
            if functions:
                threads = functions[1]()
                if threads > 1:
                    functions[0](1)
                    self.restore = threads
        return self

    def __exit__(self, *exc) -> None:
        if self.restore:
            _functions[0](self.restore)
            self.restore = 0


def matmul(a, b):
    """``np.matmul(a, b)`` under ``small_product`` (one BLAS thread when small on a busy machine)."""
    import numpy as np

    batch = max(math.prod(a.shape[:-2]), math.prod(b.shape[:-2]))
    with small_product(2.0 * batch * a.shape[-2] * a.shape[-1] * b.shape[-1]):
        return np.matmul(a, b)
