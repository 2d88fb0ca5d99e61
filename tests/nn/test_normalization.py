"""BatchNorm (training, evaluation, running statistics), batch renormalization, LayerNorm and
GroupNorm against PyTorch and finite differences."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs
from tests.nn._harness import compare_with_torch, finite_difference_check, load_into_torch, run_layer_test


def _randomise_affine(layer, seed=0):
    rng = np.random.default_rng(seed)
    for p in layer.parameters():
        p.array[...] = rng.uniform(0.5, 1.5, p.shape)


BN_CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (16, 4)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 4, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (6, 4, 3, 5)),
    (nn.BatchNorm3d, torch.nn.BatchNorm3d, (3, 4, 2, 3, 2)),
]


@pytest.mark.parametrize("cls,tcls,shape", BN_CASES)
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"momentum": None}, {"track_running_stats": False}, {"momentum": 0.3, "eps": 1e-3}])
def test_batchnorm_training_steps_and_eval_match_torch(cls, tcls, shape, kwargs):
    layer, t_layer = cls(4, **kwargs), tcls(4, **kwargs)
    _randomise_affine(layer)
    load_into_torch(layer, t_layer)
    rng = np.random.default_rng(1)
    for step in range(3):  # running statistics after several steps equal torch's
        x = deepnum.tensor((rng.standard_normal(shape) * 2 + 1).astype(np.float32), requires_grad=True)
        compare_with_torch(layer, t_layer, x, load=False)
        layer.zero_grad()
        t_layer.zero_grad()
    (x,) = random_inputs(shape)
    compare_with_torch(layer, t_layer, x, load=False, train=False)
    assert repr(layer) == repr(t_layer)
    assert list(layer.state_dict()) == list(t_layer.state_dict())


def test_batchnorm_buffers_and_default_init():
    bn = nn.BatchNorm2d(3)
    assert bn.weight.tolist() == [1, 1, 1] and bn.bias.tolist() == [0, 0, 0]
    assert bn.running_mean.tolist() == [0, 0, 0] and bn.running_var.tolist() == [1, 1, 1]
    assert bn.num_batches_tracked.dtype == deepnum.int64 and bn.num_batches_tracked.item() == 0
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    bn(deepnum.randn(4, 3, 2, 2))
    assert bn.num_batches_tracked.item() == 1
    assert not bn.running_mean.requires_grad
    bn.eval()
    bn(deepnum.randn(4, 3, 2, 2))
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_cumulative_average_with_momentum_none():
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [deepnum.randn(5, 2) for _ in range(4)]
    for x in xs:
        bn(x)
    batch_means = np.stack([x.numpy().mean(0) for x in xs])
    assert_close(bn.running_mean, batch_means.mean(0))  # equal weights: the plain average
    unbiased = np.stack([x.numpy().var(0, ddof=1) for x in xs])
    assert_close(bn.running_var, unbiased.mean(0))


def test_batchnorm_gradcheck_float64_train_and_eval():
    bn = nn.BatchNorm2d(3).double()
    _randomise_affine(bn)
    (x,) = random_inputs((4, 3, 2, 2), dtype=np.float64)
    bn.eval()  # deterministic: running stats are not touched in evaluation
    finite_difference_check(bn, [x], list(bn.parameters()))
    bn.track_running_stats = False
    bn.running_mean = None
    bn.running_var = None
    bn.train()
    finite_difference_check(bn, [x], list(bn.parameters()))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 5)])  # rows, or channel planes
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_second_derivative_matches_torch(shape, training):
    x, w, b = random_inputs(shape, (3,), (3,), dtype=np.float64)
    stats = [np.random.default_rng(2).uniform(0.5, 2.0, 3) for _ in range(2)]
    dn_stats, torch_stats = [deepnum.tensor(s) for s in stats], [torch.tensor(s) for s in stats]

    def second(lib, F_, stat):
        return lambda x, w, b: lib.autograd.grad(
            (F_.batch_norm(x, *stat, w, b, training) ** 3).sum(), [x], create_graph=True
        )[0]

    check_against_torch(
        second(deepnum, F, dn_stats), second(torch, torch.nn.functional, torch_stats), [x, w, b]
    )


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_planes_with_a_frozen_weight_match_torch(training):
    """Only x and β want gradients: the per-channel sums skip what is not needed."""
    (x,) = random_inputs((5, 4, 3, 6), dtype=np.float64)
    w = deepnum.tensor(np.linspace(0.5, 2.0, 4))
    (b,) = random_inputs((4,), dtype=np.float64)
    stats = [np.random.default_rng(3).uniform(0.5, 2.0, 4) for _ in range(2)]
    check_against_torch(
        lambda x, b: F.batch_norm(x, *[deepnum.tensor(s) for s in stats], w, b, training),
        lambda x, b: torch.nn.functional.batch_norm(
            x, *[torch.tensor(s) for s in stats], torch.from_numpy(w.numpy()), b, training
        ),
        [x, b],
    )


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(deepnum.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(deepnum.zeros(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(num_features=3\): input has 4 channels"):
        nn.BatchNorm1d(3)(deepnum.zeros(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(deepnum.zeros(1, 3))


# ------------------------------------------------------------------- batch renormalization
def _renorm_reference(x, rm, rv, w, b, eps, rmax, dmax):
    """Ioffe (2017), Alg. 1 written with torch ops; r and d detached."""
    mu = x.mean(0)
    sigma_b = torch.sqrt(x.var(0, unbiased=False) + eps)
    sigma = torch.sqrt(rv + eps)
    r = (sigma_b / sigma).clamp(1 / rmax, rmax).detach()
    d = ((mu - rm) / sigma).clamp(-dmax, dmax).detach()
    return ((x - mu) / sigma_b * r + d) * w + b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_renorm_matches_ioffe_algorithm(dtype):
    layer = nn.BatchNorm1d(3, renorm=True, rmax=1.5, dmax=0.5, momentum=0.2).to(dtype)
    _randomise_affine(layer)
    layer.running_mean.array[...] = [0.5, -1.0, 2.0]
    layer.running_var.array[...] = [0.25, 4.0, 1.0]
    rm, rv = torch.tensor(layer.running_mean.numpy().copy()), torch.tensor(layer.running_var.numpy().copy())
    w = torch.tensor(layer.weight.detach().numpy().copy(), requires_grad=True)
    b = torch.tensor(layer.bias.detach().numpy().copy(), requires_grad=True)
    (x,) = random_inputs((10, 3), dtype=dtype)
    # forward and input gradient (r and d constant in backward), then parameter gradients
    check_against_torch(layer, lambda x: _renorm_reference(x, rm, rv, w, b, layer.eps, 1.5, 0.5), [x])
    assert_close(layer.weight.grad, w.grad)
    assert_close(layer.bias.grad, b.grad)
    # r and d really clip here (otherwise this would only test batch norm)
    xs = x.detach().numpy()
    r = np.sqrt(xs.var(0) + layer.eps) / np.sqrt(rv.numpy() + layer.eps)
    assert (r > 1.5).any() or (r < 1 / 1.5).any()
    # running statistics: the usual EMA with the unbiased batch variance
    assert_close(layer.running_mean, 0.8 * rm.numpy() + 0.2 * xs.mean(0))
    assert_close(layer.running_var, 0.8 * rv.numpy() + 0.2 * xs.var(0, ddof=1))
    assert repr(layer).endswith("renorm=True, rmax=1.5, dmax=0.5)")


def test_batch_renorm_with_r1_d0_is_batch_norm_and_eval_uses_running_stats():
    # rmax = 1, dmax = 0 force r = 1, d = 0: exactly batch norm, running stats included
    layer = nn.BatchNorm2d(3, renorm=True, rmax=1.0, dmax=0.0)
    t_layer = torch.nn.BatchNorm2d(3)
    _randomise_affine(layer)
    load_into_torch(layer, t_layer)
    for _ in range(2):
        (x,) = random_inputs((4, 3, 2, 2), rng=np.random.default_rng(_))
        compare_with_torch(layer, t_layer, x, load=False)
        layer.zero_grad()
        t_layer.zero_grad()
    (x,) = random_inputs((4, 3, 2, 2))
    compare_with_torch(layer, t_layer, x, load=False, train=False)


def test_batch_renorm_needs_running_stats():
    with pytest.raises(ValueError, match="renorm=True needs track_running_stats=True"):
        nn.BatchNorm1d(3, renorm=True, track_running_stats=False)


# --------------------------------------------------------------------------------- LayerNorm
@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 4, 5), (4, 5)), ((3, 5), [5]), ((5,), 5)])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}])
def test_layernorm_matches_torch(shape, normalized, kwargs):
    layer, t_layer = nn.LayerNorm(normalized, **kwargs), torch.nn.LayerNorm(normalized, **kwargs)
    _randomise_affine(layer)
    (x,) = random_inputs(shape)
    compare_with_torch(layer, t_layer, x)
    assert repr(layer) == repr(t_layer)


def _layer_norm_gradient(lib, wrt: str):
    """The first gradient of Σ layer_norm(x; w, b)³ with respect to ``x`` and/or ``w``, kept in the
    graph, so that checking it against torch checks the second derivative (same code for both)."""

    def gradient(x, w, b):
        out = lib.nn.functional.layer_norm(x, (5,), w, b)
        inputs = [{"x": x, "w": w}[name] for name in wrt]
        return lib.autograd.grad((out**3).sum(), inputs, create_graph=True)[0]

    return gradient


def test_layernorm_gradcheck_and_second_derivative():
    layer = nn.LayerNorm(5).double()
    _randomise_affine(layer)
    (x,) = random_inputs((3, 5), dtype=np.float64)
    finite_difference_check(layer, [x], list(layer.parameters()))
    x, w, b = random_inputs((3, 5), (5,), (5,), dtype=np.float64)
    check_against_torch(_layer_norm_gradient(deepnum, "xw"), _layer_norm_gradient(torch, "xw"), [x, w, b])


def test_layernorm_unbatched_second_derivative():
    x, w, b = random_inputs((5,), (5,), (5,), dtype=np.float64)
    check_against_torch(_layer_norm_gradient(deepnum, "w"), _layer_norm_gradient(torch, "w"), [x, w, b])


def test_layernorm_shape_error():
    with pytest.raises(RuntimeError, match=r"LayerNorm\(normalized_shape=\(6,\)\): expected input of shape \(\*, 6\), got \(4, 5\)"):
        nn.LayerNorm(6)(deepnum.zeros(4, 5))


# --------------------------------------------------------------------------------- GroupNorm
@pytest.mark.parametrize("groups,shape", [(2, (3, 4, 5)), (1, (2, 6, 2, 2)), (6, (2, 6, 3)), (3, (2, 6))])
@pytest.mark.parametrize("affine", [True, False])
def test_groupnorm_matches_torch(groups, shape, affine):
    c = shape[1]
    layer, t_layer = nn.GroupNorm(groups, c, affine=affine), torch.nn.GroupNorm(groups, c, affine=affine)
    _randomise_affine(layer)
    (x,) = random_inputs(shape)
    compare_with_torch(layer, t_layer, x)
    assert repr(layer) == repr(t_layer)


def test_groupnorm_gradcheck_and_errors():
    layer = nn.GroupNorm(2, 4).double()
    _randomise_affine(layer)
    (x,) = random_inputs((2, 4, 3), dtype=np.float64)
    finite_difference_check(layer, [x], list(layer.parameters()))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match=r"expected input of shape \(N, 4, \*\)"):
        layer(deepnum.zeros(2, 5, 3, dtype=deepnum.float64))


def test_layer_harness_on_norms():
    run_layer_test(nn.BatchNorm1d(4), (8, 4), (8, 4), 8)
    run_layer_test(nn.BatchNorm2d(3, renorm=True), (4, 3, 2, 2), (4, 3, 2, 2), 6)
    run_layer_test(nn.LayerNorm((3, 4)), (2, 3, 4), (2, 3, 4), 24)
    run_layer_test(nn.GroupNorm(2, 4), (2, 4, 3), (2, 4, 3), 8)
