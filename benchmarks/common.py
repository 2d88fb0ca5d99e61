"""Benchmark harness: deepnum (A) against PyTorch (B) on the same workload.

Timing: each case builds its deepnum and its PyTorch workload once, runs both for warm-up,
then alternates A B A B ... for ``repeats`` samples in the same process, so that both see
the same machine load. A sample times ``number`` consecutive calls; the figures are the
median per call of each library and the median over the pairs of the ratio
``deepnum / PyTorch`` (paired, so a load spike hitting one pair does not skew the ratio).
PyTorch runs with ``torch.set_num_threads(2)``; NumPy's BLAS uses its default thread count.
Each sample is followed by a short pause so that neither library's spinning worker threads
slow the other's next sample.

Memory (one method for both libraries): each case is run again in a fresh subprocess that
imports only the library under test. After the workload's inputs are built, the kernel's
peak-RSS mark is reset (``/proc/self/clear_refs``) and the resident set size read
(baseline, ``VmRSS``); after ``number`` calls the peak (``VmHWM``) is read. The reported
figure is peak minus baseline: what running the workload needs beyond its inputs, one-time
library initialisation included. It counts every allocation (NumPy, PyTorch's allocator,
Python objects) at page granularity. (``getrusage`` maxrss is not used: Linux carries it
over from the parent process across fork and exec.)

Every script prints a table and ends with one JSON line (machine, versions, BLAS kernel,
results) that ``run_all.py`` collects.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@dataclass
class Case:
    """One workload: ``make_deepnum()`` / ``make_torch()`` return a zero-argument callable
    that runs it once; ``scale`` converts seconds per call to ``unit``."""

    name: str
    make_deepnum: Callable[[], Callable[[], object]]
    make_torch: Callable[[], Callable[[], object]]
    number: int = 1
    unit: str = "ms"
    scale: float = 1e3


def _setup_torch():
    import torch

    torch.set_num_threads(2)
    return torch


def _openblas_info() -> dict:
    """The OpenBLAS kernel NumPy actually runs (the library's own answer, via ctypes)."""
    import numpy as np  # noqa: F401 - loads NumPy's BLAS into the process

    with open("/proc/self/maps") as f:
        libs = sorted(set(re.findall(r"/\S*openblas\S*\.so\S*", f.read())))
    for path in libs:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")):
            core = getattr(lib, f"{prefix}openblas_get_corename{suffix}", None)
            if core is None:
                continue
            core.restype = ctypes.c_char_p
            config = getattr(lib, f"{prefix}openblas_get_config{suffix}")
            config.restype = ctypes.c_char_p
            threads = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}")
            return {"library": os.path.basename(path), "kernel": core().decode(),
                    "config": config().decode().strip(), "threads": threads()}
    return {}


def environment() -> dict:
    """Machine, versions and BLAS kernels, for the record."""
    import numpy as np

    torch = _setup_torch()
    blas = _openblas_info()
    if not blas:  # not OpenBLAS: fall back to NumPy's build configuration
        deps = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = {"library": deps.get("name"), "kernel": "unknown", "config": deps.get("version")}
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    torch_blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return {
        "machine": f"{platform.machine()} {cpu}, {os.cpu_count()} logical CPUs",
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "numpy_blas": blas,
        "torch_blas": torch_blas.group(1) if torch_blas else "unknown",
        "torch_threads": torch.get_num_threads(),
        "loadavg_1min": os.getloadavg()[0],
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }


SETTLE_SECONDS = 0.3  # after a sample, until the library's idle worker threads stop spinning


def training_epoch(model, optimizer, loss_fn, batches):
    """One epoch over pre-cut ``batches`` as a call: the same PyTorch-style loop for both
    libraries (zero_grad, forward, loss, backward, step)."""

    def epoch():
        for xb, yb in batches:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()

    return epoch


def _time(fn, number: int) -> float:
    """Seconds per call of ``fn`` over ``number`` calls, then a pause before the next sample.

    OpenBLAS's and PyTorch's OpenMP worker threads keep spinning for a while after a call;
    without the pause they would take a core from the other library's next sample (measured:
    PyTorch's LeNet epoch 0.40 s alone, 0.47 s right after a deepnum epoch).
    """
    start = time.perf_counter()
    for _ in range(number):
        fn()
    elapsed = (time.perf_counter() - start) / number
    time.sleep(SETTLE_SECONDS)
    return elapsed


def time_case(case: Case, repeats: int) -> dict:
    """Interleaved A B A B timing; medians and the paired-median ratio."""
    _setup_torch()
    a, b = case.make_deepnum(), case.make_torch()
    _time(a, max(1, case.number // 4))  # warm-up
    _time(b, max(1, case.number // 4))
    ta, tb = [], []
    for _ in range(repeats):
        ta.append(_time(a, case.number))
        tb.append(_time(b, case.number))
    return {
        "case": case.name,
        "unit": case.unit,
        "deepnum": statistics.median(ta) * case.scale,
        "torch": statistics.median(tb) * case.scale,
        "ratio": statistics.median(x / y for x, y in zip(ta, tb)),
        "repeats": repeats,
        "number": case.number,
    }


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1)) / 1024


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS


def _memory_child(cases: dict, lib: str, name: str) -> None:
    case = cases[name]
    if lib == "torch":
        _setup_torch()
    fn = case.make_deepnum() if lib == "deepnum" else case.make_torch()
    _reset_peak_rss()
    base = _status_mb("VmRSS")
    _time(fn, case.number)
    print(json.dumps({"baseline_mb": base, "peak_mb": _status_mb("VmHWM")}))


def measure_memory(script: str, lib: str, name: str) -> dict:
    out = subprocess.run(
        [sys.executable, script, "--memory-child", lib, name],
        capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]
    result = json.loads(out)
    result["growth_mb"] = result["peak_mb"] - result["baseline_mb"]
    return result


def main(title: str, cases: list[Case], script: str, repeats: int = 10) -> None:
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--memory-child", nargs=2, metavar=("LIB", "CASE"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    args = parser.parse_args()
    by_name = {c.name: c for c in cases}
    if args.memory_child:
        _memory_child(by_name, *args.memory_child)
        return
    env = environment()
    blas = env["numpy_blas"]
    print(f"# {title}")
    print(f"machine: {env['machine']}; python {env['python']}, numpy {env['numpy']}, "
          f"torch {env['torch']}")
    print(f"numpy BLAS: {blas.get('library')} kernel={blas.get('kernel')} "
          f"threads={blas.get('threads')}; torch BLAS: {env['torch_blas']} "
          f"threads={env['torch_threads']}; load {env['loadavg_1min']:.2f}")
    results = []
    print(f"{'case':<26}{'deepnum':>13}{'PyTorch':>13}{'ratio':>8}"
          f"{'mem dn MB':>11}{'mem pt MB':>11}")
    for case in cases:
        r = time_case(case, args.repeats)
        if not args.no_memory:
            r["deepnum_memory"] = measure_memory(script, "deepnum", case.name)
            r["torch_memory"] = measure_memory(script, "torch", case.name)
        mem_dn = r.get("deepnum_memory", {}).get("growth_mb", float("nan"))
        mem_pt = r.get("torch_memory", {}).get("growth_mb", float("nan"))
        print(f"{case.name:<26}{r['deepnum']:>10.2f} {case.unit:<2}{r['torch']:>10.2f} "
              f"{case.unit:<2}{r['ratio']:>8.2f}{mem_dn:>11.1f}{mem_pt:>11.1f}")
        results.append(r)
    print(json.dumps({"benchmark": title, "script": os.path.basename(script), "env": env,
                      "results": results}))
