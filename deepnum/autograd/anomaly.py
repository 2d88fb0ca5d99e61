"""Anomaly detection: the first operation whose forward or backward makes a NaN or Inf raises.

The error names the operation and the line of user code that created it, so a NaN loss
leads straight to the op that made it instead of a silent divergence.
"""

from __future__ import annotations

import os
import traceback

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _AnomalyMode:
    enabled = False


def is_anomaly_enabled() -> bool:
    return _AnomalyMode.enabled


class set_detect_anomaly:
    """Turn anomaly detection on or off (context manager or plain call)."""

    def __init__(self, mode: bool) -> None:
        self.prev = _AnomalyMode.enabled
        _AnomalyMode.enabled = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _AnomalyMode.enabled = self.prev


class detect_anomaly:
    """Context manager: inside it, every op checks its results for NaN and Inf.

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

    def __enter__(self) -> None:
        self.prev = _AnomalyMode.enabled
        _AnomalyMode.enabled = True

    def __exit__(self, *exc) -> None:
        _AnomalyMode.enabled = self.prev


def creation_site() -> str:
    """The innermost stack frame outside deepnum itself, as 'file:line in function: code'."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return "<unknown>"


def _bad_value(array) -> str | None:
    data = getattr(array, "array", array)
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "fc":
        return None
    if np.isnan(data).any():
        return "nan"
    if np.isinf(data).any():
        return "inf"
    return None


def check_forward(fn_name: str, outputs, site: str) -> None:
    for out in outputs:
        bad = _bad_value(out)
        if bad:
            raise RuntimeError(
                f"Function '{fn_name}' produced {bad} in its forward output: "
                f"the op was created at {site}"
            )


def check_backward(fn_name: str, grads, site: str) -> None:
    for i, g in enumerate(grads):
        bad = _bad_value(g) if g is not None else None
        if bad:
            raise RuntimeError(
                f"Function '{fn_name}Backward' returned {bad} values in its {i}th output: "
                f"the op was created at {site}"
            )
