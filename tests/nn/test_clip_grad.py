"""nn.utils: gradient clipping by norm and value (003 §4.6) and parameter vectors, vs PyTorch."""

import math

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
from deepnum.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters
from tests.helpers import assert_close


def _pair(scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    ours, theirs = [], []
    for s in shapes:
        p = nn.Parameter(rng.standard_normal(s).astype(np.float32))
        p.grad = deepnum.tensor((rng.standard_normal(s) * scale).astype(np.float32))
        t = torch.nn.Parameter(torch.from_numpy(p.detach().numpy().copy()))
        t.grad = torch.from_numpy(p.grad.numpy().copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    ours, theirs = _pair()
    total = clip_grad_norm_(ours, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert_close(total, t_total)
    assert total.dtype == deepnum.float32
    for p, t in zip(ours, theirs):
        assert_close(p.grad, t.grad)


def test_clip_grad_norm_bounds_the_norm_and_skips_missing_grads():
    ours, _ = _pair(scale=10.0)
    ours.append(nn.Parameter(np.zeros(3, np.float32)))  # no .grad: ignored
    clip_grad_norm_(ours, 1.0)
    total = math.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in ours if p.grad is not None))
    assert total == pytest.approx(1.0, rel=1e-5)
    assert float(clip_grad_norm_([nn.Parameter(np.zeros(2, np.float32))], 1.0)) == 0.0


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(np.zeros(3, np.float32))
    p.grad = deepnum.tensor([1.0, float("nan"), 2.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isnan(float(clip_grad_norm_(p, 1.0)))


def test_clip_grad_value_matches_torch():
    ours, theirs = _pair(scale=3.0)
    assert clip_grad_value_(ours, 1.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, t in zip(ours, theirs):
        assert_close(p.grad, t.grad)
        assert np.abs(p.grad.numpy()).max() <= 1.5


def test_parameters_to_vector_and_back():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    tnet.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in net.state_dict().items()})
    vec = parameters_to_vector(net.parameters())
    assert_close(vec, torch.nn.utils.parameters_to_vector(tnet.parameters()).detach())
    (vec * vec).sum().backward()  # differentiable, like torch.cat
    assert_close(net[0].weight.grad, 2 * net[0].weight.detach().numpy())
    new = deepnum.arange(vec.numel(), dtype=deepnum.float32)
    vector_to_parameters(new, net.parameters())
    assert net[0].weight.detach().numpy().ravel().tolist() == list(range(12))
    assert net[1].bias.detach().numpy().tolist() == [vec.numel() - 2, vec.numel() - 1]
    with pytest.raises(RuntimeError, match="need 26 values"):
        vector_to_parameters(deepnum.zeros(5), net.parameters())
    with pytest.raises(TypeError, match="expected deepnum.Tensor"):
        vector_to_parameters(np.zeros(26), net.parameters())
