"""Anomaly detection: the first operation whose forward or backward makes a NaN or Inf raises.

The error names the operation and the line of user code that created it, so a NaN loss
leads straight to the op that made it instead of a silent divergence. While the mode is on,
every op records where it was created (the innermost stack frame outside deepnum), and an
exception raised inside a backward gets that place attached as a note. With
``check_nan=False`` only the places are recorded, as in PyTorch.
"""

from __future__ import annotations

import functools
import linecache
import os
import sys

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class _AnomalyMode:
    enabled = False
    check_nan = True


def is_anomaly_enabled() -> bool:
    return _AnomalyMode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _AnomalyMode.check_nan


class _AnomalyContext:
    def _set(self, mode: bool, check_nan: bool) -> None:
        self.prev = (_AnomalyMode.enabled, _AnomalyMode.check_nan)
        _AnomalyMode.enabled, _AnomalyMode.check_nan = bool(mode), bool(check_nan)

    def __exit__(self, *exc) -> None:
        _AnomalyMode.enabled, _AnomalyMode.check_nan = self.prev


class set_detect_anomaly(_AnomalyContext):
    """Turn anomaly detection on or off (context manager or plain call)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._set(mode, check_nan)

    def __enter__(self) -> None:
        pass


class detect_anomaly(_AnomalyContext):
    """Context manager (or decorator): inside it, every op checks its results for NaN and Inf.

    Args:
        check_nan: raise on NaN/Inf (default); False only records where ops were created.

    Examples:
        >>> import deepnum
        >>> x = deepnum.tensor([0.0], requires_grad=True)
        >>> with deepnum.autograd.detect_anomaly():
        ...     try:
        ...         (x / x).sum().backward()
        ...     except RuntimeError as e:
        ...         print(str(e).split(":")[0])
        Function 'Div' produced nan in its forward output
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._set(True, self.check_nan)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def creation_site() -> str:
    """The innermost stack frame outside deepnum itself, as 'file:line in function: code'."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR):
            line = linecache.getline(filename, frame.f_lineno).strip()
            return f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}: {line}"
        frame = frame.f_back
    return "<unknown>"


def _bad_value(array) -> str | None:
    data = getattr(array, "array", array)
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "fc":
        return None
    if np.isfinite(data).all():
        return None
    return "nan" if np.isnan(data).any() else "inf"


def check_forward(fn_name: str, outputs, site: str) -> None:
    if not _AnomalyMode.check_nan:
        return
    for out in outputs:
        bad = _bad_value(out)
        if bad:
            raise RuntimeError(
                f"Function '{fn_name}' produced {bad} in its forward output: "
                f"the op was created at {site}"
            )


def check_backward(fn_name: str, grads, site: str) -> None:
    if not _AnomalyMode.check_nan:
        return
    for i, g in enumerate(grads):
        bad = _bad_value(g) if g is not None else None
        if bad:
            raise RuntimeError(
                f"Function '{fn_name}Backward' returned {bad} values in its {i}th output: "
                f"the op was created at {site}"
            )


def note_backward_error(error: BaseException, fn_name: str, site: str | None) -> None:
    """Attach the forward op's creation place to an exception raised in its backward."""
    error.add_note(
        f"Error detected in {fn_name}Backward (anomaly mode). The forward op was created "
        f"at {site or '<unknown>'}"
    )
