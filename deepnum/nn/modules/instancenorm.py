"""``InstanceNorm1d/2d/3d``: per-sample, per-channel normalisation (style transfer, GANs)."""

from __future__ import annotations

from deepnum.nn import init
from deepnum.nn.functional.instancenorm import instance_norm
from deepnum.nn.modules.module import Module
from deepnum.nn.modules.normalization import register_affine, register_running_stats

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(Module):
    """Normalise each channel of each sample over its positions; PyTorch's defaults
    (``affine=False``, ``track_running_stats=False``).

    Args:
        num_features: channels C.
        eps: added to the variance.
        momentum: running-statistics update rate (with ``track_running_stats``).
        affine: learn γ (ones) and β (zeros) per channel.
        bias: with ``affine``, whether β is learnt too.
        track_running_stats: keep running mean/var and use them in eval mode.

    Shape:
        ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``; output the same shape.
    """

    _spatial = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats, self.has_bias = (
            affine,
            track_running_stats,
            affine and bias,
        )
        register_affine(self, num_features, affine, bias, dtype)
        register_running_stats(self, num_features, track_running_stats, dtype)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        batched = self._spatial + 2
        if input.ndim not in (batched - 1, batched):
            raise ValueError(
                f"{type(self).__name__}: expected {batched - 1}D (unbatched) or {batched}D input, got shape {tuple(input.shape)}"
            )
        x = input.unsqueeze(0) if input.ndim == batched - 1 else input
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(
                f"{type(self).__name__}(num_features={self.num_features}): input has {x.shape[1]} channels (shape {tuple(input.shape)})"
            )
        use_input_stats = self.training or not self.track_running_stats
        y = instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_input_stats,
            self.momentum,
            self.eps,
        )
        return y.squeeze(0) if input.ndim == batched - 1 else y

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, bias={self.has_bias}, "
            f"track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    _spatial = 3
