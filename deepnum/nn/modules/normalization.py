"""Normalisation layers: BatchNorm1d/2d/3d (002, 003 §2.6; with optional batch
renormalization), LayerNorm (004) and GroupNorm."""

from __future__ import annotations

import numpy as np

from deepnum import _dtype
from deepnum.nn import functional as F
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter
from deepnum.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm"]


def _dt(dtype):
    return _dtype.to_dtype(dtype) if dtype else _dtype.get_default_dtype()


def _buffer(array) -> Tensor:
    return Tensor._make(array, False, None, 0)


def register_affine(module: Module, shape, affine: bool, bias: bool, dtype) -> None:
    """Register γ = ``weight`` (ones), β = ``bias`` (zeros) of ``shape``, or None if not learnt."""
    dt = _dt(dtype)
    module.register_parameter("weight", Parameter(np.ones(shape, dt)) if affine else None)
    module.register_parameter("bias", Parameter(np.zeros(shape, dt)) if affine and bias else None)


def reset_affine(module: Module) -> None:
    """γ = 1, β = 0: the normalised output passes through unchanged."""
    if module.weight is not None:
        module.weight.array.fill(1)
    if module.bias is not None:
        module.bias.array.fill(0)


def register_running_stats(module: Module, num_features: int, track: bool, dtype) -> None:
    """Register ``running_mean`` (zeros), ``running_var`` (ones), ``num_batches_tracked`` (0),
    or None for each when statistics are not tracked."""
    dt = _dt(dtype)
    stats = {
        "running_mean": np.zeros(num_features, dt),
        "running_var": np.ones(num_features, dt),
        "num_batches_tracked": np.zeros((), np.int64),
    }
    for name, array in stats.items():
        module.register_buffer(name, _buffer(array) if track else None)


class _BatchNorm(Module):
    """y = γ (x - μ) / sqrt(σ² + ε) + β per channel (dim 1), μ and σ² from the batch in
    training and from running averages in evaluation.

    Args:
        num_features: C, the number of channels.
        eps: ε added to the variance (003 §2.6's δ).
        momentum: weight of the new batch in the running averages; None for a cumulative
            (equal-weight) average over all batches seen.
        affine: learn γ (``weight``, ones) and β (``bias``, zeros).
        bias: with ``affine``, also learn β (keyword only).
        track_running_stats: keep ``running_mean`` (zeros), ``running_var`` (ones) and
            ``num_batches_tracked``; without them evaluation also uses batch statistics.
        renorm: deepnum's batch renormalization (Ioffe 2017): in training normalise with
            r (x - μ_B)/σ_B + d, r = clip(σ_B/σ, 1/rmax, rmax), d = clip((μ_B - μ)/σ, ±dmax),
            μ, σ the running statistics; r, d get no gradient. Needs track_running_stats.
        rmax, dmax: the clipping bounds of r and d.

    References:
        002 (batch normalization); 003 §2.6; Ioffe & Szegedy 2015, arXiv:1502.03167; Ioffe,
        "Batch Renormalization", 2017, arXiv:1702.03275.
    """

    _expected_dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True, renorm: bool = False, rmax: float = 3.0, dmax: float = 5.0) -> None:
        super().__init__()
        if renorm and not track_running_stats:
            raise ValueError(f"{type(self).__name__}: renorm=True needs track_running_stats=True")
        if renorm and (rmax < 1 or dmax < 0):
            raise ValueError(f"{type(self).__name__}: need rmax >= 1 and dmax >= 0, got rmax={rmax}, dmax={dmax}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.renorm, self.rmax, self.dmax = renorm, rmax, dmax
        register_affine(self, num_features, affine, bias, dtype)
        register_running_stats(self, num_features, track_running_stats, dtype)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array.fill(0)
            self.running_var.array.fill(1)
            self.num_batches_tracked.array.fill(0)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine(self)

    def _check_input(self, input) -> None:
        name = type(self).__name__
        if input.ndim not in self._expected_dims:
            want = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"{name}: expected {want} input (got {input.ndim}D input of shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise RuntimeError(
                f"{name}(num_features={self.num_features}): input has {input.shape[1]} channels "
                f"in dimension 1 (shape {tuple(input.shape)})"
            )

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.array)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        rm = self.running_mean if track else None
        rv = self.running_var if track else None
        if self.renorm and self.training:
            return F.batch_renorm(input, rm, rv, self.weight, self.bias, True, factor, self.eps, self.rmax, self.dmax)
        return F.batch_norm(input, rm, rv, self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        s = (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
             f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
        if self.renorm:
            s += f", renorm=True, rmax={self.rmax}, dmax={self.dmax}"
        return s


class BatchNorm1d(_BatchNorm):
    """Batch norm over ``(N, C)`` or ``(N, C, L)`` input; see ``_BatchNorm`` for the arguments.

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> y = nn.BatchNorm1d(3)(deepnum.randn(8, 3))
        >>> bool(abs(y.mean(0)).max() < 1e-5)
        True
    """

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over ``(N, C, H, W)`` input, statistics per channel over N, H, W."""

    _expected_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm over ``(N, C, D, H, W)`` input."""

    _expected_dims = (5,)


class LayerNorm(Module):
    """y = γ (x - μ) / sqrt(σ² + ε) + β, μ and σ² over the last dims given by ``normalized_shape``
    for every sample separately (004); same in training and evaluation.

    Shape:
        ``weight`` (ones) and ``bias`` (zeros): ``normalized_shape``.

    References:
        Ba, Kiros & Hinton, "Layer Normalization", 2016, arXiv:1607.06450.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        register_affine(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input):
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k:]) != self.normalized_shape:
            raise RuntimeError(
                f"LayerNorm(normalized_shape={self.normalized_shape}): expected input of shape "
                f"(*, {', '.join(map(str, self.normalized_shape))}), got {tuple(input.shape)}"
            )
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalises each group of ``num_channels / num_groups`` channels per sample, then applies
    per-channel γ (ones) and β (zeros).

    References:
        Wu & He, "Group Normalization", ECCV 2018, arXiv:1803.08494.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        register_affine(self, num_channels, affine, bias, dtype)

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(
                f"GroupNorm(num_groups={self.num_groups}, num_channels={self.num_channels}): "
                f"expected input of shape (N, {self.num_channels}, *), got {tuple(input.shape)}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
