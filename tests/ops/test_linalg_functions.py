"""``deepnum.linalg`` (norms, inverse, determinants, solve, Cholesky, eigh) against ``torch.linalg``."""

import numpy as np
import pytest
import torch

import deepnum
from tests.helpers import assert_close, check_against_torch, random_inputs
from tests.ops._common import compare


def _spd(m, x):
    """A well-conditioned symmetric positive-definite matrix built from ``x`` (differentiably)."""
    n = x.shape[-1]
    return x @ x.mT + n * m.eye(n, dtype=x.dtype)


def _lin(m):
    return m.linalg


CASES = [
    ("inv", lambda m, x: _lin(m).inv(_spd(m, x) + x), [(3, 3)]),
    ("inv_batched", lambda m, x: _lin(m).inv(_spd(m, x)), [(2, 3, 3)]),
    ("inverse_method", lambda m, x: (_spd(m, x) - x).inverse(), [(3, 3)]),
    ("det", lambda m, x: _lin(m).det(x), [(3, 3)]),
    ("det_top_level", lambda m, x: m.det(_spd(m, x)), [(2, 3, 3)]),
    ("slogdet", lambda m, x: _lin(m).slogdet(x), [(2, 4, 4)]),
    ("logdet", lambda m, x: m.logdet(_spd(m, x)), [(3, 3)]),
    ("solve", lambda m, a, b: _lin(m).solve(_spd(m, a), b), [(3, 3), (3, 2)]),
    ("solve_vector", lambda m, a, b: _lin(m).solve(_spd(m, a), b), [(3, 3), (3,)]),
    ("solve_batched_broadcast", lambda m, a, b: _lin(m).solve(_spd(m, a), b), [(3, 3), (2, 3, 4)]),
    ("solve_batched_vectors", lambda m, a, b: _lin(m).solve(_spd(m, a), b), [(2, 3, 3), (2, 3)]),
    ("cholesky", lambda m, x: _lin(m).cholesky(_spd(m, x)), [(4, 4)]),
    ("cholesky_upper_batched", lambda m, x: _lin(m).cholesky(_spd(m, x), upper=True), [(2, 3, 3)]),
    ("eigvalsh", lambda m, x: _lin(m).eigvalsh(x + x.mT), [(4, 4)]),
    ("eigh_vectors_gauge_free", lambda m, x: (_lin(m).eigh(x + x.mT).eigenvectors ** 2), [(3, 3)]),
    ("svdvals", lambda m, x: _lin(m).svdvals(x), [(3, 5)]),
    ("vector_norm", lambda m, x: _lin(m).vector_norm(x, dim=-1), [(3, 4)]),
    ("vector_norm_inf", lambda m, x: _lin(m).vector_norm(x, float("inf")), [(3, 4)]),
    ("matrix_norm_fro", lambda m, x: _lin(m).matrix_norm(x), [(2, 3, 4)]),
    ("matrix_norm_1", lambda m, x: _lin(m).matrix_norm(x, 1), [(3, 4)]),
    ("matrix_norm_inf_keep", lambda m, x: _lin(m).matrix_norm(x, float("inf"), keepdim=True), [(2, 3, 4)]),
    ("matrix_norm_nuc", lambda m, x: _lin(m).matrix_norm(x, "nuc"), [(3, 4)]),
    ("matrix_norm_2", lambda m, x: _lin(m).matrix_norm(x, 2), [(4, 3)]),
    ("norm_default", lambda m, x: _lin(m).norm(x), [(3, 4)]),
    ("norm_ord1_vector", lambda m, x: _lin(m).norm(x[0], 1), [(3, 4)]),
    ("norm_matrix_inf", lambda m, x: _lin(m).norm(x, float("inf")), [(3, 4)]),
    ("norm_dims", lambda m, x: _lin(m).norm(x, dim=(0, 2)), [(2, 3, 4)]),
    ("matrix_power", lambda m, x: _lin(m).matrix_power(x, 3), [(3, 3)]),
    ("matrix_power_neg", lambda m, x: m.matrix_power(_spd(m, x), -2), [(3, 3)]),
    ("matrix_power_zero", lambda m, x: _lin(m).matrix_power(x, 0) + x, [(3, 3)]),
    ("multi_dot", lambda m, a, b: _lin(m).multi_dot([a, b, a]), [(3, 4), (4, 3)]),
    ("vecdot", lambda m, a, b: _lin(m).vecdot(a, b), [(3, 4), (4,)]),
    ("cross", lambda m, a, b: _lin(m).cross(a, b), [(2, 3), (2, 3)]),
    ("diagonal", lambda m, x: _lin(m).diagonal(x, offset=1), [(2, 3, 4)]),
]


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=[c[0] for c in CASES])
def test_linalg(name, fn, shapes):
    compare(fn, shapes, gradcheck=not name.startswith(("eig", "svd", "matrix_norm_nuc", "matrix_norm_2")))


def test_solve_hessian_matches_torch():
    """Second derivatives through solve and logdet: Newton steps rely on them (003 §2.5)."""
    values = np.random.default_rng(0).uniform(-1, 1, size=(3, 3))

    def f(m, x):
        a = _spd(m, x)
        return m.logdet(a) + (m.linalg.solve(a, x[:, 0]) ** 2).sum() + m.linalg.inv(a).sum()

    x = deepnum.tensor(values, requires_grad=True)
    (g,) = deepnum.autograd.grad(f(deepnum, x), x, create_graph=True)
    rows = [deepnum.autograd.grad(g.reshape(-1)[i], x, retain_graph=True)[0].numpy().reshape(-1) for i in range(9)]
    theirs = torch.autograd.functional.hessian(lambda t: f(torch, t), torch.tensor(values)).reshape(9, 9)
    assert_close(np.stack(rows), theirs.numpy())


def test_cholesky_second_derivative():
    x = deepnum.tensor(np.random.default_rng(1).uniform(-1, 1, size=(3, 3)), requires_grad=True)
    assert deepnum.autograd.gradgradcheck(lambda t: deepnum.linalg.cholesky(_spd(deepnum, t)).sum(), (x,))


def test_qr_reconstructs_and_matches_torch():
    a = np.random.default_rng(2).standard_normal((4, 3))
    q, r = deepnum.linalg.qr(deepnum.tensor(a))
    tq, tr = torch.linalg.qr(torch.tensor(a))
    assert_close(q @ r, a)
    assert_close(np.abs(q.numpy()), np.abs(tq.numpy()))
    assert_close(np.abs(r.numpy()), np.abs(tr.numpy()))


@pytest.mark.parametrize("fn,match", [
    (lambda: deepnum.linalg.inv(deepnum.zeros(2, 3)), r"linalg.inv: A must be batches of square matrices, but they are \(2, 3\)"),
    (lambda: deepnum.linalg.solve(deepnum.eye(3), deepnum.zeros(2, 1)), r"incompatible shapes of A \(3, 3\) and B \(2, 1\)"),
    (lambda: deepnum.linalg.cholesky(-deepnum.eye(2)), "not positive-definite"),
])
def test_linalg_errors(fn, match):
    with pytest.raises(RuntimeError, match=match):
        fn()


def test_top_level_norm_and_cross_keep_torch_semantics():
    assert deepnum.norm is deepnum.ops.reduce.norm
    a = deepnum.tensor([[1.0, 2.0, 3.0]] * 3)
    with pytest.warns(UserWarning):
        top = deepnum.cross(a, a.flip(1))  # first dim of size 3, as torch.cross
    with pytest.warns(UserWarning):
        ref = torch.cross(torch.tensor(a.numpy()), torch.tensor(a.flip(1).numpy()))
    assert_close(top, ref)


@pytest.mark.parametrize("scale", [0.05, 1.0, 25.0])
@pytest.mark.parametrize("shape", [(3, 3), (2, 5, 5)])
def test_matrix_exp_against_torch(scale, shape):
    (a,) = random_inputs(shape, dtype=np.float64, low=-scale, high=scale)
    check_against_torch(deepnum.linalg.matrix_exp, torch.linalg.matrix_exp, [a], rtol=1e-9, atol=1e-9 * scale)
    assert deepnum.autograd.gradcheck(deepnum.matrix_exp, (a,))


def test_matrix_exp_of_a_rotation_generator():
    # exp of the skew-symmetric generator [[0, -θ], [θ, 0]] is the rotation by θ
    theta = 0.7
    rot = deepnum.linalg.matrix_exp(deepnum.tensor([[0.0, -theta], [theta, 0.0]], dtype=deepnum.float64))
    c, s = np.cos(theta), np.sin(theta)
    np.testing.assert_allclose(rot.numpy(), [[c, -s], [s, c]], atol=1e-14)
    with pytest.raises(RuntimeError, match="matrix_exp"):
        deepnum.linalg.matrix_exp(deepnum.ones(2, 3))
