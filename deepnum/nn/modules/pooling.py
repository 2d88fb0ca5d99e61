"""Pooling layers (``torch.nn.*Pool*``): a summary statistic of each neighbourhood (003 §3.1).

Max pooling keeps the largest activation of each window, average pooling the mean, power
(L2) pooling ``(Σ x^p)^{1/p}``; pooling makes the network approximately invariant to small
translations and shrinks the feature maps (003 §3.1; 2×2 stride 2 in 002).
"""

from __future__ import annotations

from deepnum.nn import functional as F
from deepnum.nn.functional.conv import ntuple
from deepnum.nn.modules.module import Module

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
]


class _MaxPoolNd(Module):
    _nd = 0

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices=False,
        ceil_mode=False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return F.pooling.max_poolnd(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
            self._nd,
            type(self).__name__,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """``y[n,c,t] = max_k x[n,c,s·t + d·k − p]`` over ``(N, C, L)`` (003 §3.1)."""

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """``y[n,c,i,j] = max over the kH×kW window`` (003 §3.1); ``MaxPool2d(2)`` halves H, W (002).

    Args: kernel_size, stride=kernel_size, padding=0 (−∞), dilation=1, return_indices=False
    (also return flat argmax indices per plane), ceil_mode=False.
    Shape: ``(N, C, H, W)`` → ``(N, C, ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1, …)``.
    """

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    """Max pooling over ``(N, C, D, H, W)``."""

    _nd = 3


class _AvgPoolNd(Module):
    _nd = 0

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return F.pooling.avg_poolnd(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
            self._nd,
            type(self).__name__,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of ``(N, C, L)`` (003 §3.1)."""

    _nd = 1

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ) -> None:
        def one(v):  # PyTorch stores 1-tuples
            return tuple(v) if isinstance(v, (tuple, list)) else (v,)

        stride = kernel_size if stride is None else stride
        super().__init__(one(kernel_size), one(stride), one(padding), ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over ``kH×kW`` windows of ``(N, C, H, W)``; ``count_include_pad`` counts padding."""

    _nd = 2


class AvgPool3d(_AvgPoolNd):
    """Mean over ``kD×kH×kW`` windows."""

    _nd = 3


class _LPPoolNd(Module):
    _nd = 0

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = (
            norm_type,
            kernel_size,
            stride,
            ceil_mode,
        )

    def forward(self, input):
        return F.pooling.lp_poolnd(
            input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode, self._nd
        )

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """Power-average pooling ``(Σ_window x^p)^{1/p}`` over ``(N, C, L)`` (003 §3.1)."""

    _nd = 1


class LPPool2d(_LPPoolNd):
    """Power-average pooling; ``norm_type=2`` is the L2 pooling of 003 §3.1."""

    _nd = 2


class _AdaptivePool(Module):
    def __init__(self, output_size, return_indices=False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average into ``output_size`` windows ``[⌊iL/O⌋, ⌈(i+1)L/O⌉)`` whatever the input length."""

    def __init__(self, output_size) -> None:
        super().__init__(output_size)

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average into an ``output_size`` grid (``AdaptiveAvgPool2d(1)``: global average pool)."""

    def __init__(self, output_size) -> None:
        super().__init__(output_size)

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average into an ``output_size`` grid over ``(N, C, D, H, W)``."""

    def __init__(self, output_size) -> None:
        super().__init__(output_size)

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Maximum over ``output_size`` adaptive windows of ``(N, C, L)``."""

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Maximum over an ``output_size`` grid of adaptive windows."""

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptivePool):
    """Maximum over an ``output_size`` grid of adaptive windows of ``(N, C, D, H, W)``."""

    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _nd = 0

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        nd = self._nd
        self.kernel_size = ntuple(kernel_size, nd, f"{type(self).__name__}: kernel_size")
        self.stride = ntuple(
            kernel_size if stride is None else stride, nd, f"{type(self).__name__}: stride"
        )
        self.padding = ntuple(padding, nd, f"{type(self).__name__}: padding")

    def forward(self, input, indices, output_size=None):
        return F.pooling.max_unpoolnd(
            input, indices, self.kernel_size, self.stride, self.padding, output_size, self._nd,
            type(self).__name__,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool1d``: ``(N, C, L)`` values back at their argmax
    ``indices``, zeros elsewhere; length ``(L − 1)·s + k − 2p`` or ``output_size``."""

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool2d`` (the unpooling of SegNet-style decoders).

    Args: kernel_size, stride=kernel_size, padding=0, as the max pool they invert.
    ``forward(input, indices, output_size=None)``: ``indices`` from
    ``MaxPool2d(..., return_indices=True)``; ``output_size`` picks among the sizes that pool
    to the input's (e.g. an odd size before the pool).
    Shape: ``(N, C, H, W)`` → ``(N, C, (H − 1)·s + k − 2p, (W − 1)·s + k − 2p)``.

    Examples:
        >>> pool, unpool = MaxPool2d(2, return_indices=True), MaxUnpool2d(2)
        >>> x = deepnum.tensor([[[[1.0, 5.0, 0.0], [3.0, 2.0, 4.0], [6.0, 0.0, 7.0]]]])
        >>> y, idx = pool(x)
        >>> unpool(y, idx, output_size=x.shape)
        tensor([[[[0., 5., 0.],
                  [0., 0., 0.],
                  [0., 0., 0.]]]])
    """

    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool3d`` over ``(N, C, D, H, W)``."""

    _nd = 3
