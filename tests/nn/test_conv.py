"""Convolutions against PyTorch: every option, forward and all gradients; errors; gradchecks."""

import itertools

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs
from tests.nn._harness import compare_with_torch, run_layer_test

TF = torch.nn.functional
# torch warns about its own copy for even kernels with padding="same"
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

# (input shape, weight shape, kwargs): 1-, 2- and 3-d, strides, paddings, dilations, groups
CONV_CASES = [
    ((2, 3, 11), (4, 3, 3), dict()),
    ((2, 4, 12), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    ((2, 3, 10), (4, 3, 4), dict(padding="same")),
    ((2, 3, 10), (4, 3, 3), dict(padding="valid", stride=3)),
    ((3, 10), (4, 3, 3), dict(padding=2)),  # unbatched
    ((2, 3, 8, 9), (5, 3, 3, 3), dict()),
    ((2, 3, 8, 9), (5, 3, 3, 3), dict(padding=1)),
    ((2, 3, 8, 9), (5, 3, 2, 4), dict(padding="same", dilation=(2, 1))),
    ((2, 4, 9, 10), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    ((2, 6, 7, 7), (6, 1, 3, 3), dict(stride=2, padding=1, groups=6)),  # depthwise
    ((2, 4, 7, 8), (8, 4, 1, 1), dict()),  # pointwise
    ((2, 3, 9, 9), (4, 3, 3, 3), dict(stride=3, dilation=2, padding=(0, 2))),
    ((3, 8, 9), (5, 3, 3, 3), dict(padding=1)),  # unbatched
    ((2, 2, 5, 6, 7), (3, 2, 2, 3, 2), dict(stride=2, padding=1)),
    ((2, 4, 5, 5, 6), (4, 2, 3, 3, 3), dict(padding="same", groups=2, dilation=(1, 1, 2))),
]


@pytest.mark.parametrize("xs,ws,kw", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_functional_matches_torch(xs, ws, kw, bias):
    nd = len(ws) - 2
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    inputs = random_inputs(*shapes, rng=np.random.default_rng(len(xs) + sum(ws)))
    dn, tn = getattr(F, f"conv{nd}d"), getattr(TF, f"conv{nd}d")
    check_against_torch(lambda *a: dn(*a, **kw), lambda *a: tn(*a, **kw), inputs)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "nd,padding,stride", [(1, 2, 1), (2, 1, 2), (2, "same", 1), (2, (2, 1), 1), (3, 1, 1)]
)
def test_conv_module_padding_modes(mode, nd, padding, stride):
    cls, tcls = getattr(nn, f"Conv{nd}d"), getattr(torch.nn, f"Conv{nd}d")
    kw = dict(padding=padding, stride=stride, padding_mode=mode, dilation=1)
    layer = cls(4, 6, 3, groups=2, **kw)
    x = random_inputs((2, 4) + (6,) * nd)[0]
    compare_with_torch(layer, tcls(4, 6, 3, groups=2, **kw), x)


@pytest.mark.parametrize(
    "xs,ws,kw",
    [
        ((2, 4, 6), (4, 3, 3), dict()),
        ((2, 4, 6), (4, 2, 3), dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2)),
        (
            (2, 4, 5, 6),
            (4, 3, 3, 2),
            dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=(1, 2)),
        ),
        ((2, 3, 5, 5), (3, 4, 3, 3), dict(padding=1)),
        ((2, 3, 5, 5), (3, 4, 2, 2), dict(stride=2)),
        ((3, 4, 4), (3, 2, 3, 3), dict(stride=2, padding=1, output_padding=1)),  # unbatched
        ((1, 2, 3, 4, 3), (2, 2, 2, 3, 2), dict(stride=2, padding=1, output_padding=(1, 0, 1))),
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose_matches_torch(xs, ws, kw, bias):
    nd = len(ws) - 2
    out_channels = ws[1] * kw.get("groups", 1)
    shapes = [xs, ws] + ([(out_channels,)] if bias else [])
    inputs = random_inputs(*shapes, rng=np.random.default_rng(sum(xs)))
    dn, tn = getattr(F, f"conv_transpose{nd}d"), getattr(TF, f"conv_transpose{nd}d")
    check_against_torch(lambda *a: dn(*a, **kw), lambda *a: tn(*a, **kw), inputs)


def test_conv_transpose_module_output_size():
    layer = nn.ConvTranspose2d(3, 5, 3, stride=2, padding=1)
    tlayer = torch.nn.ConvTranspose2d(3, 5, 3, stride=2, padding=1)
    x = random_inputs((2, 3, 4, 5))[0]
    layer.load_state_dict({k: v.detach().numpy() for k, v in tlayer.state_dict().items()})
    y = layer(x, output_size=(8, 10))
    assert_close(y, tlayer(torch.from_numpy(x.detach().numpy()), output_size=(8, 10)))
    with pytest.raises(ValueError, match="ConvTranspose2d: requested output size"):
        layer(x, output_size=(12, 10))


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2),
        dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
        dict(kernel_size=3, padding=1, stride=2),
    ],
)
def test_unfold_fold_match_torch(kw):
    x = random_inputs((2, 3, 7, 8))[0]
    cols = check_against_torch(lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), [x])
    blocks = random_inputs(tuple(cols.shape))[0]
    check_against_torch(
        lambda a: F.fold(a, (7, 8), **kw), lambda a: TF.fold(a, (7, 8), **kw), [blocks]
    )
    assert_close(nn.Unfold(**kw)(x), cols)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_all_modes(mode):
    x = random_inputs((2, 3, 5, 6))[0]
    check_against_torch(
        lambda a: F.pad(a, (1, 2, 2, 1), mode=mode),
        lambda a: TF.pad(a, (1, 2, 2, 1), mode=mode),
        [x],
    )


def test_module_parameters_init_and_state_dict():
    deepnum.manual_seed(0)
    layer = nn.Conv2d(4, 8, (3, 5), groups=2, bias=True)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert tuple(layer.weight.shape) == (8, 2, 3, 5) and layer.weight.dtype == np.float32
    bound = 1 / np.sqrt(2 * 3 * 5)
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert nn.Conv1d(3, 4, 3, bias=False).bias is None
    assert list(nn.Conv1d(3, 4, 3, bias=False).state_dict()) == ["weight"]
    t = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert tuple(t.weight.shape) == (4, 3, 3, 3)
    assert repr(nn.Conv2d(1, 6, 5, padding=2)) == repr(torch.nn.Conv2d(1, 6, 5, padding=2))
    assert repr(nn.ConvTranspose2d(3, 5, 3, stride=2)) == repr(
        torch.nn.ConvTranspose2d(3, 5, 3, stride=2)
    )


def test_layer_harness():
    run_layer_test(nn.Conv2d(2, 3, 3, padding=1), (4, 2, 6, 6), (4, 3, 6, 6), 3 * 2 * 9 + 3)
    run_layer_test(nn.ConvTranspose1d(2, 3, 3, stride=2), (4, 2, 5), (4, 3, 11), 2 * 3 * 3 + 3)


def test_causal_conv1d_sees_only_the_past():
    layer = nn.CausalConv1d(2, 3, kernel_size=3, dilation=2)
    x = random_inputs((1, 2, 12))[0]
    y = layer(x)
    assert tuple(y.shape) == (1, 3, 12)
    x2 = x.detach().numpy().copy()
    x2[..., 7:] += 5.0  # changing the future must not change outputs before t = 7
    y2 = layer(deepnum.tensor(x2))
    np.testing.assert_array_equal(y.detach().numpy()[..., :7], y2.detach().numpy()[..., :7])
    assert not np.allclose(y.detach().numpy()[..., 7:], y2.detach().numpy()[..., 7:])
    # identical to a left-padded ordinary convolution
    ref = TF.conv1d(
        TF.pad(torch.from_numpy(x.detach().numpy()), (4, 0)),
        torch.from_numpy(layer.weight.detach().numpy()),
        torch.from_numpy(layer.bias.detach().numpy()),
        dilation=2,
    )
    assert_close(y, ref)


@pytest.mark.parametrize("case", [0, 1, 2, 3])
def test_gradcheck_float64(case):
    rng = np.random.default_rng(case)
    conf = [
        ((1, 2, 5, 6), (3, 2, 2, 3), dict(padding=1)),
        ((1, 4, 5, 5), (4, 2, 3, 2), dict(stride=2, padding=(1, 0), dilation=(1, 2), groups=2)),
        ((2, 2, 7), (3, 2, 3), dict(padding="same", dilation=2)),
        ((1, 2, 3, 3, 4), (2, 2, 2, 2, 2), dict(stride=(1, 2, 1), padding=1)),
    ][case]
    xs, ws, kw = conf
    x, w, b = (
        deepnum.tensor(rng.standard_normal(s), dtype=deepnum.float64, requires_grad=True)
        for s in (xs, ws, (ws[0],))
    )
    nd = len(ws) - 2
    fn = getattr(F, f"conv{nd}d")
    assert deepnum.autograd.gradcheck(lambda a, c, d: fn(a, c, d, **kw), (x, w, b))
    tfn = getattr(F, f"conv_transpose{nd}d")
    g = deepnum.tensor(
        rng.standard_normal(tuple(fn(x, w, b, **kw).shape)),
        dtype=deepnum.float64,
        requires_grad=True,
    )
    kwt = {k: v for k, v in kw.items() if k != "padding" or not isinstance(v, str)}
    assert deepnum.autograd.gradcheck(lambda a, c: tfn(a, c, **kwt), (g, w))


def test_second_derivatives_match_torch():
    """create_graph through conv: its backward is made of conv Functions, so it differentiates."""
    x, w = random_inputs((2, 3, 6, 6), (4, 3, 3, 3), dtype=np.float64)
    tx, tw = (torch.from_numpy(a.detach().numpy().copy()).requires_grad_() for a in (x, w))
    kw = dict(stride=2, padding=1)
    gx, gw = deepnum.autograd.grad((F.conv2d(x, w, **kw) ** 2).sum(), (x, w), create_graph=True)
    tgx, tgw = torch.autograd.grad(
        (TF.conv2d(tx, tw, **kw) ** 2).sum(), (tx, tw), create_graph=True
    )
    (gx.sum() + (gw * gw).sum()).backward()
    (tgx.sum() + (tgw * tgw).sum()).backward()
    assert_close(x.grad, tx.grad)
    assert_close(w.grad, tw.grad)
    assert deepnum.autograd.gradgradcheck(
        lambda a, c: F.conv1d(a, c, padding=1),
        tuple(random_inputs((1, 2, 5), (2, 2, 3), dtype=np.float64)),
    )


def test_float32_stays_float32():
    layer = nn.Conv2d(2, 3, 3)
    x = random_inputs((2, 2, 5, 5))[0]
    y = layer(x)
    y.sum().backward()
    assert (
        y.dtype == np.float32
        and x.grad.dtype == np.float32
        and layer.weight.grad.dtype == np.float32
    )


def test_errors_name_layer_and_shapes():
    with pytest.raises(
        RuntimeError,
        match=r"Conv2d\(in_channels=3\): expected input of shape \(N, 3, H, W\), "
        r"got \(32, 1, 28, 28\)",
    ):
        nn.Conv2d(3, 8, 3)(deepnum.zeros(32, 1, 28, 28))
    with pytest.raises(
        RuntimeError,
        match=r"Conv2d\(in_channels=3\): expected input of shape \(N, 3, H, W\) "
        r"or \(3, H, W\), got \(28, 28\)",
    ):
        nn.Conv2d(3, 8, 3)(deepnum.zeros(28, 28))
    with pytest.raises(
        RuntimeError,
        match=r"Conv2d\(kernel_size=\(5, 5\).*padded input size \(4, 4\) is "
        r"smaller than .* kernel size \(5, 5\); input shape \(1, 1, 4, 4\)",
    ):
        nn.Conv2d(1, 2, 5)(deepnum.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="Conv2d: in_channels=3 must be divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv1d: out_channels=5 must be divisible by groups=2"):
        nn.Conv1d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="invalid padding string 'full'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(
        RuntimeError, match=r"conv2d\(in_channels=4, groups=2\): expected input of shape"
    ):
        F.conv2d(deepnum.zeros(1, 3, 5, 5), deepnum.zeros(4, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match="input type .*float64.* and weight type .*float32"):
        F.conv1d(deepnum.zeros(1, 2, 5, dtype=deepnum.float64), deepnum.zeros(3, 2, 3))
    with pytest.raises(
        ValueError, match="output padding must be smaller than either stride or dilation"
    ):
        F.conv_transpose2d(deepnum.zeros(1, 2, 3, 3), deepnum.zeros(2, 2, 3, 3), output_padding=1)
    with pytest.raises(
        ValueError, match=r"stride must be an int or a tuple of 2 ints, got \(1, 1, 1\)"
    ):
        F.conv2d(deepnum.zeros(1, 2, 5, 5), deepnum.zeros(3, 2, 3, 3), stride=(1, 1, 1))


def test_many_option_combinations_forward():
    """A dense sweep of strides x paddings x dilations x groups (forward + input/weight grads)."""
    rng = np.random.default_rng(0)
    for stride, padding, dilation, groups in itertools.product(
        (1, 2), (0, 1, "same"), (1, 2), (1, 2)
    ):
        if padding == "same" and stride != 1:
            continue
        x, w, b = random_inputs((2, 4, 7, 6), (4, 4 // groups, 3, 2), (4,), rng=rng)
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        check_against_torch(
            lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), [x, w, b]
        )


def test_gradgradcheck_with_bias_groups_and_transposed():
    rng = np.random.default_rng(0)

    def t(*s):
        return deepnum.tensor(rng.standard_normal(s), dtype=deepnum.float64, requires_grad=True)

    ggc = deepnum.autograd.gradgradcheck
    kw = dict(stride=(2, 1), padding=1, groups=2, dilation=(1, 2))
    assert ggc(lambda a, c, d: F.conv2d(a, c, d, **kw), (t(1, 4, 5, 6), t(4, 2, 3, 2), t(4)))
    kwt = dict(stride=2, padding=1, output_padding=1, groups=2)
    assert ggc(lambda a, c, d: F.conv_transpose2d(a, c, d, **kwt), (t(1, 4, 3, 3), t(4, 3, 2, 2), t(6)))


def test_third_order_derivative_matches_torch():
    x, w = random_inputs((1, 2, 5, 5), (3, 2, 3, 3), dtype=np.float64)
    tx, tw = (torch.from_numpy(a.detach().numpy().copy()).requires_grad_() for a in (x, w))
    (gx,) = deepnum.autograd.grad((F.conv2d(x, w, padding=1) ** 3).sum(), (x,), create_graph=True)
    (ggw,) = deepnum.autograd.grad((gx**2).sum(), (w,), create_graph=True)
    (ggw**2).sum().backward()
    (tgx,) = torch.autograd.grad((TF.conv2d(tx, tw, padding=1) ** 3).sum(), (tx,), create_graph=True)
    (tggw,) = torch.autograd.grad((tgx**2).sum(), (tw,), create_graph=True)
    (tggw**2).sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(w.grad, tw.grad)


def test_long_k_weight_gradient_chunks_match_one_product():
    """The chunked product of a long inner dimension (with a remainder chunk) equals one GEMM."""
    from deepnum.ops.conv import LONG_K_CHUNK, _long_k_gemm

    rng = np.random.default_rng(0)
    k = 9 * LONG_K_CHUNK + 321
    a = rng.standard_normal((2, 5, k))
    b = rng.standard_normal((2, k, 3))
    np.testing.assert_allclose(_long_k_gemm(a, b), a @ b, rtol=1e-10, atol=1e-10)
    short = rng.standard_normal((1, 5, 100)), rng.standard_normal((1, 100, 3))
    np.testing.assert_allclose(_long_k_gemm(*short), short[0] @ short[1], rtol=1e-12)


@pytest.mark.parametrize("size", [28, 30])
def test_first_layer_weight_gradient_over_many_positions_matches_torch(size):
    """A 1→6 channel 5×5 layer over 16 images: its weight gradient takes the chunked product."""
    shapes = (16, 1, size, size), (6, 1, 5, 5), (6,)
    # float64: a float32 sum over 12,544 positions differs from PyTorch's in the 4th digit
    inputs = random_inputs(*shapes, dtype=np.float64, rng=np.random.default_rng(size))
    check_against_torch(
        lambda *a: F.conv2d(*a, padding=2), lambda *a: TF.conv2d(*a, padding=2), inputs
    )


@pytest.mark.parametrize("trainable", ["weight", "bias"])
@pytest.mark.parametrize("groups", [1, 2])
def test_bias_in_the_gemm_with_one_of_weight_and_bias_frozen(trainable, groups):
    """The bias rides in the GEMM; freezing either parameter still gives PyTorch's gradients."""
    x, w, b = random_inputs((3, 4, 9, 8), (6, 4 // groups, 3, 3), (6,), rng=np.random.default_rng(7))
    frozen = b if trainable == "weight" else w
    frozen.requires_grad_(False)
    check_against_torch(
        lambda *a: F.conv2d(*a, padding=1, groups=groups),
        lambda *a: TF.conv2d(*a, padding=1, groups=groups),
        [x, w, b],
    )
    assert frozen.grad is None


@pytest.fixture
def chunked_windows(monkeypatch):
    """Gather every layer's receptive fields a few images at a time (``Windows``)."""
    from deepnum.ops.conv import Windows

    monkeypatch.setattr(Windows, "MIN_BYTES", 0)
    monkeypatch.setattr(Windows, "MAX_FILTERS", 10**6)
    monkeypatch.setattr(Windows, "CHUNK_BYTES", 1)  # one image per chunk
    return Windows


@pytest.mark.parametrize("xs,ws,kw", [c for c in CONV_CASES if len(c[0]) == len(c[1])])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_in_chunks_of_images_matches_torch(chunked_windows, xs, ws, kw, bias):
    nd = len(ws) - 2
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    inputs = random_inputs(*shapes, rng=np.random.default_rng(len(xs) + sum(ws)))
    dn, tn = getattr(F, f"conv{nd}d"), getattr(TF, f"conv{nd}d")
    check_against_torch(lambda *a: dn(*a, **kw), lambda *a: tn(*a, **kw), inputs)


@pytest.mark.parametrize("size", [1, 2])
def test_conv_chunks_with_a_partial_last_chunk_and_a_frozen_input(chunked_windows, size):
    """Five images in chunks of two (or three): the last chunk is shorter; also the transposed
    convolution, whose weight gradient gathers windows of its upstream gradient."""
    from deepnum.ops.conv import wide_windows

    x = np.random.default_rng(3).standard_normal((5, 3, 9, 8))
    padded = wide_windows(np.zeros((5, 3, 11, 10)), (3, 3), (1, 1), 1, True)
    chunked_windows.CHUNK_BYTES = (size + 1) * padded.image_bytes  # 2 or 3 images per chunk
    assert padded.plan(4).chunk == size + 1
    xt = deepnum.tensor(x)  # no gradient wanted for the input, as a first layer
    w, b = random_inputs((4, 3, 3, 3), (4,), dtype=np.float64, rng=np.random.default_rng(4))
    check_against_torch(
        lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: TF.conv2d(x, w, b, padding=1),
        [xt, w, b],
    )
    wt, bt = random_inputs((3, 2, 3, 3), (2,), dtype=np.float64, rng=np.random.default_rng(5))
    g = random_inputs((5, 3, 6, 7), dtype=np.float64, rng=np.random.default_rng(6))[0]
    check_against_torch(
        lambda g, w, b: F.conv_transpose2d(g, w, b, stride=1), lambda g, w, b: TF.conv_transpose2d(g, w, b, stride=1),
        [g, wt, bt],
    )


def test_first_layer_of_lenet_is_gathered_in_chunks():
    """The rule picks chunks for a 1→6 layer over 64 MNIST images, and not for 6→16 on 14×14."""
    from deepnum.ops.conv import Windows, wide_windows

    first = wide_windows(np.zeros((64, 1, 32, 32), np.float32), (5, 5), (1, 1), 1, True)
    second = wide_windows(np.zeros((64, 6, 14, 14), np.float32), (5, 5), (1, 1), 1, True)
    assert first.plan(6).chunk is not None and 1 <= first.chunk < 64
    assert second.plan(16).chunk is None
    assert Windows.MAX_FILTERS < 16


def test_no_grad_rule_chunks_large_blocks_only_when_no_backward_follows():
    """A 3x3 64->64 layer over 32 maps of 32x32 (an 80 MB block) is gathered whole for
    training and in chunks under no_grad; a small block stays whole either way."""
    from deepnum.ops.conv import Windows, wide_windows

    big = wide_windows(np.zeros((32, 64, 34, 34), np.float32), (3, 3), (1, 1), 1, True)
    assert big.plan(64).chunk is None
    assert 1 <= big.plan(64, keep=False).chunk < 32
    assert big.chunk * big.image_bytes <= max(big.image_bytes, Windows.NO_GRAD_CHUNK_BYTES)
    small = wide_windows(np.zeros((2, 64, 10, 10), np.float32), (3, 3), (1, 1), 1, True)
    assert small.plan(64, keep=False).chunk is None


@pytest.mark.parametrize(
    "xs,ws,kw",
    [
        ((9, 8, 12, 12), (16, 8, 3, 3), dict(padding=1)),  # wide rows
        ((9, 8, 13, 12), (16, 4, 3, 3), dict(stride=2, padding=1, groups=2)),  # im2col
        ((9, 6, 20), (12, 6, 5), dict(padding=2)),
        ((5, 4, 6, 7, 6), (8, 4, 3, 3, 3), dict(padding=1)),
    ],
)
def test_no_grad_conv_in_chunks_matches_torch_and_the_training_path(monkeypatch, xs, ws, kw):
    """Under no_grad a large block is gathered in chunks (thresholds lowered so these small
    cases take that path, two images per chunk): the output is PyTorch's and the same as
    with gradients on."""
    import torch

    from deepnum.ops.conv import Windows

    nd = len(ws) - 2
    rng = np.random.default_rng(sum(xs))
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (xs, ws, (ws[0],)))
    image_bytes = []
    plan = Windows.plan

    def spy(self, filters_per_group, keep=True):
        image_bytes.append(self.image_bytes)
        self.NO_GRAD_CHUNK_BYTES = 2 * self.image_bytes
        out = plan(self, filters_per_group, keep)
        chunks.append(out.chunk)
        return out

    chunks = []
    monkeypatch.setattr(Windows, "NO_GRAD_MIN_BYTES", 0)
    monkeypatch.setattr(Windows, "MAX_FILTERS", 0)
    monkeypatch.setattr(Windows, "plan", spy)
    conv = getattr(F, f"conv{nd}d")
    params = [deepnum.tensor(a, requires_grad=True) for a in (w, b)]
    with deepnum.no_grad():
        fast = conv(deepnum.tensor(x), *params, **kw)
    assert chunks == [2]
    trained = conv(deepnum.tensor(x), *params, **kw)
    assert chunks == [2, None]
    expected = getattr(torch.nn.functional, f"conv{nd}d")(
        *(torch.from_numpy(a) for a in (x, w, b)), **kw
    )
    np.testing.assert_allclose(fast.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fast.numpy(), trained.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("images_per_chunk", [1, 2])
@pytest.mark.parametrize(
    "ws,kw",
    [((6, 4, 3, 3), dict(padding=1)), ((6, 2, 3, 2), dict(padding=2, dilation=2, groups=2))],
)
def test_input_gradient_in_chunks_of_images_matches_torch(
    monkeypatch, images_per_chunk, ws, kw
):
    """The input gradient of a stride-1 2-d convolution is made a few images at a time
    (``CACHED_BLOCK_BYTES``); five images in chunks of one or two (a shorter last chunk),
    against PyTorch and by finite differences in float64."""
    from deepnum.ops import conv

    xs = (5, 4, 7, 6)
    rows = max(ws[0] * ws[3], ws[1] * kw.get("groups", 1) * ws[2])
    per_image = rows * 7 * (6 + 2 * kw["padding"]) * 4  # a float32 chunk's block per image
    monkeypatch.setattr(conv, "CACHED_BLOCK_BYTES", images_per_chunk * per_image)
    inputs = random_inputs(xs, ws, (ws[0],), rng=np.random.default_rng(images_per_chunk))
    check_against_torch(lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), inputs)
    monkeypatch.setattr(conv, "CACHED_BLOCK_BYTES", 2 * images_per_chunk * per_image)  # float64
    x, w = (
        deepnum.tensor(t.detach().numpy(), dtype=deepnum.float64, requires_grad=True)
        for t in inputs[:2]
    )
    assert deepnum.autograd.gradcheck(lambda x, w: F.conv2d(x, w, **kw), (x, w))


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_in_chunks_gradcheck_float64(chunked_windows, groups):
    """Finite differences through the chunked gather (forward and weight gradient)."""
    rng = np.random.default_rng(groups)
    x, w, b = (
        deepnum.tensor(rng.standard_normal(s), dtype=deepnum.float64, requires_grad=True)
        for s in ((3, 4, 5, 6), (4, 4 // groups, 3, 2), (4,))
    )
    assert deepnum.autograd.gradcheck(
        lambda a, c, d: F.conv2d(a, c, d, padding=1, groups=groups), (x, w, b)
    )
