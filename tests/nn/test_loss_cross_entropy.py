"""Cross-entropy and NLL against PyTorch (index and probability targets, extra dims, weights,
ignore_index, label smoothing), the fused Function against the composite
log_softmax + nll, extreme logits, first and second derivatives, error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum
from deepnum import nn
from deepnum.autograd import gradcheck, gradgradcheck
from deepnum.nn import functional as F
from tests.helpers import assert_close, check_against_torch, to_torch

REDUCTIONS = ["mean", "sum", "none"]
# (input shape, target shape): unbatched, batched, one and two extra dims
CASES = [((5,), ()), ((6, 5), (6,)), ((3, 5, 4), (3, 4)), ((2, 4, 3, 2), (2, 3, 2))]


def _logits(shape, dtype=np.float32, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    return deepnum.tensor((rng.standard_normal(shape) * scale).astype(dtype), requires_grad=True)


def _targets(shape, n_classes, seed=1, ignore=None):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, n_classes, size=shape)
    if ignore is not None and t.ndim:
        t.reshape(-1)[:: 3] = ignore  # every third target ignored
    return deepnum.tensor(t.astype(np.int64))


def _probs(shape, seed=2, dtype=np.float32):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, shape)
    axis = 0 if len(shape) == 1 else 1
    return deepnum.tensor((p / p.sum(axis=axis, keepdims=True)).astype(dtype), requires_grad=True)


def _both(fn_dn, fn_t, x, target, **kw):
    tkw = {k: (to_torch(v) if isinstance(v, deepnum.Tensor) else v) for k, v in kw.items()}
    return check_against_torch(lambda a, *b: fn_dn(a, b[0] if b else target, **kw),
                               lambda a, *b: fn_t(a, b[0] if b else to_torch(target), **tkw),
                               [x, target] if target.requires_grad else [x])


# ------------------------------------------------------------------------- vs PyTorch
@pytest.mark.parametrize("shapes", CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_class_indices_match_torch(shapes, reduction, dtype):
    x = _logits(shapes[0], dtype)
    c = shapes[0][0] if len(shapes[0]) == 1 else shapes[0][1]
    out = _both(F.cross_entropy, TF.cross_entropy, x, _targets(shapes[1], c), reduction=reduction)
    assert out.shape == (shapes[1] if reduction == "none" else ())


@pytest.mark.parametrize("shapes", CASES[1:])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_weight_ignore_index_and_label_smoothing_match_torch(shapes, reduction, smoothing, ignore_index):
    x = _logits(shapes[0])
    c = shapes[0][1]
    w = deepnum.tensor(np.random.default_rng(3).uniform(0.2, 3.0, c).astype(np.float32))
    t = _targets(shapes[1], c, ignore=ignore_index)
    _both(F.cross_entropy, TF.cross_entropy, x, t, weight=w, ignore_index=ignore_index,
          reduction=reduction, label_smoothing=smoothing)
    x.grad = None
    _both(F.cross_entropy, TF.cross_entropy, x, t, ignore_index=ignore_index,
          reduction=reduction, label_smoothing=smoothing)


@pytest.mark.parametrize("shapes", CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_probability_targets_match_torch_including_target_gradient(shapes, reduction, smoothing, weighted):
    x = _logits(shapes[0])
    c = shapes[0][0] if len(shapes[0]) == 1 else shapes[0][1]
    w = deepnum.tensor(np.linspace(0.5, 2.0, c).astype(np.float32)) if weighted else None
    _both(F.cross_entropy, TF.cross_entropy, x, _probs(shapes[0]), weight=w,
          reduction=reduction, label_smoothing=smoothing)


@pytest.mark.parametrize("shapes", CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(shapes, reduction, weighted):
    x = _logits(shapes[0], seed=4)
    c = shapes[0][0] if len(shapes[0]) == 1 else shapes[0][1]
    w = deepnum.tensor(np.linspace(0.5, 2.0, c).astype(np.float32)) if weighted else None
    t = _targets(shapes[1], c, ignore=-100)
    _both(F.nll_loss, TF.nll_loss, x, t, weight=w, reduction=reduction)


def test_all_targets_ignored_gives_nan_mean_but_zero_gradient_like_torch():
    x = _logits((3, 4))
    t = deepnum.tensor([-100, -100, -100])
    for fn, tfn in [(F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss)]:
        x.grad = None
        out = _both(fn, tfn, x, t)
        assert np.isnan(out.item()) and not x.grad.numpy().any()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch_like_torch(reduction):
    for target in (deepnum.zeros(0, dtype=deepnum.int64), deepnum.zeros(0, 4)):
        x = deepnum.zeros(0, 4, requires_grad=True)
        out = F.cross_entropy(x, target, reduction=reduction)
        expected = TF.cross_entropy(to_torch(x), to_torch(target), reduction=reduction)
        np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
        out.sum().backward()
        assert x.grad.shape == (0, 4)


def test_extreme_logits_give_finite_loss_and_gradients():
    x = deepnum.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0],
                        [1000.0, 1000.0, -1000.0]], requires_grad=True)
    t = deepnum.tensor([1, 0, 2])
    out = _both(F.cross_entropy, TF.cross_entropy, x, t, reduction="none", label_smoothing=0.1)
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
    assert out[0].item() == pytest.approx(0.9 * 2000 + 0.1 / 3 * 3000, rel=1e-6)
    x.grad = None
    _both(F.cross_entropy, TF.cross_entropy, x, _probs((3, 3)))
    assert np.isfinite(x.grad.numpy()).all()


# ------------------------------------------------------------- fused vs the composite
def _composite_cross_entropy(x, t, weight=None, reduction="mean"):
    """log_softmax from primitives, then nll_loss: what the fused Function replaces."""
    shifted = x - x.detach().numpy().max(axis=1, keepdims=True)
    logp = shifted - deepnum.log(deepnum.exp(shifted).sum(dim=1, keepdim=True))
    return F.nll_loss(logp, t, weight=weight, reduction=reduction)


@pytest.mark.parametrize("shapes", CASES[1:])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_fused_cross_entropy_matches_the_composite(shapes, reduction):
    c = shapes[0][1]
    w = deepnum.tensor(np.linspace(0.5, 2.0, c).astype(np.float64))
    t = _targets(shapes[1], c, ignore=-100)
    x1 = _logits(shapes[0], np.float64)
    x2 = deepnum.tensor(x1.detach().numpy(), requires_grad=True)
    fused = F.cross_entropy(x1, t, weight=w, reduction=reduction)
    composite = _composite_cross_entropy(x2, t, weight=w, reduction=reduction)
    assert_close(fused, composite)
    g = deepnum.tensor(np.random.default_rng(5).standard_normal(fused.shape))
    (fused * g).sum().backward()
    (composite * g).sum().backward()
    assert_close(x1.grad, x2.grad)
    if hasattr(F, "log_softmax"):
        x3 = deepnum.tensor(x1.detach().numpy(), requires_grad=True)
        via_f = F.nll_loss(F.log_softmax(x3, dim=1), t, weight=w, reduction=reduction)
        assert_close(fused, via_f)


# ------------------------------------------------------------------ derivatives
GRAD_CASES = {
    "index": lambda x: F.cross_entropy(x, deepnum.tensor([0, 2, -100, 1])),
    "index_weighted_smoothed": lambda x: F.cross_entropy(
        x, deepnum.tensor([0, 2, 1, 1]), weight=deepnum.tensor([0.5, 1.0, 2.0], dtype=deepnum.float64),
        label_smoothing=0.2, reduction="sum"),
    "extra_dims_none": lambda x: F.cross_entropy(x.reshape(2, 3, 2), deepnum.tensor([[0, 1], [2, 2]]),
                                                 reduction="none"),
    "probabilities": lambda x: F.cross_entropy(
        x, deepnum.tensor(np.random.default_rng(0).dirichlet(np.ones(3), size=4)),
        weight=deepnum.tensor([0.5, 1.0, 2.0], dtype=deepnum.float64), label_smoothing=0.1),
    "nll": lambda x: F.nll_loss(x, deepnum.tensor([0, 2, 1, -100]),
                                weight=deepnum.tensor([0.5, 1.0, 2.0], dtype=deepnum.float64)),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradcheck_float64(name):
    x = _logits((4, 3), np.float64, seed=6, scale=1.0)
    assert gradcheck(GRAD_CASES[name], (x,), eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_second_derivatives(name):
    # the backward re-expressed with differentiable ops under create_graph
    x = _logits((4, 3), np.float64, seed=7, scale=1.0)
    assert gradgradcheck(GRAD_CASES[name], (x,), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_soft_target_gradient_gradcheck_and_hessian_against_torch():
    x = _logits((3, 4), np.float64, seed=8, scale=1.0)
    p = _probs((3, 4), dtype=np.float64)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, label_smoothing=0.2), (x, p),
                     eps=1e-6, atol=1e-7, rtol=1e-5)
    # Hessian-vector product through the fused backward, compared with PyTorch's
    v = np.random.default_rng(9).standard_normal((3, 4))
    (g,) = deepnum.autograd.grad(F.cross_entropy(x, p), x, create_graph=True)
    (hv,) = deepnum.autograd.grad((g * deepnum.tensor(v)).sum(), x)
    tx = to_torch(x)
    (tg,) = torch.autograd.grad(TF.cross_entropy(tx, to_torch(p).detach()), tx, create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.from_numpy(v)).sum(), tx)
    assert_close(hv, thv)


def test_hessian_of_class_index_loss_against_torch():
    x = _logits((3, 4), np.float64, seed=10, scale=1.0)
    t = deepnum.tensor([3, 0, -100])
    w = deepnum.tensor([1.0, 2.0, 0.5, 1.5], dtype=deepnum.float64)
    hess = deepnum.autograd.functional.hessian(
        lambda a: F.cross_entropy(a, t, weight=w, label_smoothing=0.1), x)
    thess = torch.autograd.functional.hessian(
        lambda a: TF.cross_entropy(a, to_torch(t), weight=to_torch(w), label_smoothing=0.1),
        to_torch(x).detach())
    assert_close(hess, thess)


# ----------------------------------------------------------------- modules and errors
def test_modules_and_state_dict():
    w = deepnum.tensor([1.0, 2.0, 0.5])
    loss = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    assert list(loss.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict())
    assert repr(loss) == "CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)"
    x, t = _logits((5, 3)), _targets((5,), 3)
    expected = torch.nn.CrossEntropyLoss(weight=to_torch(w), ignore_index=1, label_smoothing=0.1)(
        to_torch(x), to_torch(t))
    assert_close(loss(x, t), expected)
    assert_close(nn.NLLLoss(weight=w, reduction="sum")(x, t),
                 torch.nn.NLLLoss(weight=to_torch(w), reduction="sum")(to_torch(x), to_torch(t)))
    assert list(nn.NLLLoss().state_dict()) == []


def test_float_targets_of_index_shape_are_rejected():
    with pytest.raises(RuntimeError, match=r"cross_entropy: class-index targets must be integers "
                                           r"\(int64\), got float32 of shape \(4,\).*\(4, 10\)"):
        F.cross_entropy(deepnum.zeros(4, 10), deepnum.tensor([1.0, 2.0, 3.0, 4.0]))


def test_out_of_range_class_names_the_loss_value_and_class_count():
    with pytest.raises(IndexError, match=r"cross_entropy: target 10 is out of bounds for n_classes=10"):
        F.cross_entropy(deepnum.zeros(3, 10), deepnum.tensor([1, 10, 2]))
    with pytest.raises(IndexError, match=r"nll_loss: target -1 is out of bounds for n_classes=4"):
        F.nll_loss(deepnum.zeros(3, 4), deepnum.tensor([1, -1, 2]))


def test_other_argument_errors():
    x = deepnum.zeros(4, 3)
    with pytest.raises(ValueError, match=r"cross_entropy: expected input batch_size \(4\) to match "
                                         r"target batch_size \(2\)"):
        F.cross_entropy(x, deepnum.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"expected target of shape \(2, 5\) for input \(2, 3, 5\), got \(2, 4\)"):
        F.cross_entropy(deepnum.zeros(2, 3, 5), deepnum.zeros(2, 4, dtype=deepnum.int64))
    with pytest.raises(RuntimeError, match=r"cross_entropy: weight must have one entry per class, "
                                           r"shape \(3,\), got \(2,\)"):
        F.cross_entropy(x, deepnum.tensor([0, 1, 2, 0]), weight=deepnum.ones(2))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        F.cross_entropy(x, deepnum.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match=r"class-probability targets must have the input's shape \(4, 3\), got \(4, 2\)"):
        F.cross_entropy(x, deepnum.zeros(4, 2))
    with pytest.raises(ValueError, match="cross_entropy: input must have a class dimension"):
        F.cross_entropy(deepnum.tensor(1.0), deepnum.tensor(0))
