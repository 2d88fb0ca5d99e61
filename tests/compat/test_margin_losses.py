"""Margin/ranking/embedding losses, ``glu`` and ``gumbel_softmax`` against PyTorch."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
import deepnum.nn.functional as F
from deepnum.autograd import gradcheck
from tests.helpers import check_against_torch, random_inputs

TF = torch.nn.functional
RNG = np.random.default_rng(0)
SIGNS = np.where(RNG.random(6) < 0.5, -1.0, 1.0).astype(np.float32)


def _signs(lib):
    return lib.tensor(SIGNS)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pairwise_and_sign_losses(reduction):
    kw = dict(reduction=reduction)
    check_against_torch(
        lambda a, b: F.margin_ranking_loss(a, b, _signs(deepnum), margin=0.3, **kw),
        lambda a, b: TF.margin_ranking_loss(a, b, _signs(torch), margin=0.3, **kw),
        random_inputs((6,), (6,)),
    )
    check_against_torch(
        lambda a: F.hinge_embedding_loss(a, _signs(deepnum), margin=0.5, **kw),
        lambda a: TF.hinge_embedding_loss(a, _signs(torch), margin=0.5, **kw),
        random_inputs((6,)),
    )
    check_against_torch(
        lambda a: F.soft_margin_loss(a, _signs(deepnum), **kw),
        lambda a: TF.soft_margin_loss(a, _signs(torch), **kw),
        random_inputs((6,)),
    )
    check_against_torch(
        lambda a, b: F.cosine_embedding_loss(a, b, _signs(deepnum), margin=0.1, **kw),
        lambda a, b: TF.cosine_embedding_loss(a, b, _signs(torch), margin=0.1, **kw),
        random_inputs((6, 4), (6, 4)),
    )


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("p", [2.0, 1.0])
def test_triplet_margin_loss(swap, p):
    check_against_torch(
        lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=0.5, p=p, swap=swap),
        lambda a, b, c: TF.triplet_margin_loss(a, b, c, margin=0.5, p=p, swap=swap),
        random_inputs((5, 3), (5, 3), (5, 3)),
    )
    check_against_torch(
        dnn.TripletMarginLoss(margin=2.0, reduction="sum"),
        torch.nn.TripletMarginLoss(margin=2.0, reduction="sum"),
        random_inputs((5, 3), (5, 3), (5, 3)),
    )


def test_multilabel_poisson_and_multi_margin():
    y = (RNG.random((4, 5)) < 0.5).astype(np.float32)
    w = RNG.random(5).astype(np.float32)
    check_against_torch(
        lambda a: F.multilabel_soft_margin_loss(a, deepnum.tensor(y), weight=deepnum.tensor(w)),
        lambda a: TF.multilabel_soft_margin_loss(a, torch.tensor(y), weight=torch.tensor(w)),
        random_inputs((4, 5)),
    )
    counts = RNG.poisson(2.0, (4, 5)).astype(np.float32)
    for log_input, full in [(True, False), (True, True), (False, False)]:
        inputs = random_inputs((4, 5), low=0.1, high=2.0)
        check_against_torch(
            lambda a: F.poisson_nll_loss(
                a, deepnum.tensor(counts), log_input=log_input, full=full
            ),
            lambda a: TF.poisson_nll_loss(a, torch.tensor(counts), log_input=log_input, full=full),
            inputs,
        )
    target = np.array([0, 3, 4, 1])
    for p in (1, 2):
        check_against_torch(
            lambda a: F.multi_margin_loss(
                a, deepnum.tensor(target), p=p, margin=0.7, weight=deepnum.tensor(w)
            ),
            lambda a: TF.multi_margin_loss(
                a, torch.tensor(target), p=p, margin=0.7, weight=torch.tensor(w)
            ),
            random_inputs((4, 5)),
        )
    check_against_torch(
        dnn.MultiMarginLoss(),
        torch.nn.MultiMarginLoss(),
        random_inputs((4, 5)) + [deepnum.tensor(target)],
    )


def test_modules_match_functional_and_torch():
    pairs = [
        (dnn.MarginRankingLoss(0.2), torch.nn.MarginRankingLoss(0.2), [(6,), (6,), "signs"]),
        (dnn.HingeEmbeddingLoss(), torch.nn.HingeEmbeddingLoss(), [(6,), "signs"]),
        (
            dnn.SoftMarginLoss(reduction="sum"),
            torch.nn.SoftMarginLoss(reduction="sum"),
            [(6,), "signs"],
        ),
        (
            dnn.CosineEmbeddingLoss(0.1),
            torch.nn.CosineEmbeddingLoss(0.1),
            [(6, 3), (6, 3), "signs"],
        ),
    ]
    for ours, theirs, shapes in pairs:
        inputs = [deepnum.tensor(SIGNS) if s == "signs" else random_inputs(s)[0] for s in shapes]
        check_against_torch(ours, theirs, inputs)


def test_glu_and_gumbel_softmax():
    check_against_torch(lambda a: F.glu(a), lambda a: TF.glu(a), random_inputs((3, 6)))
    check_against_torch(dnn.GLU(dim=0), torch.nn.GLU(dim=0), random_inputs((4, 3)))
    x = random_inputs((3, 4), dtype=np.float64)[0]
    assert gradcheck(lambda a: F.glu(a, 1), (x,))
    with pytest.raises(RuntimeError, match="glu: halving dimension must be even"):
        F.glu(deepnum.ones(3, 5))
    logits = deepnum.tensor(
        np.log(np.array([[0.7, 0.2, 0.1]] * 4000, np.float32)), requires_grad=True
    )
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1.0, rtol=1e-5)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    counts = hard.detach().numpy().sum(0) / 4000
    np.testing.assert_allclose(
        counts, [0.7, 0.2, 0.1], atol=0.03
    )  # Gumbel-max draws from the categorical
    assert set(np.unique(hard.detach().numpy())) == {0.0, 1.0}
    (hard * deepnum.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert (
        logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0
    )  # straight-through gradient
