"""Regression and binary losses against PyTorch: forward, input and target gradients, every
reduction, weights, extreme values, float64 gradchecks and error messages."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum
from deepnum import nn
from deepnum.autograd import gradcheck
from deepnum.nn import functional as F
from tests.helpers import assert_close, check_against_torch, to_torch

REDUCTIONS = ["mean", "sum", "none"]
SHAPES = [(7,), (4, 5), (2, 3, 4)]


def _t(a, requires_grad=True):
    return deepnum.tensor(a, requires_grad=requires_grad)


def _pair(shape, dtype=np.float32, seed=0, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, shape).astype(dtype)
    y = rng.uniform(low, high, shape).astype(dtype)
    return _t(x), _t(y)


# ------------------------------------------------------------------- element-wise losses
ELEMENTWISE = {
    "mse": (lambda x, y, r: F.mse_loss(x, y, reduction=r), lambda x, y, r: TF.mse_loss(x, y, reduction=r)),
    "l1": (lambda x, y, r: F.l1_loss(x, y, reduction=r), lambda x, y, r: TF.l1_loss(x, y, reduction=r)),
    "huber": (lambda x, y, r: F.huber_loss(x, y, reduction=r, delta=0.7),
              lambda x, y, r: TF.huber_loss(x, y, reduction=r, delta=0.7)),
    "smooth_l1": (lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.6),
                  lambda x, y, r: TF.smooth_l1_loss(x, y, reduction=r, beta=0.6)),
    "smooth_l1_beta0": (lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.0),
                        lambda x, y, r: TF.smooth_l1_loss(x, y, reduction=r, beta=0.0)),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_losses_match_torch(name, reduction, shape, dtype):
    dn_fn, t_fn = ELEMENTWISE[name]
    x, y = _pair(shape, dtype)
    out = check_against_torch(lambda a, b: dn_fn(a, b, reduction),
                              lambda a, b: t_fn(a, b, reduction), [x, y])
    assert out.shape == (tuple(shape) if reduction == "none" else ())


@pytest.mark.parametrize("name", ["mse", "l1", "huber"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_weight_matches_torch(name, reduction):
    x, y = _pair((3, 4))
    w = _t(np.random.default_rng(3).uniform(0.1, 2, (3, 4)).astype(np.float32), False)
    dn = {"mse": F.mse_loss, "l1": F.l1_loss, "huber": F.huber_loss}[name]
    tf = {"mse": TF.mse_loss, "l1": TF.l1_loss, "huber": TF.huber_loss}[name]
    check_against_torch(lambda a, b: dn(a, b, reduction=reduction, weight=w),
                        lambda a, b: tf(a, b, reduction=reduction, weight=to_torch(w)), [x, y])


def test_huber_and_smooth_l1_at_the_threshold():
    # |d| == delta: both branches meet with slope ±delta; PyTorch uses the linear one
    x = _t(np.array([0.0, 1.0, -1.0, 0.5, 3.0], np.float32))
    y = _t(np.zeros(5, np.float32), False)
    check_against_torch(lambda a, b: F.huber_loss(a, b, reduction="none"),
                        lambda a, b: TF.huber_loss(a, b, reduction="none"), [x, y])
    x.grad = None
    check_against_torch(lambda a, b: F.smooth_l1_loss(a, b, reduction="none"),
                        lambda a, b: TF.smooth_l1_loss(a, b, reduction="none"), [x, y])


def test_legacy_size_average_and_reduce_flags():
    x, y = _pair((3, 2))
    for sa, rd in [(False, None), (None, False), (True, True), (False, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = TF.mse_loss(to_torch(x), to_torch(y), size_average=sa, reduce=rd)
        assert_close(F.mse_loss(x, y, size_average=sa, reduce=rd), expected)
        assert_close(nn.MSELoss(size_average=sa, reduce=rd)(x, y), expected)


# -------------------------------------------------------------------------- quadratic
def test_quadratic_loss_is_half_squared_error():
    # 000 §3: L(y, ỹ) = ½ (y - ỹ)^2, J = (1/m) Σ L
    pred = _t(np.array([3.0, -1.0, 0.5], np.float32))
    y = _t(np.array([1.0, 1.0, 0.5], np.float32), False)
    loss = F.quadratic_loss(pred, y)
    assert loss.item() == pytest.approx((2.0 + 2.0 + 0.0) / 3)
    loss.backward()
    np.testing.assert_allclose(pred.grad.numpy(), (pred.detach().numpy() - y.numpy()) / 3)
    x, t = _pair((4, 3))
    for r in REDUCTIONS:
        check_against_torch(lambda a, b: nn.QuadraticLoss(reduction=r)(a, b),
                            lambda a, b: 0.5 * TF.mse_loss(a, b, reduction=r), [x, t])
        x.grad = t.grad = None


# ------------------------------------------------------------------------------- BCE
def _probs(shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return (_t(rng.uniform(0.02, 0.98, shape).astype(dtype)),
            _t(rng.uniform(0, 1, shape).astype(dtype)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_bce_matches_torch(reduction, shape):
    p, y = _probs(shape)
    check_against_torch(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
                        lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), [p, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_weight_matches_torch(reduction):
    p, y = _probs((4, 3))
    w = _t(np.array([0.5, 1.0, 2.0], np.float32), False)
    check_against_torch(lambda a, b: nn.BCELoss(weight=w, reduction=reduction)(a, b),
                        lambda a, b: torch.nn.BCELoss(weight=to_torch(w), reduction=reduction)(a, b),
                        [p, y])


def test_bce_clamps_log_at_minus_100_like_torch():
    p = _t(np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32))
    y = _t(np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32), False)
    out = check_against_torch(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
                              lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"),
                              [p, y], rtol=1e-6)
    assert np.isfinite(out.detach().numpy()).all() and out[0].item() == pytest.approx(100.0)
    assert np.isfinite(p.grad.numpy()).all()


def test_bce_rejects_values_outside_unit_interval():
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: all elements of input should be between 0 and 1.*1\.5"):
        F.binary_cross_entropy(_t(np.array([0.2, 1.5], np.float32)), _t(np.ones(2, np.float32)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_matches_torch(reduction, shape, dtype):
    x, _ = _pair(shape, dtype, low=-6, high=6)
    _, y = _probs(shape, seed=1, dtype=dtype)
    check_against_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction), [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_weight_and_pos_weight_match_torch(reduction):
    x, _ = _pair((5, 3), low=-4, high=4)
    _, y = _probs((5, 3), seed=2)
    w = _t(np.random.default_rng(4).uniform(0.5, 2, (5, 1)).astype(np.float32), False)
    pw = _t(np.array([0.5, 2.0, 3.0], np.float32), False)  # PyTorch has no pos_weight grad
    check_against_torch(
        lambda a, b: nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)(a, b),
        lambda a, b: torch.nn.BCEWithLogitsLoss(weight=to_torch(w), pos_weight=to_torch(pw),
                                                reduction=reduction)(a, b),
        [x, y])


@pytest.mark.parametrize("pos_weight", [None, 2.0])
def test_bce_with_logits_is_finite_at_extreme_logits(pos_weight):
    x = _t(np.array([-1000.0, 1000.0, -1000.0, 1000.0, 0.0], np.float32))
    y = _t(np.array([1.0, 0.0, 0.0, 1.0, 0.5], np.float32), False)
    pw = None if pos_weight is None else _t(np.float32(pos_weight), False)
    out = check_against_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none", pos_weight=pw),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, reduction="none", pos_weight=None if pw is None else to_torch(pw)), [x, y])
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
    assert out[0].item() == pytest.approx(1000.0 * (1 if pw is None else 2))


# ------------------------------------------------------------------------------ KL div
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    rng = np.random.default_rng(5)
    logq = np.log(rng.dirichlet(np.ones(6), size=4)).astype(np.float32)
    p = rng.dirichlet(np.ones(6), size=4).astype(np.float32)
    p[0, 2] = 0.0  # 0 log 0 = 0
    target = np.log(p + 1e-3).astype(np.float32) if log_target else p
    x, y = _t(logq), _t(target, requires_grad=log_target)

    def torch_fn(a, b):
        with warnings.catch_warnings():  # PyTorch warns that 'mean' is not the true KL
            warnings.simplefilter("ignore")
            return TF.kl_div(a, b, reduction=reduction, log_target=log_target)

    check_against_torch(lambda a, b: nn.KLDivLoss(reduction=reduction, log_target=log_target)(a, b),
                        torch_fn, [x, y])


def test_kl_div_batchmean_is_the_divergence_per_sample():
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    q = np.array([[0.25, 0.75], [0.5, 0.5]])
    kl = (p * np.log(p / q)).sum() / 2
    out = F.kl_div(deepnum.tensor(np.log(q)), deepnum.tensor(p), reduction="batchmean")
    assert out.item() == pytest.approx(kl, rel=1e-12)


# ------------------------------------------------------------------------- Gaussian NLL
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_matches_torch(var_shape, reduction, full):
    x, y = _pair((4, 3))
    var = _t(np.random.default_rng(6).uniform(0.1, 2, var_shape).astype(np.float32))
    check_against_torch(
        lambda a, b, v: nn.GaussianNLLLoss(full=full, reduction=reduction)(a, b, v),
        lambda a, b, v: torch.nn.GaussianNLLLoss(full=full, reduction=reduction)(a, b, v),
        [x, y, var])


def test_gaussian_nll_clamps_tiny_variances_and_accepts_a_float():
    x, y = _pair((5,))
    var = _t(np.array([0.0, 1e-9, 0.5, 1.0, 2.0], np.float32))
    check_against_torch(lambda a, b, v: F.gaussian_nll_loss(a, b, v, eps=1e-3),
                        lambda a, b, v: TF.gaussian_nll_loss(a, b, v, eps=1e-3), [x, y, var])
    x.grad = y.grad = None
    check_against_torch(lambda a, b: F.gaussian_nll_loss(a, b, 0.5),
                        lambda a, b: TF.gaussian_nll_loss(a, b, 0.5), [x, y])


def test_gaussian_nll_target_with_size_one_dimension_broadcasts_like_torch():
    x, _ = _pair((4, 3))
    y = _t(np.random.default_rng(8).standard_normal((4, 1)).astype(np.float32))
    var = _t(np.full((4, 3), 0.7, np.float32), False)
    check_against_torch(lambda a, b: F.gaussian_nll_loss(a, b, var),
                        lambda a, b: TF.gaussian_nll_loss(a, b, to_torch(var)), [x, y])


def test_gaussian_nll_errors():
    x, y = _pair((4, 3))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has negative"):
        F.gaussian_nll_loss(x, y, _t(-np.ones((4, 3), np.float32)))
    with pytest.raises(ValueError, match=r"var of shape \(2, 3\) does not fit input of shape \(4, 3\)"):
        F.gaussian_nll_loss(x, y, _t(np.ones((2, 3), np.float32)))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: input and target must have the same shape"):
        F.gaussian_nll_loss(x, y[:2], _t(np.ones((4, 3), np.float32)))


# --------------------------------------------------------------------------- gradchecks
GRADCHECKED = {
    "mse": lambda x, y: F.mse_loss(x, y),
    "l1": lambda x, y: F.l1_loss(x, y, reduction="sum"),
    "huber": lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.5),
    "smooth_l1": lambda x, y: F.smooth_l1_loss(x, y, beta=0.5),
    "quadratic": lambda x, y: F.quadratic_loss(x, y, reduction="none"),
    "bce_logits": lambda x, y: F.binary_cross_entropy_with_logits(
        x, deepnum.sigmoid(y), pos_weight=deepnum.sigmoid(y[0]) * 3),
    "bce": lambda x, y: F.binary_cross_entropy(deepnum.sigmoid(x), deepnum.sigmoid(y)),
    "kl": lambda x, y: F.kl_div(x, deepnum.sigmoid(y), reduction="batchmean"),
    "gaussian": lambda x, y: F.gaussian_nll_loss(x, y, x * x + 0.5, full=True),
}


@pytest.mark.parametrize("name", list(GRADCHECKED))
def test_gradcheck_float64(name):
    rng = np.random.default_rng(7)
    # keep |x - y| away from the kinks of l1 / huber / smooth-l1 (at 0 and at ±delta)
    x = rng.uniform(-2, 2, (4, 3))
    y = x + rng.choice([-1, 1], (4, 3)) * rng.uniform(0.1, 0.4, (4, 3))
    y[::2] += 1.5
    xs = (deepnum.tensor(x, requires_grad=True), deepnum.tensor(y, requires_grad=True))
    assert gradcheck(GRADCHECKED[name], xs, eps=1e-6, atol=1e-6, rtol=1e-5)


# ------------------------------------------------------------------ modules and errors
def test_modules_match_functional_and_keep_buffers():
    w = deepnum.tensor([1.0, 2.0, 3.0])
    assert list(nn.BCELoss(weight=w).state_dict()) == list(torch.nn.BCELoss(weight=torch.ones(3)).state_dict())
    both = nn.BCEWithLogitsLoss(weight=w, pos_weight=w)
    assert list(both.state_dict()) == ["weight", "pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(delta=2.0)"
    assert repr(nn.L1Loss(reduction="sum")) == "L1Loss(reduction='sum')"
    x, y = _pair((3, 2))
    assert_close(nn.SmoothL1Loss(beta=0.3)(x, y), F.smooth_l1_loss(x, y, beta=0.3))


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss,
                                F.quadratic_loss, F.binary_cross_entropy_with_logits,
                                F.kl_div])
def test_shape_mismatch_raises_naming_both_shapes(fn):
    x = deepnum.zeros(8, 1)
    y = deepnum.zeros(8)
    with pytest.raises(ValueError, match=rf"{fn.__name__}: input and target must have the same "
                                         r"shape, got input \(8, 1\) and target \(8,\)"):
        fn(x, y)


def test_bad_reduction_and_weight_shape():
    x, y = _pair((3,))
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        F.mse_loss(x, y, reduction="avg")
    with pytest.raises(ValueError, match=r"l1_loss: weight must have the input's shape \(3,\), got \(2,\)"):
        F.l1_loss(x, y, weight=deepnum.ones(2))
    with pytest.raises(ValueError, match="kl_div: reduction must be one of"):
        F.kl_div(x, y, reduction="avg")
