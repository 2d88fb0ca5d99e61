"""Matrix products, einsum, outer and the log-domain product against PyTorch."""

import numpy as np
import pytest
import torch

import deepnum
from tests.helpers import assert_close
from tests.ops._common import compare, inputs_for

MATMUL_SHAPES = [
    ((3, 4), (4, 2)), ((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((0, 4), (4, 3)), ((3, 0), (0, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    compare(lambda m, a, b: a @ b, list(shapes), gradcheck=0 not in shapes[0])


def test_mm_bmm_outer_dot_mv():
    compare(lambda m, a, b: m.mm(a, b), [(3, 4), (4, 2)])
    compare(lambda m, a, b: a.bmm(b), [(2, 3, 4), (2, 4, 5)])
    compare(lambda m, a, b: m.outer(a, b), [(3,), (4,)])
    compare(lambda m, a, b: m.dot(a, b), [(3,), (3,)])
    compare(lambda m, a, b: m.mv(a, b), [(2, 3), (3,)])


def test_matmul_float32():
    compare(lambda m, a, b: m.matmul(a, b), [(2, 5, 6), (6, 3)], dtype=np.float32, gradcheck=False)


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->ji", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,k->ij", [(3, 2), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (1, 4, 2)]),
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,ij->i", [(3, 1), (1, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum(eq, shapes):
    compare(lambda m, *xs: m.einsum(eq, *xs), shapes)


def test_einsum_accepts_a_list_of_operands():
    compare(lambda m, a, b: m.einsum("ij,jk->ik", [a, b]), [(2, 3), (3, 2)])


def test_einsum_bad_term_names_the_operand():
    a, b = inputs_for([(3, 4), (4, 2)], requires_grad=False)
    with pytest.raises(RuntimeError, match="operand 1 does not match its shape"):
        deepnum.einsum("ij,jkl->ik", a, b)
    with pytest.raises(RuntimeError, match="subscript j has size 4 in one operand and 5"):
        deepnum.einsum("ij,jk->ik", a, inputs_for([(5, 2)])[0])


# -------------------------------------------------------------------- logmatmulexp
def _reference_logmatmulexp(a, b):
    return torch.logsumexp(a.unsqueeze(-1) + b.unsqueeze(-3), dim=-2)


@pytest.mark.parametrize("shapes,scale", [(((3, 4), (4, 2)), 1.0), (((2, 3, 4), (4, 5)), 3.0),
                                          (((3, 4), (4, 2)), 800.0)], ids=["small", "batched", "huge"])
def test_logmatmulexp_matches_log_of_product(shapes, scale):
    a, b = inputs_for(shapes, low=-scale, high=scale)
    ta, tb = (torch.tensor(x.detach().numpy(), requires_grad=True) for x in (a, b))
    out = deepnum.logmatmulexp(a, b)
    ref = _reference_logmatmulexp(ta, tb)
    assert_close(out, ref)
    w = np.random.default_rng(1).standard_normal(out.shape)
    (out * deepnum.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)
    if scale < 10:
        assert_close(out, torch.log(torch.exp(ta) @ torch.exp(tb)))
        assert deepnum.autograd.gradcheck(deepnum.logmatmulexp, (a.detach().requires_grad_(), b.detach().requires_grad_()))


def test_logmatmulexp_survives_where_the_shifted_product_underflows():
    # 001 eq. 98 example: ln(e^0 e^-1000 + e^-1000 e^0) = -1000 + ln 2
    a = deepnum.tensor([[0.0, -1000.0]], dtype=deepnum.float64, requires_grad=True)
    b = deepnum.tensor([[-1000.0], [0.0]], dtype=deepnum.float64, requires_grad=True)
    out = deepnum.logmatmulexp(a, b)
    assert_close(out, np.array([[-1000.0 + np.log(2.0)]]))
    out.sum().backward()
    assert_close(a.grad, np.array([[0.5, 0.5]]))
    assert deepnum.autograd.gradcheck(deepnum.logmatmulexp, (a.detach().requires_grad_(), b.detach().requires_grad_()))


# ---------------------------------------------------------------------------- errors
def test_matmul_errors_name_both_shapes():
    a, b = inputs_for([(3, 4), (5, 2)], requires_grad=False)
    with pytest.raises(RuntimeError, match=r"matmul: \(3, 4\) @ \(5, 2\): inner dimensions 4 and 5 differ"):
        a @ b
    with pytest.raises(RuntimeError, match=r"mm: expected two 2-D tensors"):
        deepnum.mm(a, deepnum.zeros(4))
    with pytest.raises(RuntimeError, match=r"bmm: .*batch sizes 2 and 3 differ"):
        deepnum.bmm(deepnum.zeros(2, 3, 4), deepnum.zeros(3, 4, 5))
    with pytest.raises(RuntimeError, match=r"logmatmulexp: \(3, 4\) and \(5, 2\)"):
        deepnum.logmatmulexp(a, b)
