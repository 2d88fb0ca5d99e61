"""Every PyTorch optimiser: 25-step trajectories against torch.optim, all option combinations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import deepnum
from deepnum import optim

from tests.optim._problem import Pair, groups, run_pair


def _combos(**options):
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


SGD_CASES = [c for c in _combos(lr=[0.05], momentum=[0, 0.9], dampening=[0, 0.3],
                                nesterov=[False, True], weight_decay=[0, 0.1],
                                maximize=[False, True])
             if not (c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0))]
ADAM_CASES = _combos(lr=[0.05], betas=[(0.9, 0.999), (0.8, 0.9)], weight_decay=[0, 0.1],
                     amsgrad=[False, True], maximize=[False, True])
ADAGRAD_CASES = _combos(lr=[0.1], lr_decay=[0, 0.1], weight_decay=[0, 0.1],
                        initial_accumulator_value=[0, 0.5], eps=[1e-10, 1e-3],
                        maximize=[False, True])
RMSPROP_CASES = _combos(lr=[0.01], alpha=[0.99, 0.8], weight_decay=[0, 0.1], momentum=[0, 0.5],
                        centered=[False, True], maximize=[False, True])
ADADELTA_CASES = _combos(lr=[1.0, 0.5], rho=[0.9, 0.5], eps=[1e-6, 1e-3], weight_decay=[0, 0.1],
                         maximize=[False, True])

ADAMAX_CASES = _combos(lr=[0.05], betas=[(0.9, 0.999), (0.8, 0.9)], eps=[1e-8, 1e-2],
                       weight_decay=[0, 0.1], maximize=[False, True])
NADAM_CASES = _combos(lr=[0.05], betas=[(0.9, 0.999), (0.8, 0.9)], weight_decay=[0, 0.1],
                      momentum_decay=[4e-3, 0.1], decoupled_weight_decay=[False, True],
                      maximize=[False, True])
RADAM_CASES = _combos(lr=[0.05], betas=[(0.9, 0.999), (0.8, 0.9)], weight_decay=[0, 0.1],
                      decoupled_weight_decay=[False, True], maximize=[False, True])
RPROP_CASES = _combos(lr=[0.01], etas=[(0.5, 1.2), (0.3, 1.5)],
                      step_sizes=[(1e-6, 50), (1e-3, 0.05)], maximize=[False, True])
ASGD_CASES = _combos(lr=[0.05], lambd=[1e-4, 0.1], alpha=[0.75, 0.5], t0=[1e6, 5],
                     weight_decay=[0, 0.1], maximize=[False, True])

CASES = (
    [("SGD", c) for c in SGD_CASES] + [("Adam", c) for c in ADAM_CASES]
    + [("AdamW", c) for c in ADAM_CASES] + [("Adagrad", c) for c in ADAGRAD_CASES]
    + [("RMSprop", c) for c in RMSPROP_CASES] + [("Adadelta", c) for c in ADADELTA_CASES]
    + [("Adamax", c) for c in ADAMAX_CASES] + [("NAdam", c) for c in NADAM_CASES]
    + [("RAdam", c) for c in RADAM_CASES] + [("Rprop", c) for c in RPROP_CASES]
    + [("ASGD", c) for c in ASGD_CASES]
)


def _make(name, pair, options, spec=None):
    dn = getattr(optim, name)(groups(pair.dn, spec), **options)
    t = getattr(torch.optim, name)(groups(pair.t, spec), foreach=False, **options)
    return dn, t


def _id(case):
    name, options = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in options.items() if k != "lr")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_trajectory_float64(case):
    name, options = case
    pair = Pair(np.float64, maximize=options["maximize"])
    run_pair(pair, *_make(name, pair, options))


@pytest.mark.parametrize("name,options", [
    ("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05)), ("Adagrad", dict(lr=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("Adadelta", dict(lr=1.0)),
])
def test_param_groups_with_own_options(name, options):
    pair = Pair(np.float64)
    lr = options["lr"]
    spec = [([0, 1], dict(lr=lr / 2, weight_decay=0.1)), ([2], dict())]
    dn, t = _make(name, pair, options, spec)
    run_pair(pair, dn, t)
    assert dn.param_groups[0]["lr"] == lr / 2 and dn.param_groups[1]["lr"] == lr


def _pair_at(arrays) -> Pair:
    """A fresh float64 problem whose deepnum parameters hold ``arrays`` (a saved snapshot)."""
    fresh = Pair(np.float64)
    for p, a in zip(fresh.dn, arrays):
        p.array[...] = a
    return fresh


def _assert_parameters_equal(pair: Pair, expected) -> None:
    for a, b in zip(pair.dn, expected):
        np.testing.assert_array_equal(a.detach().numpy(), b)


@pytest.mark.parametrize("name,options", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05)), ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("Adadelta", dict(lr=1.0)),
    ("Adamax", dict(lr=0.05)), ("NAdam", dict(lr=0.05)), ("RAdam", dict(lr=0.05)),
    ("Rprop", dict(lr=0.01)), ("ASGD", dict(lr=0.05, t0=5)),
])
def test_state_dict_round_trip_continues_identically(name, options):
    spec = [([0, 1], dict()), ([2], dict(lr=options["lr"] / 2))]
    pair = Pair(np.float64)
    dn, t = _make(name, pair, options, spec)
    run_pair(pair, dn, t, steps=10)
    sd = dn.state_dict()
    saved = [p.detach().numpy().copy() for p in pair.dn]

    # PyTorch's layout: integer keys, groups listing indices, the same state entries and values
    t_sd = t.state_dict()
    assert sorted(sd["state"]) == sorted(t_sd["state"]) == [0, 1, 2]
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in t_sd["param_groups"]]
    for g, tg in zip(sd["param_groups"], t_sd["param_groups"]):
        for key, value in g.items():
            assert tg[key] == value, key
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(t_sd["state"][i])
        for key, value in sd["state"][i].items():
            np.testing.assert_allclose(value.numpy(), t_sd["state"][i][key].numpy(), rtol=1e-7,
                                       atol=1e-9, err_msg=key)

    # continue the original run, recording its trajectory
    run_pair(pair, dn, t, steps=15, start=10)
    expected = [p.detach().numpy().copy() for p in pair.dn]

    # a fresh optimiser on fresh parameters, restored from the snapshot, retraces it exactly
    fresh = _pair_at(saved)
    dn2 = getattr(optim, name)(groups(fresh.dn, spec), **options)
    dn2.load_state_dict(sd)
    for _ in range(15):
        dn2.step(fresh.dn_closure(dn2))
    _assert_parameters_equal(fresh, expected)


def test_load_state_dict_copies_arrays():
    pair = Pair(np.float64)
    opt = optim.Adam(pair.dn, lr=0.1)
    opt.step(pair.dn_closure(opt))
    sd = opt.state_dict()
    opt2 = optim.Adam(Pair(np.float64).dn, lr=0.1)
    opt2.load_state_dict(sd)
    first = next(iter(opt2.state.values()))
    assert first["exp_avg"].array is not sd["state"][0]["exp_avg"].array
    before = sd["state"][0]["exp_avg"].numpy().copy()
    opt.step(pair.dn_closure(opt))
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), before)


def test_load_state_dict_casts_to_parameter_dtype():
    p64 = Pair(np.float64)
    opt = optim.Adam(p64.dn, lr=0.1)
    opt.step(p64.dn_closure(opt))
    p32 = Pair(np.float32)
    opt32 = optim.Adam(p32.dn, lr=0.1)
    opt32.load_state_dict(opt.state_dict())
    state = opt32.state[p32.dn[0]]
    assert state["exp_avg"].dtype == np.float32 and state["step"].dtype == np.float32


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size,max_iter", [(100, 20), (3, 7)])
def test_lbfgs_float64(line_search_fn, history_size, max_iter):
    pair = Pair(np.float64)
    kw = dict(lr=0.5 if line_search_fn is None else 1, max_iter=max_iter,
              history_size=history_size, line_search_fn=line_search_fn)
    dn, t = optim.LBFGS(pair.dn, **kw), torch.optim.LBFGS(pair.t, **kw)
    for k in range(4):
        dn_loss = dn.step(pair.dn_closure(dn))
        t_loss = t.step(pair.t_closure(t))
        np.testing.assert_allclose(dn_loss.item(), t_loss.item(), rtol=1e-7)
        # up to 80 quasi-Newton iterations near a flat optimum amplify last-bit differences
        # in the dot products (NumPy's and PyTorch's summation orders) to ~1e-7
        pair.assert_close(f"LBFGS step {k + 1}", tol=dict(rtol=1e-6, atol=1e-7))
    dn_state, t_state = dn.state[pair.dn[0]], t.state[pair.t[0]]
    assert dn_state["func_evals"] == t_state["func_evals"]
    assert dn_state["n_iter"] == t_state["n_iter"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_float32(line_search_fn):
    # a few iterations per step: close to the optimum float32 rounding dominates any comparison
    pair = Pair(np.float32)
    kw = dict(lr=0.5 if line_search_fn is None else 1, max_iter=4, line_search_fn=line_search_fn)
    dn, t = optim.LBFGS(pair.dn, **kw), torch.optim.LBFGS(pair.t, **kw)
    for k in range(2):
        dn.step(pair.dn_closure(dn))
        t.step(pair.t_closure(t))
        pair.assert_close(f"LBFGS step {k + 1}", tol=dict(rtol=1e-3, atol=1e-4))
    assert pair.dn[0].dtype == np.float32


def test_lbfgs_state_dict_round_trip():
    pair = Pair(np.float64)
    opt = optim.LBFGS(pair.dn, max_iter=5, line_search_fn="strong_wolfe")
    opt.step(pair.dn_closure(opt))
    sd = opt.state_dict()
    saved = [p.detach().numpy().copy() for p in pair.dn]
    opt.step(pair.dn_closure(opt))
    expected = [p.detach().numpy().copy() for p in pair.dn]
    fresh = _pair_at(saved)
    opt2 = optim.LBFGS(fresh.dn, max_iter=5, line_search_fn="strong_wolfe")
    opt2.load_state_dict(sd)
    opt2.step(fresh.dn_closure(opt2))
    _assert_parameters_equal(fresh, expected)


def test_zero_grad_and_skipped_parameters():
    pair = Pair(np.float64)
    opt = optim.SGD(pair.dn, lr=0.1)
    pair.dn_loss().backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in pair.dn)
    opt.zero_grad()
    assert all(p.grad is None for p in pair.dn)
    # a parameter without a gradient is left alone and gets no state
    before = pair.dn[2].detach().numpy().copy()
    (pair.dn[0] * pair.dn[0]).sum().backward()
    adam = optim.Adam(pair.dn, lr=0.1)
    adam.step()
    np.testing.assert_array_equal(pair.dn[2].detach().numpy(), before)
    assert pair.dn[2] not in adam.state


def test_step_returns_closure_loss_and_records_no_graph():
    pair = Pair(np.float64)
    opt = optim.Adam(pair.dn, lr=0.1)
    loss = opt.step(pair.dn_closure(opt))
    assert isinstance(loss, deepnum.Tensor)
    assert all(p.is_leaf and p.grad_fn is None for p in pair.dn)


def test_add_param_group_and_repr():
    pair = Pair(np.float64)
    opt = optim.SGD(pair.dn[:2], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": pair.dn[2], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 1" in text and "lr: 0.01" in text


def test_adam_with_decoupled_weight_decay_is_adamw():
    pair = Pair(np.float64)
    dn = optim.Adam(pair.dn, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)
    t = torch.optim.AdamW(pair.t, lr=0.05, weight_decay=0.1, foreach=False)
    run_pair(pair, dn, t, steps=10)


def test_asgd_average_is_the_polyak_mean_of_the_iterates():
    # ax_k is the mean of the iterates θ_{t0+2}..θ_k (PyTorch's indexing; 003 §2.7)
    pair = Pair(np.float64)
    opt = optim.ASGD(pair.dn, lr=0.05, t0=0)
    iterates = []
    for _ in range(12):
        opt.step(pair.dn_closure(opt))
        iterates.append(pair.dn[0].detach().numpy().copy())
    np.testing.assert_allclose(opt.state[pair.dn[0]]["ax"].numpy(),
                               np.mean(iterates[1:], axis=0), rtol=1e-7)  # μ is float32
