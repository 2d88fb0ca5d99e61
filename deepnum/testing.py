"""``deepnum.testing.assert_close``: PyTorch's tolerance check for tensors, arrays and numbers.

Passes when ``|actual − expected| ≤ atol + rtol·|expected|`` everywhere (NaNs equal only with
``equal_nan``), after checking shapes and, unless ``check_dtype=False``, dtypes. Default
tolerances per dtype are PyTorch's: float16 1e-3/1e-5, float32 1.3e-6/1e-5, float64 1e-7/1e-7,
exact for integers and booleans.
"""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor

__all__ = ["assert_close"]

_DEFAULTS = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}


def _array(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses: bool = True,
    rtol=None,
    atol=None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg=None,
) -> None:
    """Raise ``AssertionError`` naming the worst mismatch if ``actual`` is not close to ``expected``.

    Sequences and mappings are compared element by element.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"assert_close: both 'rtol' and 'atol' must be given or left out, got rtol={rtol} and atol={atol}"
        )
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), (
            msg or f"keys differ: {list(actual)} vs {list(expected)}"
        )
        for key in expected:
            assert_close(
                actual[key],
                expected[key],
                rtol=rtol,
                atol=atol,
                equal_nan=equal_nan,
                check_dtype=check_dtype,
                msg=msg,
            )
        return
    if isinstance(expected, (list, tuple)) and not np.isscalar(expected):
        assert len(actual) == len(expected), (
            msg or f"lengths differ: {len(actual)} vs {len(expected)}"
        )
        for a, e in zip(actual, expected):
            assert_close(
                a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg
            )
        return
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(
            msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}."
        )
    if (
        check_dtype
        and (isinstance(actual, Tensor) or isinstance(expected, Tensor))
        and a.dtype != e.dtype
    ):
        raise AssertionError(
            msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}."
        )
    if rtol is None:
        rtol, atol = _DEFAULTS.get(np.promote_types(a.dtype, e.dtype), (0.0, 0.0))
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    diff = np.abs(a64 - e64)
    ok = diff <= atol + rtol * np.abs(e64)
    ok |= a64 == e64  # equal infinities
    if equal_nan:
        ok |= np.isnan(a64) & np.isnan(e64)
    if not ok.all():
        bad = int((~ok).sum())
        where = (
            np.unravel_index(
                int(np.argmax(np.where(ok, -np.inf, np.nan_to_num(diff, nan=np.inf)))), a.shape
            )
            if a.ndim
            else ()
        )
        raise AssertionError(
            msg
            or (
                f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {a.size} ({100.0 * bad / max(a.size, 1):.1f}%)\n"
                f"Greatest absolute difference: {float(np.nanmax(np.where(ok, 0, diff)))} at index {tuple(int(i) for i in where)} "
                f"(up to {atol} allowed)\nactual {a64[where] if a.ndim else a64}, expected {e64[where] if a.ndim else e64}"
            )
        )
