"""Convolutional networks: LeNet, a small VGG-style stack and residual networks (002).

* ``LeNet``: conv(6, 5×5) → ReLU → max-pool 2 → conv(16, 5×5) → ReLU → max-pool 2 →
  120 → 84 → classes (LeCun et al. 1998), the CNN of the MNIST experiments (002).
* ``SmallVGG``: stacks of 3×3 convolutions with ReLU, each stack closed by a 2×2 max-pool,
  then a dense classifier (Simonyan & Zisserman 2014, arXiv:1409.1556).
* ``BasicBlock`` / ``ResNet``: ``y = ReLU(F(x) + shortcut(x))`` with
  ``F = conv3×3 → BN → ReLU → conv3×3 → BN``: the skip connection lets the block learn
  a residual and keeps gradients flowing through deep stacks (002; He et al. 2015,
  arXiv:1512.03385). Names and ``state_dict`` keys follow torchvision's ``ResNet``
  (``conv1``, ``bn1``, ``layer1.0.conv1.weight``, ``downsample.0``, ``fc``).
"""

from __future__ import annotations

from deepnum import nn

__all__ = ["LeNet", "SmallVGG", "BasicBlock", "ResNet", "lenet", "vgg_small", "resnet_small"]


class LeNet(nn.Module):
    """LeNet-5-style CNN with ReLU and max-pooling.

    Args:
        in_channels: image channels (1 for MNIST).
        num_classes: outputs of the last layer (logits).
        input_size: ``(H, W)``; the first convolution pads by 2 so 28×28 behaves as LeNet's 32×32.
        dropout: drop probability before each dense layer (0 = none).

    Shape: ``(N, C, H, W)`` → ``(N, num_classes)``.
    Modules: ``features`` (convolutions and pools) and ``classifier`` (dense layers; the last
    one, ``classifier[-1]``, is the head replaced in transfer learning).

    Examples:
        >>> import deepnum
        >>> LeNet()(deepnum.zeros(2, 1, 28, 28)).shape
        deepnum.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size=(28, 28),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        h, w = input_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        fh, fw = (h // 2 - 4) // 2, (w // 2 - 4) // 2
        if fh < 1 or fw < 1:
            raise ValueError(
                f"LeNet: input_size {tuple(input_size)} is too small (at least 12×12)"
            )
        drop = (lambda: [nn.Dropout(dropout)]) if dropout > 0 else (lambda: [])
        self.classifier = nn.Sequential(
            nn.Flatten(),
            *drop(),
            nn.Linear(16 * fh * fw, 120),
            nn.ReLU(),
            *drop(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class SmallVGG(nn.Module):
    """VGG-style network: ``cfg`` lists conv widths (3×3, padding 1) and ``'M'`` for 2×2 max-pools.

    Args:
        cfg: e.g. ``(32, 32, 'M', 64, 64, 'M')`` (default).
        in_channels, num_classes, input_size: as ``LeNet``.
        hidden: width of the dense hidden layer; dropout: before the last two dense layers.
        batch_norm: insert ``BatchNorm2d`` after every convolution.
    """

    def __init__(
        self,
        cfg=(32, 32, "M", 64, 64, "M"),
        in_channels: int = 1,
        num_classes: int = 10,
        input_size=(28, 28),
        hidden: int = 256,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        layers, channels = [], in_channels
        h, w = input_size
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            else:
                layers.append(nn.Conv2d(channels, v, 3, padding=1, bias=not batch_norm))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(v))
                layers.append(nn.ReLU())
                channels = v
        if h < 1 or w < 1:
            raise ValueError(
                f"SmallVGG: input_size {tuple(input_size)} is too small for {cfg.count('M')} pools"
            )
        self.features = nn.Sequential(*layers)
        drop = (lambda: [nn.Dropout(dropout)]) if dropout > 0 else (lambda: [])
        self.classifier = nn.Sequential(
            nn.Flatten(),
            *drop(),
            nn.Linear(channels * h * w, hidden),
            nn.ReLU(),
            *drop(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """Residual block ``y = ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x))`` (002).

    He et al. 2015, "Deep residual learning for image recognition", arXiv:1512.03385.

    Args:
        inplanes, planes: input and output channels; stride: of the first convolution.
        downsample: module applied to ``x`` on the skip path; by default a 1×1 convolution with
            batch norm when the shape changes, else the identity.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if downsample is None and (stride != 1 or inplanes != planes):
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)  # the skip connection


class ResNet(nn.Module):
    """A small ResNet for small images: 3×3 stem, stages of ``BasicBlock`` s, global average pool.

    Args:
        layers: blocks per stage, e.g. ``(1, 1, 1)`` (default) or ``(3, 3, 3)`` (ResNet-20).
        widths: channels per stage (each stage after the first halves H and W).
        in_channels, num_classes: as ``LeNet``.
    """

    def __init__(
        self, layers=(1, 1, 1), widths=(16, 32, 64), in_channels: int = 1, num_classes: int = 10
    ) -> None:
        super().__init__()
        if len(layers) != len(widths):
            raise ValueError(
                f"ResNet: layers {tuple(layers)} and widths {tuple(widths)} "
                "must have the same length"
            )
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        for i, (n, width) in enumerate(zip(layers, widths)):
            setattr(self, f"layer{i + 1}", self._stage(width, n, stride=1 if i == 0 else 2))
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1], num_classes)

    def _stage(self, planes: int, blocks: int, stride: int):
        stage = [BasicBlock(self.inplanes, planes, stride)]
        self.inplanes = planes
        stage += [BasicBlock(planes, planes) for _ in range(blocks - 1)]
        return nn.Sequential(*stage)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def _image_shape(input_shape):
    shape = tuple(input_shape)
    if len(shape) == 2:
        shape = (1,) + shape
    if len(shape) != 3:
        raise ValueError(f"expected input_shape (C, H, W) or (H, W), got {tuple(input_shape)}")
    return shape


def lenet(input_shape=(1, 28, 28), num_classes: int = 10, dropout: float = 0.0, **kwargs) -> LeNet:
    """Zoo constructor for ``LeNet``."""
    c, h, w = _image_shape(input_shape)
    return LeNet(c, num_classes, (h, w), dropout)


def vgg_small(
    input_shape=(1, 28, 28), num_classes: int = 10, dropout: float = 0.0, **kwargs
) -> SmallVGG:
    """Zoo constructor for ``SmallVGG`` (``cfg``, ``hidden``, ``batch_norm`` may be passed)."""
    c, h, w = _image_shape(input_shape)
    keep = {k: kwargs[k] for k in ("cfg", "hidden", "batch_norm") if k in kwargs}
    return SmallVGG(
        in_channels=c, num_classes=num_classes, input_size=(h, w), dropout=dropout, **keep
    )


def resnet_small(
    input_shape=(1, 28, 28), num_classes: int = 10, dropout: float = 0.0, **kwargs
) -> ResNet:
    """Zoo constructor for ``ResNet`` (``layers``, ``widths`` may be passed)."""
    c, _, _ = _image_shape(input_shape)
    keep = {k: kwargs[k] for k in ("layers", "widths") if k in kwargs}
    return ResNet(in_channels=c, num_classes=num_classes, **keep)
