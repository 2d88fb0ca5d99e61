"""One OpenBLAS thread for small matrix products while the machine has no idle core.

OpenBLAS splits even a 0.1 ms product across its threads, which then wait for one another at
every call (and spin for a while after it). On idle cores that pays: an LSTM step product
(32 x 256 x 1024) takes 46 us on two threads and 83 us on one. When other work holds the
cores, a waiting thread is often descheduled and the same products take several times longer
than on one thread (measured on 2 loaded cores: an LSTM training step 140 ms with two threads,
77 ms with one; an MLP epoch 5-8 s with two, 0.55 s with one). So a product below
``SMALL_FLOPS`` runs on one thread while other processes keep the cores busy (``cores_busy``:
their CPU time over the last second, not the load average, which lags by a minute and counts
this process's own threads); big products and idle machines keep OpenBLAS's own choice. The
thread count is always restored.

Nothing happens when NumPy's BLAS is not OpenBLAS.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import time

SMALL_FLOPS = 1e8
_READING_TTL = 1.0  # seconds a reading is reused
_functions = None  # (set, get) from OpenBLAS, () when there is none
_busy = (False, -1e9)  # (busy, time of the reading)
_last = None  # (time, machine busy CPU seconds, own CPU seconds) at the last reading
try:
    _CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
except (AttributeError, ValueError, OSError):
    _CLOCK_TICKS = 100


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


def _machine_cpu_seconds():
    """CPU seconds the whole machine has been busy since boot (``/proc/stat``), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / _CLOCK_TICKS


def cores_busy() -> bool:
    """Whether other processes kept more than half a core busy over the last second or more.

    Measured as the machine's busy CPU time minus this process's own over the time since the
    previous reading (so the process's own BLAS threads never count against it). Until there
    are two readings, or without ``/proc/stat``, the machine counts as idle (OpenBLAS's own
    choice); the load average is no substitute: it lags by a minute and on some virtual
    machines reads above the core count while every core is idle.
    """
    global _busy, _last
    now = time.monotonic()
    if now - _busy[1] <= _READING_TTL:
        return _busy[0]
    machine, own = _machine_cpu_seconds(), time.process_time()
    if machine is None or _last is None:
        busy = False
    else:
        others = (machine - _last[1]) - (own - _last[2])
        busy = others > 0.5 * (now - _last[0])
    _last = None if machine is None else (now, machine, own)
    _busy = (busy, now)
    return busy


class small_product:
    """Context: the products inside (``flops`` each) run on one BLAS thread if the machine is
    busy and they are small (see the module docstring); the thread count is restored after."""

    __slots__ = ("flops", "restore")

    def __init__(self, flops: float) -> None:
        self.flops = flops
        self.restore = 0

    def __enter__(self):
        if self.flops < SMALL_FLOPS and cores_busy():
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
