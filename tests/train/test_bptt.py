"""Truncated BPTT, teacher forcing and scheduled sampling."""

import numpy as np
import pytest

import deepnum
from deepnum import nn
from deepnum.train.bptt import decode, detach_state, scheduled_sampling_ratio, truncated_bptt
from tests.helpers import assert_close


def _mse(o, t):
    return ((o - t) ** 2).mean()


def _data(T=12, N=3, seed=0):
    rng = np.random.default_rng(seed)
    x = deepnum.tensor(rng.standard_normal((T, N, 2)))
    y = deepnum.tensor(rng.standard_normal((T, N, 4)))
    return x, y


def _grads(model):
    return {n: p.grad.numpy().copy() for n, p in model.named_parameters()}


def test_k1_equals_k2_equals_T_is_full_bptt():
    lstm = nn.LSTM(2, 4).double()
    x, y = _data()
    out, _ = lstm(x)
    _mse(out, y).backward()
    full = _grads(lstm)
    lstm.zero_grad()
    losses, _ = truncated_bptt(lstm, x, y, _mse, k1=12, k2=12)
    assert len(losses) == 1
    for k, g in _grads(lstm).items():
        assert_close(g, full[k], msg=k)


@pytest.mark.parametrize("k1,k2", [(4, 4), (3, 5), (4, 9), (5, 7)])
def test_truncated_gradients_equal_a_step_by_step_reference(k1, k2):
    """Reference: for each update at step t, run the cell from a detached state at t-k2 to t."""
    lstm = nn.LSTM(2, 4).double()
    cell = nn.LSTMCell(2, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x, y = _data()
    T = 12
    truncated_bptt(lstm, x, y, _mse, k1=k1, k2=k2)
    ends = list(range(k1, T, k1)) + [T]
    prev = 0
    for end in ends:
        start = max(0, end - k2)
        h = c = deepnum.zeros(3, 4, dtype=deepnum.float64)
        with deepnum.no_grad():
            for t in range(start):
                h, c = cell(x[t], (h, c))
        outs = []
        for t in range(start, end):
            h, c = cell(x[t], (h, c))
            if t >= prev:
                outs.append(h)
        _mse(deepnum.stack(outs), y[prev:end]).backward()
        prev = end
    for name, g in _grads(lstm).items():
        assert_close(g, getattr(cell, name[:-3]).grad, msg=name)


def test_training_with_an_optimizer_and_clipping_lowers_the_loss():
    deepnum.manual_seed(0)
    lstm = nn.LSTM(2, 4)
    x, y = _data(T=40)
    x, y = x.float(), y.float() * 0.3
    opt = deepnum.optim.SGD(lstm.parameters(), lr=0.5)
    first, _ = truncated_bptt(lstm, x, y, _mse, opt, k1=10, k2=15, clip_grad_norm=1.0)
    for _ in range(15):
        last, _ = truncated_bptt(lstm, x, y, _mse, opt, k1=10, k2=15, clip_grad_norm=1.0)
    assert np.mean(last) < 0.9 * np.mean(first)


def test_clipping_bounds_the_gradient_norm():
    lstm = nn.GRU(2, 4).double()
    x, y = _data()
    truncated_bptt(lstm, x, y * 100, _mse, k1=12, clip_grad_norm=0.01)
    norm = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in lstm.parameters()))
    assert norm == pytest.approx(0.01, rel=1e-6)


def test_batch_first_and_state_carry():
    gru = nn.GRU(2, 4, batch_first=True).double()
    x, y = _data()
    xb, yb = x.transpose(0, 1), y.transpose(0, 1)
    _, h = truncated_bptt(gru, xb, yb, _mse, k1=5, k2=5, batch_first=True)
    _, h_full = gru(xb)
    assert_close(h, h_full)
    assert not h.requires_grad


def test_detach_state_nested():
    a = deepnum.ones(2, requires_grad=True) * 2
    h, (c, d) = detach_state((a, [a, a]))
    assert (
        not h.requires_grad
        and not c.requires_grad
        and not d.requires_grad
        and isinstance(detach_state([a]), list)
    )


def test_bad_k_values():
    with pytest.raises(ValueError, match="need 1 <= k1 <= k2, got k1=5, k2=3"):
        truncated_bptt(nn.RNN(2, 4).double(), *_data(), _mse, k1=5, k2=3)


# ------------------------------------------------------------------ teacher forcing
class _Recorder:
    """A decoder that predicts (input + 1) mod V and records what it was fed."""

    def __init__(self, V=7):
        self.V, self.fed = V, []

    def __call__(self, tokens, state):
        self.fed.append(tokens.numpy().copy())
        logits = np.full((len(tokens), self.V), -5.0)
        logits[np.arange(len(tokens)), (tokens.numpy() + 1) % self.V] = 5.0
        return deepnum.tensor(logits), state


def test_teacher_forcing_feeds_ground_truth_and_free_running_feeds_predictions():
    targets = deepnum.tensor(np.array([[3, 3], [0, 5], [6, 1]], np.int64))
    start = deepnum.tensor(np.array([0, 2], np.int64))
    rec = _Recorder()
    logits, pred, _ = decode(rec, start, 3, targets=targets, teacher_forcing_ratio=1.0)
    assert logits.shape == (3, 2, 7)
    assert np.array_equal(np.stack(rec.fed), [[0, 2], [3, 3], [0, 5]])
    assert np.array_equal(pred.numpy(), [[1, 3], [4, 4], [1, 6]])
    rec = _Recorder()
    _, pred, _ = decode(rec, start, 3, teacher_forcing_ratio=0.0)
    assert np.array_equal(np.stack(rec.fed), [[0, 2], [1, 3], [2, 4]])
    assert np.array_equal(pred.numpy(), [[1, 3], [2, 4], [3, 5]])


def test_scheduled_sampling_mixes_both_sources():
    rng = np.random.default_rng(0)
    targets = deepnum.tensor(rng.integers(0, 7, (40, 500)))
    rec = _Recorder()
    decode(
        rec,
        deepnum.tensor(np.zeros(500, np.int64)),
        40,
        targets=targets,
        teacher_forcing_ratio=0.3,
    )
    fed = np.stack(rec.fed[1:])
    share = (fed == targets.numpy()[:-1]).mean()
    assert 0.3 < share < 0.45  # 0.3 forced, plus predictions that happen to equal the truth


def test_scheduled_sampling_schedules():
    for schedule, kw in [
        ("linear", {"c": 0.01}),
        ("exponential", {"k": 0.99}),
        ("inverse_sigmoid", {"k": 50}),
    ]:
        values = [scheduled_sampling_ratio(i, schedule, **kw) for i in range(0, 1000, 50)]
        assert values[0] == pytest.approx(1.0, abs=0.02) and values[-1] < 0.1
        assert all(np.diff(values) <= 0)
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        scheduled_sampling_ratio(3, "cosine")
    with pytest.raises(ValueError, match="needs targets"):
        decode(_Recorder(), deepnum.tensor(np.zeros(2, np.int64)), 3, teacher_forcing_ratio=0.5)
