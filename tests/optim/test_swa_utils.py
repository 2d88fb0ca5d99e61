"""AveragedModel, the averaging functions and SWALR against torch.optim.swa_utils."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnum
from deepnum import nn
from deepnum.optim import swa_utils


class Net(nn.Module):
    def __init__(self, arrays):
        super().__init__()
        self.w = nn.Parameter(deepnum.tensor(arrays[0].copy()))
        self.b = nn.Parameter(deepnum.tensor(arrays[1].copy()))
        self.register_buffer("stat", deepnum.tensor(arrays[2].copy()))
        self.register_buffer("count", deepnum.tensor(np.array(0, dtype=np.int64)))

    def forward(self, x):
        return x @ self.w + self.b


class TorchNet(torch.nn.Module):
    def __init__(self, arrays):
        super().__init__()
        self.w = torch.nn.Parameter(torch.from_numpy(arrays[0].copy()))
        self.b = torch.nn.Parameter(torch.from_numpy(arrays[1].copy()))
        self.register_buffer("stat", torch.from_numpy(arrays[2].copy()))
        self.register_buffer("count", torch.tensor(0))


def _arrays(rng, dtype):
    return [rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal(2).astype(dtype),
            rng.standard_normal(2).astype(dtype)]


def _perturb(rng, net, tnet, dtype):
    for (name, p), tp in zip(net.named_parameters(), tnet.parameters()):
        new = rng.standard_normal(p.shape).astype(dtype)
        p.array[...] = new
        with torch.no_grad():
            tp.copy_(torch.from_numpy(new))
    new = rng.standard_normal(2).astype(dtype)
    net.stat.array[...] = new
    tnet.stat.copy_(torch.from_numpy(new))
    net.count.array += 1
    tnet.count += 1


AVERAGING = [
    ("swa", lambda m: dict()),
    ("ema_multi", lambda m: dict(multi_avg_fn=m.get_ema_multi_avg_fn(0.9))),
    ("ema", lambda m: dict(avg_fn=m.get_ema_avg_fn(0.8))),
    ("swa_fn", lambda m: dict(avg_fn=m.get_swa_avg_fn())),
    ("swa_multi", lambda m: dict(multi_avg_fn=m.get_swa_multi_avg_fn())),
]


# PyTorch's multi-tensor SWA raises on integer buffers (addcdiv), so that pair is not compared
CASES = [(name, make, use_buffers) for name, make in AVERAGING for use_buffers in (False, True)
         if not (name == "swa_multi" and use_buffers)]


@pytest.mark.parametrize("name,make,use_buffers", CASES,
                         ids=[f"{n}-buffers={u}" for n, _, u in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_averaged_model_matches_torch(name, make, use_buffers, dtype):
    rng = np.random.default_rng(0)
    arrays = _arrays(rng, dtype)
    net, tnet = Net(arrays), TorchNet(arrays)
    avg = swa_utils.AveragedModel(net, use_buffers=use_buffers, **make(swa_utils))
    tavg = torch.optim.swa_utils.AveragedModel(tnet, use_buffers=use_buffers,
                                               **make(torch.optim.swa_utils))
    for _ in range(6):
        _perturb(rng, net, tnet, dtype)
        avg.update_parameters(net)
        tavg.update_parameters(tnet)
    sd, tsd = avg.state_dict(), tavg.state_dict()
    assert list(sd) == list(tsd)
    tol = dict(rtol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    if name == "swa_multi" and dtype == np.float64:
        # PyTorch's multi-tensor SWA weighs by 1/(n+1) computed in float32; ours is exact
        tol = dict(rtol=1e-6, atol=1e-7)
    for key in sd:
        assert sd[key].dtype == tsd[key].numpy().dtype, key
        np.testing.assert_allclose(sd[key].numpy(), tsd[key].numpy(), **tol, err_msg=key)
    assert int(avg.n_averaged.item()) == 6


def test_averaged_model_is_a_copy_and_forwards():
    rng = np.random.default_rng(1)
    net = Net(_arrays(rng, np.float64))
    avg = swa_utils.AveragedModel(net)
    assert avg.module is not net and avg.module.w is not net.w
    x = deepnum.tensor(rng.standard_normal((4, 3)))
    np.testing.assert_array_equal(avg(x).detach().numpy(), net(x).detach().numpy())
    net.w.array += 1
    assert not np.array_equal(avg.module.w.detach().numpy(), net.w.detach().numpy())


def test_polyak_average_is_the_mean_of_the_iterates():
    # 003 §2.7: θ̄ = (1/t) Σ θ_i
    rng = np.random.default_rng(2)
    net = Net(_arrays(rng, np.float64))
    avg = swa_utils.AveragedModel(net)
    seen = []
    for _ in range(7):
        net.w.array[...] = rng.standard_normal((3, 2))
        seen.append(net.w.detach().numpy().copy())
        avg.update_parameters(net)
    np.testing.assert_allclose(avg.module.w.detach().numpy(), np.mean(seen, axis=0), rtol=1e-13)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 5])
def test_swalr_matches_torch(strategy, anneal_epochs):
    p = deepnum.nn.Parameter(deepnum.zeros(2))
    tp = torch.nn.Parameter(torch.zeros(2))
    opt = deepnum.optim.SGD([{"params": [p], "lr": 0.5}], lr=0.5)
    topt = torch.optim.SGD([{"params": [tp], "lr": 0.5}], lr=0.5)
    s = swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    ts = torch.optim.swa_utils.SWALR(topt, swa_lr=0.05, anneal_epochs=anneal_epochs,
                                     anneal_strategy=strategy)
    np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12)
    for _ in range(10):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-12)


def test_update_bn_resets_and_recomputes_statistics():
    class FakeBN(nn.Module):
        """Stands for a batch-norm layer: a cumulative mean when momentum is None."""

        def __init__(self):
            super().__init__()
            self.momentum = 0.1
            self.register_buffer("running_mean", deepnum.zeros(2))
            self.seen = 0

        def reset_running_stats(self):
            self.running_mean.array[...] = 0
            self.seen = 0

        def forward(self, x):
            assert self.momentum is None and self.training
            self.seen += 1
            self.running_mean.array += (x.numpy().mean(0) - self.running_mean.array) / self.seen
            return x

    bn = FakeBN()
    bn.running_mean.array[...] = 7
    bn.eval()
    batches = [(deepnum.tensor(np.full((3, 2), float(i))), None) for i in range(4)]
    swa_utils.update_bn(batches, bn)
    np.testing.assert_allclose(bn.running_mean.numpy(), [1.5, 1.5])
    assert bn.momentum == 0.1 and bn.training is False


def test_errors():
    with pytest.raises(ValueError, match="Invalid decay value 1.5 provided"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="Invalid decay value -0.1 provided"):
        swa_utils.get_ema_avg_fn(-0.1)
    net = Net(_arrays(np.random.default_rng(0), np.float64))
    with pytest.raises(ValueError, match="only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(net, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    opt = deepnum.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        swa_utils.SWALR(opt, swa_lr=0.01, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=-1)


def _linear_bn_pair(seed=0):
    rng = np.random.default_rng(seed)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).double()
    tnet.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                          for k, v in net.state_dict().items()})
    batches = [rng.standard_normal((5, 3)) for _ in range(4)]
    return net, tnet, batches


def test_swa_of_a_real_model_and_update_bn_match_torch():
    net, tnet, batches = _linear_bn_pair()
    avg = swa_utils.AveragedModel(net)
    tavg = torch.optim.swa_utils.AveragedModel(tnet)
    opt = deepnum.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tnet.parameters(), lr=0.1, momentum=0.9)
    for x in batches:
        for model, o, data in ((net, opt, deepnum.tensor(x)), (tnet, topt, torch.from_numpy(x))):
            o.zero_grad()
            (model(data) ** 2).mean().backward()
            o.step()
        avg.update_parameters(net)
        tavg.update_parameters(tnet)
    swa_utils.update_bn([(deepnum.tensor(x), 0) for x in batches], avg)
    torch.optim.swa_utils.update_bn([(torch.from_numpy(x), 0) for x in batches], tavg)
    sd, tsd = avg.state_dict(), tavg.state_dict()
    assert list(sd) == list(tsd)
    for key in sd:
        np.testing.assert_allclose(sd[key].numpy(), tsd[key].numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=key)
    x = batches[0]
    avg.eval()
    tavg.eval()
    np.testing.assert_allclose(avg(deepnum.tensor(x)).detach().numpy(),
                               tavg(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)
