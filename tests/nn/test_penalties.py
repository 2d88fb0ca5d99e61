"""Parameter norm penalties: L2 (000 eq. 11), L1 and SCAD (Fan & Li 2001) on module weights."""

import numpy as np
import pytest

import deepnum
from deepnum import nn
from deepnum.autograd import gradcheck
from deepnum.nn.penalties import l1_penalty, l2_penalty, penalized_parameters, scad_penalty


class _Net(nn.Module):
    """Two weight matrices, two biases and a 1-D scale (like a normalisation layer's)."""

    def __init__(self, dtype=np.float32):
        super().__init__()
        rng = np.random.default_rng(0)
        self.w1 = nn.Parameter(deepnum.tensor(rng.standard_normal((3, 4)).astype(dtype)))
        self.bias1 = nn.Parameter(deepnum.tensor(rng.standard_normal(3).astype(dtype)))
        self.w2 = nn.Parameter(deepnum.tensor(rng.standard_normal((2, 3)).astype(dtype)))
        self.bias2 = nn.Parameter(deepnum.tensor(rng.standard_normal(2).astype(dtype)))
        self.scale = nn.Parameter(deepnum.tensor(rng.standard_normal(3).astype(dtype)))


def test_only_weights_are_penalized_by_default():
    net = _Net()
    assert [p is net.w1 or p is net.w2 for p in penalized_parameters(net)] == [True, True]
    assert len(penalized_parameters(net, include_bias=True)) == 5


def test_l2_penalty_is_eq_11_and_its_gradient_is_weight_decay():
    net = _Net(np.float64)
    lam, m = 0.3, 50
    w1, w2 = net.w1.detach().numpy(), net.w2.detach().numpy()
    expected = lam / (2 * m) * ((w1**2).sum() + (w2**2).sum())
    penalty = l2_penalty(net, lam, m)
    assert penalty.item() == pytest.approx(expected, rel=1e-12)
    penalty.backward()
    np.testing.assert_allclose(net.w1.grad.numpy(), lam / m * w1, rtol=1e-12)
    assert net.bias1.grad is None and net.scale.grad is None
    with_bias = l2_penalty(net, lam, m, include_bias=True).item()
    extra = sum((p.detach().numpy() ** 2).sum() for p in (net.bias1, net.bias2, net.scale))
    assert with_bias == pytest.approx(expected + lam / (2 * m) * extra, rel=1e-12)


def test_l2_penalty_on_a_real_layer_and_on_a_parameter_list():
    layer = nn.Linear(4, 3)
    w = layer.weight.detach().numpy()
    assert l2_penalty(layer, 1.0).item() == pytest.approx(0.5 * (w**2).sum(), rel=1e-5)
    assert l2_penalty(layer.parameters(), 1.0).item() == pytest.approx(0.5 * (w**2).sum(), rel=1e-5)
    assert l2_penalty(nn.Module(), 1.0).item() == 0.0


def test_l1_penalty_value_and_subgradient():
    net = _Net(np.float64)
    net.w1.data.array[0, 0] = 0.0  # subgradient 0 at 0
    lam, m = 0.2, 4
    w1, w2 = net.w1.detach().numpy(), net.w2.detach().numpy()
    penalty = l1_penalty(net, lam, m)
    assert penalty.item() == pytest.approx(lam / m * (np.abs(w1).sum() + np.abs(w2).sum()))
    penalty.backward()
    np.testing.assert_allclose(net.w1.grad.numpy(), lam / m * np.sign(w1))
    assert net.w1.grad.numpy()[0, 0] == 0.0


def _scad_reference(w, lam, a):
    w = np.abs(w)
    return np.where(w <= lam, lam * w,
                    np.where(w <= a * lam, (2 * a * lam * w - w**2 - lam**2) / (2 * (a - 1)),
                             lam**2 * (a + 1) / 2))


def test_scad_penalty_pieces_and_continuity():
    lam, a = 1.0, 3.7
    w = deepnum.tensor(np.array([[0.5, -2.0, 5.0, 0.0]]), requires_grad=True)
    penalty = scad_penalty([w], lam, a)
    # 0.5 (linear piece) + 14.8*... middle piece at |w| = 2 + constant λ²(a+1)/2 = 2.35
    middle = (2 * a * lam * 2 - 4 - lam**2) / (2 * (a - 1))
    assert penalty.item() == pytest.approx(0.5 + middle + 2.35, rel=1e-12)
    penalty.backward()
    # dp/dw: λ sign(w), (aλ - |w|)/(a - 1) sign(w), 0; and 0 at w = 0
    np.testing.assert_allclose(w.grad.numpy(), [[1.0, -(a - 2.0) / (a - 1), 0.0, 0.0]])
    for knot in (lam, a * lam):  # continuous at both knots
        left, right = _scad_reference(np.array([knot - 1e-9, knot + 1e-9]), lam, a)
        assert left == pytest.approx(right, abs=1e-8)
        inside = scad_penalty([deepnum.tensor(np.array([[knot]]))], lam, a).item()
        assert inside == pytest.approx(left, abs=1e-8)


def test_scad_penalty_on_a_module_matches_the_reference_and_gradcheck():
    net = _Net(np.float64)
    lam, a = 0.6, 3.0
    expected = sum(_scad_reference(p.detach().numpy(), lam, a).sum() for p in (net.w1, net.w2))
    assert scad_penalty(net, lam, a).item() == pytest.approx(expected, rel=1e-12)
    rng = np.random.default_rng(1)
    # points away from the kinks at 0, λ and aλ
    w = rng.choice([0.2, 1.0, 2.5], size=(3, 4)) * rng.choice([-1, 1], size=(3, 4))
    w += rng.uniform(-0.1, 0.1, size=(3, 4))
    x = deepnum.tensor(w, requires_grad=True)
    assert gradcheck(lambda t: scad_penalty([t], lam, a), (x,), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_penalty_argument_errors():
    with pytest.raises(ValueError, match="scad_penalty: lam must be positive, got 0"):
        scad_penalty(_Net(), 0)
    with pytest.raises(ValueError, match="scad_penalty: a must be greater than 2, got 1.5"):
        scad_penalty(_Net(), 1.0, a=1.5)


def test_penalty_lowers_the_weights_in_training():
    # gradient descent on the L2 penalty alone shrinks the weights by (1 - αλ/m) per step
    net = _Net(np.float64)
    before = net.w1.detach().numpy().copy()
    alpha, lam, m = 0.1, 2.0, 4
    l2_penalty(net, lam, m).backward()
    net.w1.data.array[...] -= alpha * net.w1.grad.numpy()
    np.testing.assert_allclose(net.w1.detach().numpy(), (1 - alpha * lam / m) * before, rtol=1e-12)
