"""Second derivatives: every op's backward is differentiable, so Hessians match PyTorch's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deepnum
from tests.helpers import assert_close

IDX = [[0, 2, 1, 3], [3, 3, 0, 1], [2, 0, 0, 1]]


def _pad(m, x, pad, mode):
    return (F if m is torch else m).pad(x, pad, mode=mode)


def _setitem(m, x):
    y = x * 1.0
    y[0] = x[1] ** 2
    y[:, m.tensor([1, 3])] = y[:, m.tensor([0, 2])] * x[2:, :2]
    return (y**3).sum()


COMPOSITES = [
    ("softmax", lambda m, x: (m.softmax(x, 1) * m.arange(12.0, dtype=x.dtype).reshape(3, 4)).sum()),
    ("log_softmax", lambda m, x: (m.log_softmax(x, 0) ** 2).sum()),
    ("logsumexp", lambda m, x: m.logsumexp(x * x, dim=1).prod()),
    ("matmul_tanh_sigmoid", lambda m, x: (x.tanh() @ x.T).sigmoid().sum()),
    ("exp_log1p_sqrt", lambda m, x: x.exp().log1p().sqrt().sum()),
    ("var_std", lambda m, x: x.var(1).sum() * x.std(0).prod()),
    ("norm_pow_mean", lambda m, x: x.norm() * x.pow(3).mean()),
    ("norm_dims", lambda m, x: m.norm(x, p=3, dim=1).sum() + m.norm(x, dim=0).prod()),
    ("max_amax", lambda m, x: (x.max(1).values ** 2).sum() * x.amax(0).sum() + m.max(x) ** 3),
    ("cat_cumsum_sin", lambda m, x: m.cat([x, x * x], 1).cumsum(1).sin().sum()),
    ("stack_split", lambda m, x: sum((p**2).sum() * p.mean() for p in m.stack([x, x.exp()], 0).split([1, 3], dim=2))),
    ("pad_getitem", lambda m, x: (_pad(m, x, (2, 1), "reflect")[..., ::2] ** 2).sum() * x[0, 1]),
    ("pad_modes", lambda m, x: (_pad(m, x.unsqueeze(0), (1, 2), "circular") ** 3).sum() + (_pad(m, x.unsqueeze(0), (1, 1), "replicate").exp()).sum()),
    ("einsum", lambda m, x: m.einsum("ij,kj->ik", x, x.exp()).tanh().sum() + m.einsum("ii->", x[:, :3] ** 2)),
    ("gather_scatter", lambda m, x: x.gather(1, m.tensor(IDX)).exp().sum() * m.scatter_add(x, 1, m.tensor(IDX), x * x).sin().sum()),
    ("index_select_repeat", lambda m, x: (x.index_select(1, m.tensor([3, 0, 3])).repeat(2, 1).flip(0).roll(1, 1).tril() ** 3).sum()),
    ("masked_fill_where", lambda m, x: (x.masked_fill(x > 0.5, 2.0) ** 3).sum() + m.where(x > 0, x * x, x.exp()).prod()),
    ("erf_rsqrt", lambda m, x: (m.erf(x) * x).sum() + m.rsqrt(x * x + 1).sum()),
    ("div_pow", lambda m, x: (x / (1 + x * x)).sum() * m.pow(x * x + 1, x).sum()),
    ("prod", lambda m, x: (x * x + 1).prod(1).sum() + (x + 3).prod()),
    ("setitem", _setitem),
    ("addcmul_lerp_clamp", lambda m, x: (m.addcdiv(x, x, x * x + 1) * m.lerp(x, x.exp(), 0.3) * m.clamp(x, -0.5, 0.8)).sum()),
    ("scatter_constant_pad", lambda m, x: (m.scatter(x, 1, m.tensor([[0, 2], [1, 3], [3, 0]]), x[:, :2] ** 2) ** 2).sum()
     + (_pad(m, x, (1, 2, -1, 1), "constant") ** 3).sum()),
    ("narrow_chunk_unbind", lambda m, x: x.narrow(1, 1, 2).exp().prod() + sum((c**3).sum() for c in x.chunk(3, 1))
     + sum(r.sin().prod() for r in x.unbind(0))),
    ("masked_fill_tensor_value", lambda m, x: (x.masked_fill(x > 0, x[0, 0] ** 2) ** 2).sum()),
    ("minmax_binary", lambda m, x: (m.maximum(x, x.flip(0) * 0.5) ** 3).sum() + m.minimum(x.exp(), x * 2).pow(2).sum()),
]


def _hessian(f, x: deepnum.Tensor) -> np.ndarray:
    (g,) = deepnum.autograd.grad(f(x), x, create_graph=True)
    g = g.reshape(-1)
    rows = [deepnum.autograd.grad(g[i], x, retain_graph=True)[0].numpy().reshape(-1) for i in range(g.numel())]
    return np.stack(rows)


@pytest.mark.parametrize("name,fn", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_hessian_matches_torch(name, fn):
    values = np.random.default_rng(3).uniform(-1.5, 1.5, size=(3, 4))
    x = deepnum.tensor(values, requires_grad=True)
    ours = _hessian(lambda t: fn(deepnum, t), x)
    theirs = torch.autograd.functional.hessian(lambda t: fn(torch, t), torch.tensor(values)).reshape(12, 12)
    assert_close(ours, theirs.numpy(), rtol=1e-7, atol=1e-9)


def test_logmatmulexp_hessian_matches_reference():
    values = np.random.default_rng(4).uniform(-2, 2, size=(3, 3))
    x = deepnum.tensor(values, requires_grad=True)
    ours = _hessian(lambda t: (deepnum.logmatmulexp(t, t.T * 2) ** 2).sum(), x)
    ref = torch.autograd.functional.hessian(
        lambda t: (torch.logsumexp(t.unsqueeze(-1) + (t.T * 2).unsqueeze(-3), dim=-2) ** 2).sum(), torch.tensor(values))
    assert_close(ours, ref.reshape(9, 9).numpy())


@pytest.mark.parametrize("name,fn", COMPOSITES[:8], ids=[c[0] for c in COMPOSITES[:8]])
def test_gradgradcheck(name, fn):
    x = deepnum.tensor(np.random.default_rng(5).uniform(-1, 1, size=(3, 4)), requires_grad=True)
    assert deepnum.autograd.gradgradcheck(lambda t: fn(deepnum, t), (x,))
