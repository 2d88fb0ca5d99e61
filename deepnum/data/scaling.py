"""Feature scaling fitted on the training data only (003 §2.2).

003 §2.2: scale inputs (and regression outputs) to [0, 1] by (x - min) / (max - min), or
standardise by subtracting the mean and dividing by the standard deviation. The statistics
come from the training set; dev, test and new data are transformed with the same numbers,
so they may fall slightly outside [0, 1] (003 notes this is harmless when small).

Scalers take tensors or NumPy arrays and return the same kind; on tensors the transform is
made of deepnum ops, so gradients flow through it. Attribute names follow scikit-learn.
"""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor

__all__ = ["MinMaxScaler", "StandardScaler"]


def _array(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().array
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _axes(dim, ndim: int) -> tuple:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(d % ndim for d in dims)


class _Scaler:
    """Shared fit / transform plumbing: ``x_scaled = x * scale_ + min_`` per feature."""

    def __init__(self, dim) -> None:
        self.dim = dim
        self.scale_ = None
        self.min_ = None

    def _stats_shape(self, x) -> tuple:
        return tuple(1 if i in _axes(self.dim, np.ndim(x)) else s for i, s in enumerate(np.shape(x)))

    def _check_fitted(self, x, op: str) -> None:
        name = type(self).__name__
        if self.scale_ is None:
            raise RuntimeError(f"{name}.{op}: this scaler is not fitted yet; call fit() on "
                               "the training data first")
        shape, fitted = self._stats_shape(x), self.scale_.shape
        if len(shape) != len(fitted) or any(a != b for a, b in zip(shape, fitted) if b != 1):
            raise ValueError(f"{name}.{op}: input of shape {tuple(np.shape(x))} does not match "
                             f"the {fitted} features it was fitted on")

    def _affine(self, x, scale: np.ndarray, shift: np.ndarray):
        if isinstance(x, Tensor):
            return x * scale.astype(x.dtype, copy=False) + shift.astype(x.dtype, copy=False)
        x = _array(x)
        return x * scale.astype(x.dtype, copy=False) + shift.astype(x.dtype, copy=False)

    def transform(self, x):
        """Scale ``x`` with the statistics from ``fit``."""
        self._check_fitted(x, "transform")
        return self._affine(x, self.scale_, self.min_)

    def inverse_transform(self, x):
        """Undo ``transform`` (e.g. to report predictions in the original units)."""
        self._check_fitted(x, "inverse_transform")
        return self._affine(x, 1 / self.scale_, -self.min_ / self.scale_)

    def fit_transform(self, x):
        """``fit(x)`` then ``transform(x)``: for the training data only."""
        return self.fit(x).transform(x)


class MinMaxScaler(_Scaler):
    """x' = (x - min) / (max - min) · (b - a) + a, min and max from the training data.

    Args:
        feature_range: (a, b), the range of the scaled training data. Default: (0, 1).
        dim: dimension(s) reduced when computing the statistics; every other position is a
            separate feature. Default: 0 (the sample dimension).

    Features that are constant in the training data are only shifted (scale 1), as
    scikit-learn does, instead of dividing by zero.

    Examples:
        >>> import numpy as np
        >>> scaler = MinMaxScaler().fit(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> scaler.transform(np.array([[1.0, 20.0], [4.0, 10.0]]))
        array([[0.5, 0.5],
               [2. , 0. ]])

    References:
        003 §2.2 (scale inputs and outputs to [0, 1] by (x - min) / (max - min)).
    """

    def __init__(self, feature_range: tuple = (0.0, 1.0), dim=0) -> None:
        super().__init__(dim)
        low, high = feature_range
        if not low < high:
            raise ValueError(f"MinMaxScaler: feature_range must be (min, max) with min < max, "
                             f"got {feature_range}")
        self.feature_range = (low, high)
        self.data_min_ = self.data_max_ = self.data_range_ = None

    def fit(self, x) -> MinMaxScaler:
        """Learn the per-feature min and max of the training data ``x``."""
        a = _array(x)
        axes = _axes(self.dim, a.ndim)
        self.data_min_ = a.min(axis=axes, keepdims=True)
        self.data_max_ = a.max(axis=axes, keepdims=True)
        self.data_range_ = self.data_max_ - self.data_min_
        safe_range = np.where(self.data_range_ == 0, 1, self.data_range_)
        low, high = self.feature_range
        self.scale_ = (high - low) / safe_range
        self.min_ = low - self.data_min_ * self.scale_
        return self


class StandardScaler(_Scaler):
    """x' = (x - mean) / std with the training data's mean and (population) std.

    Args:
        with_mean: subtract the mean. Default: True.
        with_std: divide by the standard deviation. Default: True.
        dim: dimension(s) reduced when computing the statistics. Default: 0.

    Features with zero variance keep scale 1. 003 §2.2 warns that standardising presumes
    roughly Gaussian inputs and outputs.

    Examples:
        >>> import numpy as np
        >>> StandardScaler().fit_transform(np.array([[1.0], [3.0]]))
        array([[-1.],
               [ 1.]])

    References:
        003 §2.2 (subtract the mean and divide by the standard deviation).
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True, dim=0) -> None:
        super().__init__(dim)
        self.with_mean = with_mean
        self.with_std = with_std
        self.mean_ = self.var_ = None

    def fit(self, x) -> StandardScaler:
        """Learn the per-feature mean and standard deviation of the training data ``x``."""
        a = _array(x)
        axes = _axes(self.dim, a.ndim)
        self.mean_ = a.mean(axis=axes, keepdims=True)
        self.var_ = a.var(axis=axes, keepdims=True)
        std = np.sqrt(self.var_)
        std = np.where(std == 0, 1, std) if self.with_std else np.ones_like(std)
        self.scale_ = 1 / std
        mean = self.mean_ if self.with_mean else np.zeros_like(self.mean_)
        self.min_ = -mean * self.scale_
        return self
