"""Matrix products that keep small GEMMs on one BLAS thread.

OpenBLAS splits every product above a tiny size across its threads, which then wait for one
another. On a machine shared with other work a waiting thread is often descheduled, and a
0.4 ms product then takes tens to hundreds of milliseconds (measured on 2 shared cores:
median 0.4 ms, worst 370 ms with two threads; worst 9 ms with one). Products smaller than
``SMALL_FLOPS`` — every product of a LeNet step — gain little from a second thread anyway,
so ``matmul`` runs them single-threaded; large products keep all threads.
"""

from __future__ import annotations

import ctypes
import re

import numpy as np

SMALL_FLOPS = 1e8
_setter = _getter = None
_probed = False


def _probe() -> None:
    """Find OpenBLAS's thread-count functions in the loaded library (none: leave it alone)."""
    global _setter, _getter, _probed
    _probed = True
    try:
        with open("/proc/self/maps") as f:
            libs = sorted(set(re.findall(r"/\S*openblas\S*\.so\S*", f.read())))
    except OSError:
        return
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
                _setter, _getter = setter, getter
                return


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b)``, on a single BLAS thread when the product is small."""
    if not _probed:
        _probe()
    if _setter is None:
        return np.matmul(a, b)
    batch = max(int(np.prod(a.shape[:-2])), int(np.prod(b.shape[:-2])))
    flops = 2.0 * batch * a.shape[-2] * a.shape[-1] * b.shape[-1]
    if flops >= SMALL_FLOPS:
        return np.matmul(a, b)
    threads = _getter()
    if threads <= 1:
        return np.matmul(a, b)
    _setter(1)
    try:
        return np.matmul(a, b)
    finally:
        _setter(threads)
