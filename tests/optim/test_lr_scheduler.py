"""Learning-rate schedulers: 30-step sequences against torch.optim.lr_scheduler, state dicts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import deepnum
from deepnum import optim
from deepnum.optim import lr_scheduler as sched

STEPS = 30


def _optimizers(kind="SGD", lrs=(0.1, 0.03)):
    dn_params = [deepnum.nn.Parameter(deepnum.zeros(2)) for _ in lrs]
    t_params = [torch.nn.Parameter(torch.zeros(2)) for _ in lrs]
    extra = dict(momentum=0.9) if kind == "SGD" else {}
    dn_groups = [{"params": [p], "lr": lr} for p, lr in zip(dn_params, lrs)]
    dn = getattr(optim, kind)(dn_groups, **extra)
    t = getattr(torch.optim, kind)([{"params": [p], "lr": lr} for p, lr in zip(t_params, lrs)],
                                   **extra)
    return dn, t


def _lambda(epoch):
    return 0.9**epoch + 0.01 * epoch


SCHEDULERS = [
    ("LambdaLR", dict(lr_lambda=_lambda)),
    ("LambdaLR", dict(lr_lambda=[_lambda, lambda e: 1 / (1 + e)])),
    ("StepLR", dict(step_size=4)),
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 20], gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.7, total_iters=12)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.005)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=STEPS + 1)),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], epochs=4, steps_per_epoch=8, anneal_strategy="linear")),
    ("OneCycleLR", dict(max_lr=0.8, total_steps=STEPS + 1, three_phase=True, pct_start=0.25)),
    ("OneCycleLR", dict(max_lr=0.8, total_steps=STEPS + 1, cycle_momentum=False, div_factor=10.0,
                        final_div_factor=100.0)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95 if e % 3 else 1.02)),
    ("ConstantLR", dict(factor=0.25, total_iters=6)),
    ("PolynomialLR", dict(total_iters=12, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=3, step_size_down=5,
                      mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range", gamma=0.97)),
]


def _compare_groups(dn, t, k):
    for g, tg in zip(dn.param_groups, t.param_groups):
        for key in ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr"):
            if key in tg:
                np.testing.assert_allclose(np.asarray(g[key], dtype=float),
                                           np.asarray(tg[key], dtype=float), rtol=1e-12,
                                           err_msg=f"step {k}: {key}")


def _step_side_by_side(dn_opt, t_opt, dn, t, compare_groups=False):
    """STEPS optimiser + scheduler steps on both sides; the learning rates agree at each."""
    np.testing.assert_allclose(dn.get_last_lr(), t.get_last_lr(), rtol=1e-12)
    for k in range(STEPS):
        dn_opt.step()
        t_opt.step()
        dn.step()
        t.step()
        np.testing.assert_allclose(dn.get_last_lr(), t.get_last_lr(), rtol=1e-12,
                                   err_msg=f"step {k}")
        if compare_groups:
            _compare_groups(dn_opt, t_opt, k)


@pytest.mark.parametrize("name,kwargs", SCHEDULERS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)])
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_sequence_matches_torch(name, kwargs, kind):
    dn_opt, t_opt = _optimizers(kind)
    dn = getattr(sched, name)(dn_opt, **kwargs)
    t = getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs)
    _step_side_by_side(dn_opt, t_opt, dn, t, compare_groups=True)
    assert dn.last_epoch == t.last_epoch


@pytest.mark.parametrize("options", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(factor=0.3, patience=1, cooldown=1, min_lr=[0.01, 0.002], eps=1e-3),
    dict(mode="min", patience=0, threshold_mode="rel", threshold=0.1, min_lr=0.004),
])
def test_reduce_lr_on_plateau_matches_torch(options):
    dn_opt, t_opt = _optimizers()
    dn = sched.ReduceLROnPlateau(dn_opt, **options)
    t = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **options)
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 8), 0.5 + 0.02 * rng.standard_normal(22)])
    for k, m in enumerate(metrics):
        dn_opt.step()
        t_opt.step()
        dn.step(m)
        t.step(m)
        np.testing.assert_allclose(dn.get_last_lr(), t.get_last_lr(), rtol=1e-12,
                                   err_msg=f"step {k}")
        ours = (dn.num_bad_epochs, dn.cooldown_counter, dn.best)
        assert ours == (t.num_bad_epochs, t.cooldown_counter, t.best)


@pytest.mark.parametrize("name,kwargs", SCHEDULERS[2:], ids=[n for n, _ in SCHEDULERS[2:]])
def test_state_dict_round_trip(name, kwargs):
    opt, _ = _optimizers()
    s = getattr(sched, name)(opt, **kwargs)
    for _ in range(9):
        opt.step()
        s.step()
    opt_sd, s_sd = opt.state_dict(), s.state_dict()
    assert "optimizer" not in s_sd and s_sd["last_epoch"] == 9
    expected = []
    for _ in range(12):
        opt.step()
        s.step()
        expected.append(s.get_last_lr())
    # PyTorch's resume order: build both, then load the optimiser's and the scheduler's state
    opt2, _ = _optimizers()
    s2 = getattr(sched, name)(opt2, **kwargs)
    opt2.load_state_dict(opt_sd)
    s2.load_state_dict(s_sd)
    got = []
    for _ in range(12):
        opt2.step()
        s2.step()
        got.append(s2.get_last_lr())
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_lambda_state_dict_keeps_callable_objects():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    opt, _ = _optimizers()
    s = sched.LambdaLR(opt, [Warmup(5), lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"n": 5}, None]
    s2 = sched.LambdaLR(_optimizers()[0], [Warmup(1), lambda e: 1.0])
    s2.load_state_dict(sd)
    assert s2.lr_lambdas[0].n == 5


def test_reduce_lr_on_plateau_state_dict_round_trip():
    opt, _ = _optimizers()
    s = sched.ReduceLROnPlateau(opt, patience=1)
    for m in [1.0, 0.9, 0.95, 0.97]:
        s.step(m)
    s2 = sched.ReduceLROnPlateau(_optimizers()[0], patience=1)
    s2.load_state_dict(s.state_dict())
    assert (s2.best, s2.num_bad_epochs, s2.last_epoch) == (s.best, s.num_bad_epochs, s.last_epoch)


def test_step_with_epoch_uses_closed_form():
    opt, t_opt = _optimizers()
    s = sched.CosineAnnealingLR(opt, T_max=10)
    s.step(4)
    expected = 0.1 * (1 + math.cos(math.pi * 4 / 10)) / 2
    assert s.get_last_lr()[0] == pytest.approx(expected, rel=1e-15)
    s = sched.MultiStepLR(_optimizers()[0], milestones=[2, 5], gamma=0.5)
    s.step(6)
    assert s.get_last_lr()[0] == pytest.approx(0.025)


def test_initial_lr_and_resume_errors():
    opt, _ = _optimizers()
    sched.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.03]
    fresh, _ = _optimizers()
    with pytest.raises(KeyError, match="initial_lr.*param_groups\\[0\\]"):
        sched.StepLR(fresh, step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        sched.StepLR([], step_size=2)


def test_scheduler_errors():
    opt, _ = _optimizers()
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        sched.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode 'up' is unknown"):
        sched.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 3"):
        sched.LambdaLR(opt, [_lambda] * 3)
    with pytest.raises(ValueError, match="either total_steps OR"):
        sched.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        sched.OneCycleLR(opt, max_lr=[1.0, 1.0, 1.0], total_steps=10)
    s = sched.OneCycleLR(_optimizers()[0], max_lr=1.0, total_steps=2)
    s.step()
    s.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        s.step()
    p = deepnum.nn.Parameter(deepnum.zeros(1))
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        sched.OneCycleLR(optim.Adagrad([p]), max_lr=1.0, total_steps=10)


# ------------------------------------------------------------------ the notes' schedules
def _run(s, opt, n=STEPS):
    lrs = [s.get_last_lr()[0]]
    for _ in range(n):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
    return np.array(lrs)


def test_inverse_time_decay():
    opt, t_opt = _optimizers()
    got = _run(sched.InverseTimeDecay(opt, decay_rate=0.3), opt)
    n_e = np.arange(STEPS + 1)
    np.testing.assert_allclose(got, 0.1 / (1 + 0.3 * n_e), rtol=1e-15)
    # the same numbers as PyTorch's LambdaLR with the formula of 000 §7.3
    t = torch.optim.lr_scheduler.LambdaLR(t_opt, lambda e: 1 / (1 + 0.3 * e))
    np.testing.assert_allclose(got, _run(t, t_opt), rtol=1e-15)


def test_exponential_epoch_decay_matches_exponential_lr():
    opt, t_opt = _optimizers()
    got = _run(sched.ExponentialEpochDecay(opt), opt)
    np.testing.assert_allclose(got, 0.1 * 0.95 ** np.arange(STEPS + 1), rtol=1e-15)
    t = torch.optim.lr_scheduler.ExponentialLR(t_opt, gamma=0.95)
    np.testing.assert_allclose(got, _run(t, t_opt), rtol=1e-12)
    got = _run(sched.ExponentialEpochDecay(_optimizers()[0], base=0.5), _optimizers()[0], 3)
    np.testing.assert_allclose(got, [0.1, 0.05, 0.025, 0.0125], rtol=1e-15)


def test_inverse_sqrt_decay():
    opt, _ = _optimizers()
    got = _run(sched.InverseSqrtDecay(opt, decay=0.5), opt)
    assert got[0] == 0.1  # n_e = 0: the formula is undefined, the starting rate is used
    np.testing.assert_allclose(got[1:], 0.1 * 0.5 / np.sqrt(np.arange(1, STEPS + 1)), rtol=1e-15)


def test_linear_decay_to_constant():
    opt, _ = _optimizers()
    got = _run(sched.LinearDecayToConstant(opt, total_iters=10), opt)
    k = np.minimum(np.arange(STEPS + 1), 10) / 10
    np.testing.assert_allclose(got, (1 - k) * 0.1 + k * 0.001, rtol=1e-14)
    assert np.all(got[10:] == got[10])
    opt, _ = _optimizers()
    s = sched.LinearDecayToConstant(opt, total_iters=4, end_lr=[0.02, 0.01])
    _run(s, opt, 6)
    assert s.get_last_lr() == pytest.approx([0.02, 0.01])
    s.step(2)  # halfway: (ε0 + ετ)/2
    assert s.get_last_lr() == pytest.approx([0.06, 0.02])


def test_notes_schedules_errors():
    opt, _ = _optimizers()
    with pytest.raises(ValueError, match="InverseTimeDecay: decay_rate must be >= 0, got -1"):
        sched.InverseTimeDecay(opt, decay_rate=-1)
    with pytest.raises(ValueError, match="InverseSqrtDecay: decay must be > 0"):
        sched.InverseSqrtDecay(opt, decay=0)
    with pytest.raises(ValueError, match="total_iters must be a positive int, got 0"):
        sched.LinearDecayToConstant(opt, total_iters=0)
    with pytest.raises(ValueError, match="base must be in \\(0, 1\\], got 1.5"):
        sched.ExponentialEpochDecay(opt, base=1.5)


def _composite(lib, opt, kind):
    s = lib.optim.lr_scheduler
    if kind == "sequential":
        warmup = s.LinearLR(opt, start_factor=0.1, total_iters=5)
        decay = s.CosineAnnealingLR(opt, T_max=12)
        tail = s.ExponentialLR(opt, gamma=0.9)
        return s.SequentialLR(opt, [warmup, decay, tail], milestones=[5, 17])
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.5, total_iters=4),
                               s.ExponentialLR(opt, gamma=0.9)])


@pytest.mark.parametrize("kind", ["sequential", "chained"])
def test_composite_schedulers_match_torch(kind):
    dn_opt, t_opt = _optimizers()
    dn, t = _composite(deepnum, dn_opt, kind), _composite(torch, t_opt, kind)
    _step_side_by_side(dn_opt, t_opt, dn, t)
    # resume mid-run from both state dicts: the rest of the sequence is the same
    opt2, _ = _optimizers()
    again = _composite(deepnum, opt2, kind)
    opt2.load_state_dict(dn_opt.state_dict())
    again.load_state_dict(dn.state_dict())
    for _ in range(8):
        dn.step()
        again.step()
        assert again.get_last_lr() == dn.get_last_lr()


def test_composite_scheduler_errors():
    opt, other = _optimizers()[0], _optimizers()[0]
    with pytest.raises(ValueError, match="expects at least one scheduler"):
        sched.SequentialLR(opt, [], milestones=[])
    with pytest.raises(ValueError, match="one more than the number of milestone points"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2), sched.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="to belong to the same optimizer"):
        sched.ChainedScheduler([sched.StepLR(opt, 2), sched.StepLR(other, 2)])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        sched.ChainedScheduler([sched.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        sched.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="CyclicLR: mode 'saw' is invalid"):
        sched.CyclicLR(opt, base_lr=0.1, max_lr=1.0, mode="saw")
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got float"):
        sched.MultiplicativeLR(opt, lr_lambda=0.5)
