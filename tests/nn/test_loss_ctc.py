"""CTC loss against PyTorch (padded and concatenated targets, unequal lengths, repeated
labels, blank not 0, every reduction, zero_infinity, unbatched input), against a brute-force
sum over all paths, float64 gradchecks, the module form and error messages."""

import itertools
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

REDUCTIONS = ["none", "sum", "mean"]
DTYPES = [np.float32, np.float64]


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _log_probs(shape, dtype=np.float64, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    x = _log_softmax(rng.standard_normal(shape) * scale).astype(dtype)
    return deepnum.tensor(x, requires_grad=True)


def _problem(t_max, batch, n_classes, s_max, seed=0, blank=0):
    """Padded (N, s_max) targets avoiding ``blank``, feasible (N,) input and target lengths."""
    rng = np.random.default_rng(seed)
    labels = [c for c in range(n_classes) if c != blank]
    targets = rng.choice(labels, size=(batch, s_max))
    target_lengths = rng.integers(0, s_max + 1, size=batch)
    # a target needs S frames plus one per adjacent repeat; keep every sample alignable
    needed = [int(n + (targets[i, 1:n] == targets[i, :n - 1]).sum()) if n else 0
              for i, n in enumerate(target_lengths)]
    assert max(needed) <= t_max, "test problem must be alignable"
    input_lengths = np.array([rng.integers(k, t_max + 1) for k in needed])
    input_lengths[0] = t_max  # the longest sample uses every frame, as in a real batch
    return tuple(a.astype(np.int64) for a in (targets, input_lengths, target_lengths))


def _concatenated(targets, target_lengths):
    return np.concatenate([row[:n] for row, n in zip(targets, target_lengths)]).astype(np.int64)


def _check(log_probs, targets, input_lengths, target_lengths, **kw):
    """Loss and gradient w.r.t. log_probs vs PyTorch; targets and lengths as given to both."""
    def as_torch(v):
        return torch.from_numpy(np.asarray(v).copy()) if isinstance(v, np.ndarray) else v

    def as_deepnum(v):
        return deepnum.tensor(v) if isinstance(v, np.ndarray) else v

    return check_against_torch(
        lambda lp: F.ctc_loss(lp, as_deepnum(targets), as_deepnum(input_lengths),
                              as_deepnum(target_lengths), **kw),
        lambda lp: TF.ctc_loss(lp, as_torch(targets), as_torch(input_lengths),
                               as_torch(target_lengths), **kw),
        [log_probs],
    )


# ------------------------------------------------------------------------- vs PyTorch
# (T, N, C, S): one frame, one sample, short and long sequences, more labels than classes
SHAPES = [(1, 2, 3, 1), (5, 1, 4, 2), (8, 3, 5, 4), (12, 4, 3, 6), (30, 2, 6, 10)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch(shape, layout, reduction, dtype):
    t_max, batch, n_classes, s_max = shape
    targets, input_lengths, target_lengths = _problem(t_max, batch, n_classes, s_max, seed=t_max)
    if layout == "concatenated":
        targets = _concatenated(targets, target_lengths)
    log_probs = _log_probs((t_max, batch, n_classes), dtype, seed=batch)
    out = _check(log_probs, targets, input_lengths, target_lengths, reduction=reduction)
    assert out.shape == ((batch,) if reduction == "none" else ())
    assert np.isfinite(out.detach().numpy()).all()


@pytest.mark.parametrize("blank", [1, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_blank_not_zero(blank, dtype):
    targets, input_lengths, target_lengths = _problem(9, 3, 5, 4, seed=3, blank=blank)
    assert 0 in targets  # class 0 is an ordinary label here
    _check(_log_probs((9, 3, 5), dtype), targets, input_lengths, target_lengths, blank=blank,
           reduction="none")


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeated_labels_need_a_blank_between_them(dtype):
    # [1, 1] needs 3 frames (1, blank, 1); [2, 2, 2] needs 5; [1, 2] only 2
    targets = np.array([[1, 1, 0], [2, 2, 2], [1, 2, 0]])
    target_lengths = np.array([2, 3, 2])
    log_probs = _log_probs((5, 3, 3), dtype, seed=4)
    out = _check(log_probs, targets, np.array([3, 5, 2]), target_lengths, reduction="none")
    assert np.isfinite(out.detach().numpy()).all()
    log_probs.grad = None
    short = _check(log_probs, targets, np.array([2, 4, 2]), target_lengths, reduction="none")
    assert np.isinf(short.detach().numpy()[:2]).all() and np.isfinite(short.detach().numpy()[2])


def test_padding_entries_past_the_target_length_are_ignored():
    targets = np.array([[1, 2, 0, -1], [3, 99, 7, -5]])  # padding may be blank or no class
    _check(_log_probs((6, 2, 4)), targets, np.array([6, 4]), np.array([2, 1]), reduction="none")


def test_empty_targets_and_empty_inputs():
    log_probs = _log_probs((4, 3, 3))
    out = _check(log_probs, np.zeros((3, 2), np.int64), np.array([4, 0, 2]), np.array([0, 0, 0]),
                 reduction="none")
    lp = log_probs.detach().numpy()
    # an empty target has a single path, all blanks; no frames and no labels: p = 1
    expected = [-lp[:4, 0, 0].sum(), 0.0, -lp[:2, 2, 0].sum()]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("kind", ["list", "tuple", "int32 tensor"])
def test_lengths_as_lists_tuples_and_int32(kind):
    targets, input_lengths, target_lengths = _problem(7, 3, 4, 3, seed=5)
    convert = {"list": list, "tuple": tuple,
               "int32 tensor": lambda a: deepnum.tensor(np.asarray(a, np.int32))}[kind]
    log_probs = _log_probs((7, 3, 4))
    got = F.ctc_loss(log_probs, targets, convert(input_lengths.tolist()),
                     convert(target_lengths.tolist()), reduction="none")
    want = TF.ctc_loss(to_torch(log_probs), torch.from_numpy(targets),
                       torch.from_numpy(input_lengths), torch.from_numpy(target_lengths),
                       reduction="none")
    assert_close(got, want)


# ------------------------------------------------------------------- impossible alignments
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_target_longer_than_input(reduction, zero_infinity, dtype):
    # sample 0 has 2 frames for 3 labels: infinite loss, NaN gradient unless zero_infinity
    targets = np.array([[1, 2, 3], [2, 1, 0]])
    log_probs = _log_probs((6, 2, 4), dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _check(log_probs, targets, np.array([2, 6]), np.array([3, 2]),
                     reduction=reduction, zero_infinity=zero_infinity)
    losses = F.ctc_loss(log_probs, targets, [2, 6], [3, 2], reduction="none",
                        zero_infinity=zero_infinity).detach().numpy()
    assert losses[0] == (0.0 if zero_infinity else np.inf) and np.isfinite(losses[1])
    if zero_infinity:
        assert np.isfinite(out.detach().numpy()).all()
        np.testing.assert_array_equal(log_probs.grad.numpy()[:, 0], 0)
    else:
        assert np.isnan(log_probs.grad.numpy()[:2, 0]).all()


# ------------------------------------------------------------------------- unbatched
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("targets", [np.array([1, 3, 3]), np.array([[1, 3, 3, 0]])])
def test_unbatched_input(reduction, targets):
    log_probs = _log_probs((7, 4))
    out = _check(log_probs, targets, np.array(7), np.array(3), reduction=reduction)
    assert out.shape == ()
    batched = F.ctc_loss(log_probs.detach().reshape(7, 1, 4), targets.reshape(1, -1)[:, :3],
                         [7], [3], reduction="none")
    assert_close(out if reduction != "mean" else out * 3, batched.reshape(()))


# ------------------------------------------------------------------- independent checks
def _brute_force_nll(log_probs: np.ndarray, target, blank: int) -> float:
    """-log Σ over every frame path that collapses to ``target`` of Π_t y_t(path_t)."""
    t_max, n_classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(n_classes), repeat=t_max):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        if [c for c in merged if c != blank] == list(target):
            total += np.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return -np.log(total)


@pytest.mark.parametrize("blank, target", [
    (0, [1]), (0, [1, 1]), (0, [2, 1]), (0, [1, 2, 1]), (0, []),
    (2, [0]), (2, [1, 1]), (2, [0, 1, 0]), (1, [0, 2, 2]),
])
def test_matches_the_sum_over_all_paths(blank, target):
    lp = _log_probs((5, 1, 3), seed=len(target) + blank).detach().numpy()
    padded = np.array([target + [blank] * (3 - len(target))])
    got = F.ctc_loss(deepnum.tensor(lp), padded, [5], [len(target)], blank=blank,
                     reduction="none")
    np.testing.assert_allclose(got.numpy()[0], _brute_force_nll(lp[:, 0], target, blank),
                               rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_through_log_softmax(reduction):
    # PyTorch's gradient is exact for log_probs = log_softmax(u), the way CTC is used
    rng = np.random.default_rng(8)
    u = deepnum.tensor(rng.standard_normal((6, 3, 4)), requires_grad=True)
    targets = np.array([[1, 1, 2], [3, 2, 0], [2, 0, 0]])
    assert gradcheck(lambda v: F.ctc_loss(F.log_softmax(v, dim=2), targets, [6, 5, 3],
                                          [3, 2, 1], blank=0, reduction=reduction), (u,))


def test_gradient_is_the_free_input_derivative_plus_probabilities():
    # d loss / d log_probs[t, k] taken by finite differences, plus y_t(k) for t < T_n
    log_probs = _log_probs((5, 2, 3), seed=9)
    targets, input_lengths, target_lengths = np.array([[1, 2], [2, 2]]), [5, 4], [2, 1]
    F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="sum").backward()
    lp = log_probs.detach().numpy()
    numeric = np.zeros_like(lp)
    eps = 1e-6
    for index in np.ndindex(lp.shape):
        values = []
        for sign in (1, -1):
            shifted = lp.copy()
            shifted[index] += sign * eps
            values.append(F.ctc_loss(deepnum.tensor(shifted), targets, input_lengths,
                                     target_lengths, reduction="sum").item())
        numeric[index] = (values[0] - values[1]) / (2 * eps)
    in_input = (np.arange(5)[:, None] < np.array(input_lengths))[:, :, None]
    np.testing.assert_allclose(log_probs.grad.numpy(), numeric + np.exp(lp) * in_input,
                               rtol=1e-6, atol=1e-8)


def test_float32_long_sequence_matches_float64():
    # p(l|x) is about e^-1500 here, below even float64's range; log space keeps it. Rounding
    # of the float32 loss (~1e-4 at this size) shows up in the gradient, as in PyTorch's float32
    targets, input_lengths, target_lengths = _problem(400, 2, 8, 30, seed=10)
    log_probs = _log_probs((400, 2, 8), np.float32, scale=3.0)
    loss = F.ctc_loss(log_probs, targets, input_lengths.tolist(), target_lengths.tolist(),
                      reduction="sum")
    loss.backward()
    reference = to_torch(log_probs).double().detach().requires_grad_()
    expected = TF.ctc_loss(reference, torch.from_numpy(targets), torch.from_numpy(input_lengths),
                           torch.from_numpy(target_lengths), reduction="sum")
    expected.backward()
    assert loss.dtype == deepnum.float32 and expected.item() > 1000
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
    np.testing.assert_allclose(log_probs.grad.numpy(), reference.grad.numpy(), atol=1e-3)


def test_double_backward_is_refused_as_in_pytorch():
    u = deepnum.tensor(np.random.default_rng(11).standard_normal((4, 1, 3)), requires_grad=True)
    loss = F.ctc_loss(F.log_softmax(u, dim=2), [[1, 2]], [4], [2])
    (first,) = deepnum.autograd.grad(loss, u, create_graph=True)
    (plain,) = deepnum.autograd.grad(F.ctc_loss(F.log_softmax(u, dim=2), [[1, 2]], [4], [2]), u)
    assert_close(first.detach(), plain)
    with pytest.raises(RuntimeError, match="ctc_loss: .*double backward"):
        first.sum().backward()


# ------------------------------------------------------------------------- module
@pytest.mark.parametrize("kwargs", [{}, dict(blank=3, reduction="sum"),
                                    dict(reduction="none", zero_infinity=True)])
def test_module_matches_torch(kwargs):
    blank = kwargs.get("blank", 0)
    targets, input_lengths, target_lengths = _problem(8, 3, 5, 3, seed=12, blank=blank)
    if kwargs.get("zero_infinity"):
        input_lengths[1], target_lengths[1] = 1, 2  # one frame for two labels: infinite
    ours, theirs = nn.CTCLoss(**kwargs), torch.nn.CTCLoss(**kwargs)
    out = check_against_torch(
        lambda lp: ours(lp, deepnum.tensor(targets), deepnum.tensor(input_lengths),
                        deepnum.tensor(target_lengths)),
        lambda lp: theirs(lp, torch.from_numpy(targets), torch.from_numpy(input_lengths),
                          torch.from_numpy(target_lengths)),
        [_log_probs((8, 3, 5), np.float32)],
    )
    assert np.isfinite(out.detach().numpy()).all()


def test_module_defaults_and_repr():
    loss = nn.CTCLoss()
    assert (loss.blank, loss.reduction, loss.zero_infinity) == (0, "mean", False)
    assert repr(loss) == "CTCLoss()"
    assert repr(nn.CTCLoss(blank=2, reduction="sum", zero_infinity=True)) == (
        "CTCLoss(reduction='sum', blank=2, zero_infinity=True)")
    assert "ctc_loss" in F.__dict__ and "CTCLoss" in nn.__dict__


# ------------------------------------------------------------------------- errors
LP = np.log(np.full((5, 2, 4), 0.25))
GOOD = dict(targets=np.array([[1, 2], [3, 3]]), input_lengths=[5, 5], target_lengths=[2, 2])

ERRORS = [
    (dict(log_probs=LP[None]), RuntimeError,
     r"log_probs must be \(T, N, C\) or \(T, C\), got shape \(1, 5, 2, 4\)"),
    (dict(log_probs=LP[:, 0, 0]), RuntimeError,
     r"log_probs must be \(T, N, C\) or \(T, C\), got shape \(5,\)"),
    (dict(log_probs=LP.astype(np.int64)), NotImplementedError,
     "log_probs must be float32 or float64, got int64"),
    (dict(log_probs=LP[:0]), RuntimeError,
     r"log_probs must not be empty, got shape \(0, 2, 4\)"),
    (dict(blank=4), RuntimeError,
     r"blank must be a class index in \[0, C\) = \[0, 4\), got 4"),
    (dict(blank=-1), RuntimeError,
     r"blank must be a class index in \[0, C\) = \[0, 4\), got -1"),
    (dict(input_lengths=[6, 5]), RuntimeError,
     r"input_lengths must be in \[0, T\] = \[0, 5\].*got 6"),
    (dict(input_lengths=[-1, 5]), RuntimeError,
     r"input_lengths must be in \[0, T\].*got -1"),
    (dict(input_lengths=[5, 5, 5]), RuntimeError,
     r"input_lengths must have one entry per batch element \(2\), got 3"),
    (dict(target_lengths=[2]), RuntimeError,
     r"target_lengths must have one entry per batch element \(2\), got 1"),
    (dict(target_lengths=[-1, 2]), RuntimeError,
     "target_lengths must be >= 0, got -1"),
    (dict(input_lengths=[5.0, 5.0]), RuntimeError,
     "input_lengths must be integers, got dtype float64"),
    (dict(input_lengths=5), TypeError,
     "input_lengths must be a tensor, list or tuple of ints, got int"),
    (dict(target_lengths=[3, 2]), RuntimeError,
     r"padded targets must be \(N, S\) with N = 2 and S >= max\(target_lengths\) = 3, "
     r"got shape \(2, 2\)"),
    (dict(targets=np.array([[1, 2]])), RuntimeError,
     r"padded targets must be \(N, S\) with N = 2.*got shape \(1, 2\)"),
    (dict(targets=np.array([1, 2, 3])), RuntimeError,
     r"concatenated targets must have sum\(target_lengths\) = 4 entries, got shape \(3,\)"),
    (dict(targets=np.zeros((2, 2, 1), np.int64)), RuntimeError,
     r"targets must be padded \(N, S\) or concatenated"),
    (dict(targets=np.array([[1, 4], [3, 3]])), RuntimeError,
     r"targets must be class indices in \[0, C\) = \[0, 4\), got 4"),
    (dict(targets=np.array([1, 2, -3, 3])), RuntimeError,
     r"targets must be class indices in \[0, C\).*got -3"),
    (dict(targets=np.array([[1, 2], [0, 3]])), RuntimeError,
     "targets must not contain the blank index 0"),
    (dict(targets=np.array([[1, 2], [3, 3]]), blank=3), RuntimeError,
     "targets must not contain the blank index 3"),
    (dict(reduction="avg"), ValueError,
     "reduction must be one of 'mean', 'sum', 'none', got 'avg'"),
]


@pytest.mark.parametrize("change, error, message", ERRORS)
def test_errors_name_the_op_and_what_was_expected(change, error, message):
    args = dict(log_probs=LP, **GOOD)
    args.update(change)
    lp = args.pop("log_probs")
    with pytest.raises(error, match="^ctc_loss: " + message):
        F.ctc_loss(deepnum.tensor(lp), **args)
