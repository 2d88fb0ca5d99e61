"""Attention against PyTorch, calculus and the notes' worked example."""

import numpy as np
import pytest
import torch

import deepnum
from deepnum import nn
from deepnum.nn import functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs, to_torch

TF = torch.nn.functional
rng = np.random.default_rng(0)


# ----------------------------------------------------------------- scaled dot product
@pytest.mark.parametrize("shapes", [((5, 8), (7, 8), (7, 3)), ((2, 5, 8), (2, 7, 8), (2, 7, 4)), ((2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 6)), ((2, 3, 4, 8), (1, 3, 6, 8), (1, 3, 6, 8))])
def test_sdpa_matches_torch(shapes):
    check_against_torch(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, random_inputs(*shapes))


@pytest.mark.parametrize("kind", ["bool", "float", "causal", "scale"])
def test_sdpa_masks_match_torch(kind):
    q, k, v = random_inputs((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4))
    kwargs_dn, kwargs_t = {}, {}
    if kind == "bool":
        m = rng.random((5, 5)) > 0.4
        m[:, 0] = True
        kwargs_dn["attn_mask"], kwargs_t["attn_mask"] = deepnum.tensor(m), torch.tensor(m)
    elif kind == "float":
        m = rng.normal(size=(2, 1, 5, 5)).astype(np.float32)
        kwargs_dn["attn_mask"], kwargs_t["attn_mask"] = deepnum.tensor(m), torch.tensor(m)
    elif kind == "causal":
        kwargs_dn["is_causal"] = kwargs_t["is_causal"] = True
    else:
        kwargs_dn["scale"] = kwargs_t["scale"] = 0.3
    check_against_torch(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs_dn),
                        lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kwargs_t), [q, k, v])


def test_sdpa_float_mask_receives_gradient():
    q, k, v, m = random_inputs((2, 4, 3), (2, 5, 3), (2, 5, 3), (4, 5))
    check_against_torch(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m), [q, k, v, m])


def test_sdpa_gradcheck_and_second_order_float64():
    q, k, v = random_inputs((2, 3, 4), (2, 5, 4), (2, 5, 2), dtype=np.float64)
    assert deepnum.autograd.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=False), (q, k, v))
    assert deepnum.autograd.gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), (q, k, v))


def test_sdpa_dropout_is_inverted_and_seeded():
    q, k, v = random_inputs((1, 6, 4), (1, 6, 4), (1, 6, 4), requires_grad=False)
    deepnum.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    deepnum.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert_close(a, b)
    assert not np.allclose(a.numpy(), F.scaled_dot_product_attention(q, k, v).numpy())


def test_sdpa_bad_input():
    q, k, v = random_inputs((2, 4, 3), (2, 5, 4), (2, 5, 4), requires_grad=False)
    with pytest.raises(RuntimeError, match=r"same embedding size.*\(2, 4, 3\).*\(2, 5, 4\)"):
        F.scaled_dot_product_attention(q, k, v)
    q = random_inputs((2, 4, 4), requires_grad=False)[0]
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(3, 3\) does not broadcast"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=deepnum.ones(3, 3, dtype=deepnum.bool))
    with pytest.raises(TypeError, match="bool or floating"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=deepnum.ones(4, 5, dtype=deepnum.int64))


# ------------------------------------------------------------------- the notes' forms
def test_find_the_three_worked_example():
    """004 Ex. 6.26: keys ReLU[x−3, 3−x], one-hot values, q = [−1, −1] → y ≈ [0.013, 0, 0.004, 0.718, 0.264]."""
    x = deepnum.tensor([7.0, -5.0, -2.0, 3.0, 4.0])
    keys = deepnum.relu(deepnum.stack([x - 3, 3 - x], dim=1))
    values = deepnum.eye(5)
    q = deepnum.tensor([[-1.0, -1.0]])
    y = F.scaled_dot_product_attention(q, keys, values, scale=1.0)
    # the seed prints three decimals (0.00484 appears as 0.004), so agree to within 1e-3
    np.testing.assert_allclose(y.numpy()[0], [0.013, 0.000, 0.004, 0.718, 0.264], atol=1e-3)


def test_column_and_row_formulations_agree():
    X = deepnum.tensor(rng.normal(size=(6, 4)))  # T x d_x
    Wq, Wk, Wv = (deepnum.tensor(rng.normal(size=s)) for s in ((4, 3), (4, 3), (4, 5)))
    mask = nn.causal_mask(6, np.float64)
    for m in (None, mask):
        row = nn.self_attention_row(X, Wq, Wk, Wv, m)  # 000 eq. 49-53
        col = nn.self_attention_column(X.T, Wq.T, Wk.T, Wv.T, m)  # 000 eq. 40-44
        assert_close(col.T, row)


def test_generic_attention_with_identity_value_is_a_weighted_average():
    x = deepnum.tensor(rng.normal(size=(2, 5, 3)))
    out, lam = nn.generic_attention(x)
    assert_close(lam.sum(-2), np.ones((2, 5)))
    ref = F.scaled_dot_product_attention(x, x, x)
    assert_close(out, ref)


def test_multi_head_self_attention_shapes_and_causality():
    deepnum.manual_seed(0)
    layer = nn.MultiHeadSelfAttention(d_x=6, d_s=8, d_h=8, num_heads=2, causal=True)
    x = deepnum.tensor(rng.normal(size=(3, 5, 6)).astype(np.float32), requires_grad=True)
    y = layer(x)
    assert y.shape == (3, 5, 8)
    y[:, 2].sum().backward()
    assert np.all(x.grad.numpy()[:, 3:] == 0) and np.any(x.grad.numpy()[:, :3] != 0)


def test_additive_and_multiplicative_attention_respect_masks():
    deepnum.manual_seed(0)
    q, keys = deepnum.randn(2, 4), deepnum.randn(2, 6, 5)
    mask = deepnum.tensor(np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool))
    for layer in (nn.AdditiveAttention(4, 5, 7), nn.MultiplicativeAttention(4, 5)):
        ctx, w = layer(q, keys, mask=mask)
        assert ctx.shape == (2, 5)
        assert_close(w.sum(-1), np.ones(2, dtype=np.float32))
        assert np.all(w.detach().numpy()[0, 3:] == 0)


def test_hard_attention_reinforce_moves_probability_to_rewarded_position():
    deepnum.manual_seed(0)
    scorer = nn.MultiplicativeAttention(3, 3)
    hard = nn.HardAttention(scorer)
    keys = deepnum.tensor(np.eye(3, dtype=np.float32)[None].repeat(64, 0))
    query = deepnum.ones(64, 3)
    for _ in range(60):
        value, log_prob, _ = hard(query, keys)
        reward = value.detach()[:, 2]  # reward for picking position 2
        loss = nn.reinforce_loss(log_prob, reward, baseline=reward.mean())
        scorer.zero_grad()
        loss.backward()
        with deepnum.no_grad():
            scorer.W.array -= 1.0 * scorer.W.grad.array
    _, weights = scorer(query, keys)
    assert weights.detach().numpy()[0, 2] > 0.8


# ------------------------------------------------------------------------ positional
def test_sinusoidal_table_matches_formula_and_long_input_errors():
    pe = nn.SinusoidalPositionalEncoding(6, max_len=10)
    table = pe.pe.numpy()
    t, i = 3, 1
    assert np.isclose(table[t, 2 * i], np.sin(t / 10000 ** (2 * i / 6)))
    assert np.isclose(table[t, 2 * i + 1], np.cos(t / 10000 ** (2 * i / 6)))
    with pytest.raises(ValueError, match=r"length 11 is longer than the positional table"):
        pe(deepnum.zeros(1, 11, 6))
    learned = nn.LearnedPositionalEncoding(4, 6)
    with pytest.raises(ValueError, match="max_len=4"):
        learned(deepnum.zeros(2, 5, 6))
    assert learned(deepnum.zeros(2, 3, 6)).shape == (2, 3, 6)
