"""MultiheadAttention and transformer modules against PyTorch (same weights, same numbers)."""

import numpy as np
import pytest
import torch

import deepnum
from deepnum import nn
from tests.helpers import assert_close

rng = np.random.default_rng(0)


def copy_weights(dn_module, torch_module):
    """Load torch's weights into the deepnum module; the state_dict keys must be the same."""
    state = {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}
    assert list(dn_module.state_dict().keys()) == list(state.keys())
    dn_module.load_state_dict(state)


def both(x, grad=True):
    a = np.asarray(x, dtype=np.float32)
    return deepnum.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def compare_param_grads(dn_module, torch_module, rtol=1e-4, atol=1e-5):
    tg = dict(torch_module.named_parameters())
    for name, p in dn_module.named_parameters():
        if tg[name].grad is None:
            assert p.grad is None or np.allclose(p.grad.numpy(), 0), name
            continue
        assert_close(p.grad, tg[name].grad, rtol=rtol, atol=atol, msg=name)


MHA_CASES = [
    dict(),
    dict(batch_first=True),
    dict(bias=False),
    dict(kdim=5, vdim=3),
    dict(add_bias_kv=True),
    dict(add_zero_attn=True),
]


@pytest.mark.parametrize("cfg", MHA_CASES)
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_matches_torch(cfg, average):
    E, H, L, S, N = 8, 2, 4, 6, 3
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H, **cfg)
    dm = nn.MultiheadAttention(E, H, **cfg)
    copy_weights(dm, tm)
    bf = cfg.get("batch_first", False)
    kd, vd = cfg.get("kdim", E), cfg.get("vdim", E)
    shape = lambda T, D: (N, T, D) if bf else (T, N, D)  # noqa: E731
    (q, tq), (k, tk), (v, tv) = both(rng.normal(size=shape(L, E))), both(rng.normal(size=shape(S, kd))), both(rng.normal(size=shape(S, vd)))
    pad = rng.random((N, S)) > 0.7
    pad[:, 0] = False
    mask = rng.random((L, S)) > 0.8
    mask[:, 0] = False
    out, w = dm(q, k, v, key_padding_mask=deepnum.tensor(pad), attn_mask=deepnum.tensor(mask), average_attn_weights=average)
    tout, tw = tm(tq, tk, tv, key_padding_mask=torch.tensor(pad), attn_mask=torch.tensor(mask), average_attn_weights=average)
    assert_close(out, tout)
    assert_close(w, tw)
    g = rng.normal(size=out.shape).astype(np.float32)
    (out * deepnum.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    for a, b in ((q, tq), (k, tk), (v, tv)):
        assert_close(a.grad, b.grad)
    compare_param_grads(dm, tm)


def test_multihead_attention_float_and_3d_masks_unbatched_and_no_weights():
    E, H, L = 6, 3, 5
    tm = torch.nn.MultiheadAttention(E, H)
    dm = nn.MultiheadAttention(E, H)
    copy_weights(dm, tm)
    x = rng.normal(size=(L, 2, E)).astype(np.float32)
    m3 = rng.normal(size=(2 * H, L, L)).astype(np.float32)
    out, _ = dm(deepnum.tensor(x), deepnum.tensor(x), deepnum.tensor(x), attn_mask=deepnum.tensor(m3), need_weights=False)
    tout, _ = tm(torch.tensor(x), torch.tensor(x), torch.tensor(x), attn_mask=torch.tensor(m3), need_weights=False)
    assert_close(out, tout)
    u = x[:, 0]
    out, w = dm(deepnum.tensor(u), deepnum.tensor(u), deepnum.tensor(u))
    tout, tw = tm(torch.tensor(u), torch.tensor(u), torch.tensor(u))
    assert_close(out, tout)
    assert_close(w, tw)


def test_multihead_attention_bad_input():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(4, 2)
    x = deepnum.zeros(3, 2, 4)
    with pytest.raises(RuntimeError, match=r"query has 5 features, expected 4"):
        m(deepnum.zeros(3, 2, 5), x, x)
    with pytest.raises(RuntimeError, match=r"key_padding_mask of shape \(2, 3\)"):
        m(x, x, x, key_padding_mask=deepnum.zeros(2, 4, dtype=deepnum.bool))
    with pytest.raises(TypeError, match="bool and floating"):
        m(x, x, x, attn_mask=deepnum.zeros(3, 3, dtype=deepnum.int64))


LAYER_CASES = [dict(), dict(norm_first=True), dict(activation="gelu", batch_first=True)]


@pytest.mark.parametrize("cfg", LAYER_CASES)
def test_encoder_layer_and_stack_match_torch(cfg):
    torch.manual_seed(0)
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, **cfg)
    tl = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**kw), num_layers=2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    dl = nn.TransformerEncoder(nn.TransformerEncoderLayer(**kw), num_layers=2, norm=nn.LayerNorm(8))
    copy_weights(dl, tl)
    x, tx = both(rng.normal(size=(3, 5, 8) if cfg.get("batch_first") else (5, 3, 8)))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    pad = np.zeros((3, 5), dtype=bool) if cfg.get("batch_first") else None
    out = dl(x, mask=nn.Transformer.generate_square_subsequent_mask(5), src_key_padding_mask=None if pad is None else deepnum.tensor(pad))
    tout = tl(tx, mask=mask, src_key_padding_mask=None if pad is None else torch.tensor(pad))
    assert_close(out, tout, rtol=2e-4, atol=2e-5)
    out.sum().backward()
    tout.sum().backward()
    assert_close(x.grad, tx.grad, rtol=2e-4, atol=2e-5)
    compare_param_grads(dl, tl, rtol=2e-4, atol=2e-5)


def test_full_transformer_matches_torch_in_eval_mode():
    torch.manual_seed(0)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=12)
    tm, dm = torch.nn.Transformer(**kw), nn.Transformer(**kw)
    copy_weights(dm, tm)
    tm.eval()
    dm.eval()
    src, tsrc = both(rng.normal(size=(6, 2, 8)))
    tgt, ttgt = both(rng.normal(size=(4, 2, 8)))
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    out = dm(src, tgt, tgt_mask=mask)
    tout = tm(tsrc, ttgt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4))
    assert_close(out, tout, rtol=2e-4, atol=2e-5)
    out.sum().backward()
    tout.sum().backward()
    assert_close(src.grad, tsrc.grad, rtol=2e-4, atol=3e-5)


def test_transformer_default_init_is_xavier_and_dropout_active_in_train():
    deepnum.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.5)
    x = deepnum.randn(5, 2, 16)
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.eval()
    assert_close(layer(x), layer(x))


def test_gpt_learns_a_repeating_sequence():
    from deepnum.models.gpt import GPT

    deepnum.manual_seed(0)
    model = GPT(vocab_size=5, block_size=8, d_model=16, nhead=2, num_layers=1, dropout=0.0)
    data = np.tile(np.arange(5), 20)
    x = deepnum.tensor(np.stack([data[i : i + 8] for i in range(0, 40, 2)]))
    y = deepnum.tensor(np.stack([data[i + 1 : i + 9] for i in range(0, 40, 2)]))
    opt = deepnum.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = nn.functional.cross_entropy(model(x).reshape(-1, 5), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1
    out = model.generate(deepnum.tensor([[0, 1, 2]]), 6, temperature=0.01)
    assert out.tolist()[0] == [0, 1, 2, 3, 4, 0, 1, 2, 3]
