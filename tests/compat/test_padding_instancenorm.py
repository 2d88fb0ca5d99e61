"""Padding layers and ``InstanceNorm1d/2d/3d`` (used by style-transfer and GAN programs) against PyTorch."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs


@pytest.mark.parametrize(
    "name, padding, shape",
    [
        ("ZeroPad2d", 1, (1, 2, 3, 3)),
        ("ZeroPad2d", (1, 0, 2, 1), (2, 3, 3)),
        ("ConstantPad1d", (2, 1), (2, 3, 4)),
        ("ConstantPad3d", 1, (1, 1, 2, 2, 2)),
        ("ReflectionPad1d", 2, (2, 3, 5)),
        ("ReflectionPad2d", (1, 2, 2, 1), (1, 2, 4, 4)),
        ("ReplicationPad2d", 2, (1, 2, 3, 3)),
        ("ReplicationPad1d", (0, 3), (2, 2, 4)),
        ("CircularPad2d", 1, (1, 1, 3, 4)),
    ],
)
def test_padding_layers_against_torch(name, padding, shape):
    args = (padding, 1.5) if name.startswith("Constant") else (padding,)
    ours, theirs = getattr(dnn, name)(*args), getattr(torch.nn, name)(*args)
    check_against_torch(ours, theirs, random_inputs(shape))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    "cls, shape",
    [
        ("InstanceNorm1d", (3, 4, 6)),
        ("InstanceNorm2d", (2, 3, 4, 5)),
        ("InstanceNorm3d", (2, 2, 3, 3, 2)),
        ("InstanceNorm2d", (3, 4, 5)),
    ],
)
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_against_torch(cls, shape, affine):
    c = (
        shape[1]
        if len(shape) == {"InstanceNorm1d": 3, "InstanceNorm2d": 4, "InstanceNorm3d": 5}[cls]
        else shape[0]
    )
    ours, theirs = getattr(dnn, cls)(c, affine=affine), getattr(torch.nn, cls)(c, affine=affine)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.linspace(0.5, 1.5, c))
            theirs.bias.copy_(torch.linspace(-1, 1, c))
        ours.weight.data = deepnum.linspace(0.5, 1.5, c)
        ours.bias.data = deepnum.linspace(-1, 1, c)
    check_against_torch(ours, theirs, random_inputs(shape))
    assert repr(ours) == repr(theirs)


def test_instance_norm_running_stats_train_then_eval():
    ours = dnn.InstanceNorm2d(3, momentum=0.2, track_running_stats=True)
    theirs = torch.nn.InstanceNorm2d(3, momentum=0.2, track_running_stats=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32) * 2 + 1
        assert_close(ours(deepnum.tensor(x)), theirs(torch.tensor(x)))
    assert_close(ours.running_mean, theirs.running_mean)
    assert_close(ours.running_var, theirs.running_var)
    assert (
        ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 0
    )  # PyTorch does not count them
    ours.eval()
    theirs.eval()
    check_against_torch(ours, theirs, random_inputs((2, 3, 4, 4)))


def test_functional_instance_norm_and_errors():
    check_against_torch(
        lambda x: F.instance_norm(x),
        lambda x: torch.nn.functional.instance_norm(x),
        random_inputs((2, 3, 7)),
    )
    with pytest.raises(
        ValueError,
        match=r"InstanceNorm2d: expected 3D \(unbatched\) or 4D input, got shape \(2, 3\)",
    ):
        dnn.InstanceNorm2d(3)(deepnum.ones(2, 3))
    with pytest.raises(ValueError, match=r"ZeroPad2d: padding must be an int or a 4-tuple"):
        dnn.ZeroPad2d((1, 2))
