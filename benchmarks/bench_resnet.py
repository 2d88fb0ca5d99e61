"""ResNet-20 training step and inference on CIFAR-sized images, deepnum against PyTorch
(no target: a report).

The model is ``deepnum.models.cnn.ResNet(layers=(3, 3, 3), widths=(16, 32, 64))`` on 3×32×32
images (He et al.'s CIFAR ResNet-20: 3×3 convolutions, batch norm, identity and 1×1
projection shortcuts, global average pool); the PyTorch twin has the same modules and the
same ``state_dict`` keys. Each library keeps its own random initialisation (the arithmetic
does not depend on the values). One call = one step of batch 64 on the same images (an
epoch of one batch): forward, cross-entropy, backward, SGD with momentum 0.9; the second case
is one forward pass in evaluation mode under ``no_grad`` (inference).

Run: ``python benchmarks/bench_resnet.py`` (``--no-memory`` to skip the memory subprocesses).
"""

from __future__ import annotations

import numpy as np

from common import Case, main, training_epoch

BATCH, LAYERS, WIDTHS = 64, (3, 3, 3), (16, 32, 64)


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, BATCH)


def _torch_model():
    """deepnum's ResNet written with torch.nn, module for module."""
    import torch.nn as tnn

    class BasicBlock(tnn.Module):
        def __init__(self, inplanes, planes, stride=1):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = tnn.Sequential(
                    tnn.Conv2d(inplanes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes)
                )

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, WIDTHS[0], 3, padding=1, bias=False)
            self.bn1 = tnn.BatchNorm2d(WIDTHS[0])
            self.relu = tnn.ReLU()
            inplanes = WIDTHS[0]
            for i, (blocks, width) in enumerate(zip(LAYERS, WIDTHS)):
                stage = [BasicBlock(inplanes, width, 1 if i == 0 else 2)]
                stage += [BasicBlock(width, width) for _ in range(blocks - 1)]
                setattr(self, f"layer{i + 1}", tnn.Sequential(*stage))
                inplanes = width
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(WIDTHS[-1], 10)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            for i in range(len(LAYERS)):
                x = getattr(self, f"layer{i + 1}")(x)
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def make_deepnum():
    import deepnum
    from deepnum import nn, optim
    from deepnum.models.cnn import ResNet

    deepnum.manual_seed(0)
    model = ResNet(layers=LAYERS, widths=WIDTHS, in_channels=3)
    x, y = _data()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    batch = [(deepnum.tensor(x), deepnum.tensor(y))]
    return training_epoch(model, opt, nn.CrossEntropyLoss(), batch)


def make_torch():
    import torch

    torch.manual_seed(0)
    model = _torch_model()
    x, y = _data()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    batch = [(torch.from_numpy(x), torch.from_numpy(y))]
    return training_epoch(model, opt, torch.nn.CrossEntropyLoss(), batch)


def make_deepnum_inference():
    import deepnum
    from deepnum.models.cnn import ResNet

    deepnum.manual_seed(0)
    model = ResNet(layers=LAYERS, widths=WIDTHS, in_channels=3).eval()
    x = deepnum.tensor(_data()[0])

    def forward():
        with deepnum.no_grad():
            return model(x)

    return forward


def make_torch_inference():
    import torch

    torch.manual_seed(0)
    model = _torch_model().eval()
    x = torch.from_numpy(_data()[0])

    def forward():
        with torch.no_grad():
            return model(x)

    return forward


CASES = [
    Case("ResNet-20 train step (b64, 32x32)", make_deepnum, make_torch, number=3),
    Case(
        "ResNet-20 inference (eval, no_grad)",
        make_deepnum_inference,
        make_torch_inference,
        number=5,
    ),
]

if __name__ == "__main__":
    main("ResNet-20 (CIFAR-size) training step, batch 64", CASES, __file__)
