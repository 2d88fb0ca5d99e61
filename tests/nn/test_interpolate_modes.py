"""``interpolate(mode='bicubic')``, ``interpolate(mode='area')`` and antialiased bilinear/bicubic
``interpolate`` against PyTorch: values and input gradients (float32 and float64),
finite-difference gradients, ``nn.Upsample``, errors."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
import deepnum.nn.functional as F
from deepnum.autograd import gradcheck
from tests.helpers import check_against_torch, random_inputs

TF = torch.nn.functional

BICUBIC_CASES = [
    ((2, 3, 4, 5), dict(scale_factor=2)),
    ((1, 2, 5, 7), dict(size=(11, 16))),
    ((1, 2, 9, 8), dict(size=(4, 3))),  # downsampling: taps reach past both borders
    ((1, 1, 6, 6), dict(size=(6, 6))),  # same size: the identity
    ((2, 1, 1, 4), dict(size=(3, 1))),  # one input row, one output column
    ((1, 2, 5, 6), dict(scale_factor=1.5)),
    ((1, 2, 7, 5), dict(scale_factor=(0.6, 1.3))),
    ((1, 2, 7, 5), dict(scale_factor=(0.6, 1.3), recompute_scale_factor=True)),
    ((1, 2, 7, 5), dict(scale_factor=(0.6, 1.3), recompute_scale_factor=False)),
    ((1, 3, 5, 4), dict(scale_factor=2.7)),
    ((1, 3, 5, 4), dict(scale_factor=2.7, recompute_scale_factor=True)),
    ((1, 1, 10, 9), dict(scale_factor=1 / 3)),
]


def _random_bicubic_cases(count: int, seed: int = 7):
    """Random shapes and targets: sizes or (often non-integer) scale factors, up or down."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        batch, channels = rng.integers(1, 3), rng.integers(1, 4)
        shape = (batch, channels, *rng.integers(1, 10, 2))
        shape = tuple(int(n) for n in shape)
        if rng.random() < 0.5:
            cases.append((shape, dict(size=tuple(int(n) for n in rng.integers(1, 14, 2)))))
            continue
        factors = tuple(float(f) for f in rng.uniform(0.3, 3.0, 2).round(2))
        if all(int(n * f) >= 1 for n, f in zip(shape[2:], factors)):
            recompute = [None, False, True][int(rng.integers(3))]
            cases.append((shape, dict(scale_factor=factors, recompute_scale_factor=recompute)))
    return cases


@pytest.mark.parametrize("shape, kwargs", BICUBIC_CASES + _random_bicubic_cases(10))
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bicubic_against_torch(shape, kwargs, align_corners, dtype):
    kwargs = dict(kwargs, mode="bicubic", align_corners=align_corners)
    out = check_against_torch(
        lambda x: F.interpolate(x, **kwargs),
        lambda x: TF.interpolate(x, **kwargs),
        random_inputs(shape, dtype=dtype),
    )
    assert out.requires_grad  # else check_against_torch skips the gradients


def test_bicubic_default_align_corners_is_false():
    x = random_inputs((1, 2, 4, 6))[0]
    check_against_torch(
        lambda v: F.interpolate(v, size=(7, 3), mode="bicubic"),
        lambda v: TF.interpolate(v, size=(7, 3), mode="bicubic"),
        [x],
    )


def test_bicubic_overshoots_and_keeps_constants():
    step = deepnum.tensor([[[[0.0, 0.0, 1.0, 1.0]]]])
    out = F.interpolate(step, size=(1, 8), mode="bicubic").numpy()
    assert out.min() < 0.0 and out.max() > 1.0  # the negative lobes of the cubic kernel
    constant = deepnum.full((1, 1, 3, 5), 2.5, dtype=deepnum.float64)
    out = F.interpolate(constant, scale_factor=1.7, mode="bicubic").numpy()
    np.testing.assert_allclose(out, 2.5, rtol=0, atol=1e-12)  # the weights of each row sum to 1


def test_bicubic_larger_image_against_torch():
    # float64: in float32 the gradient's long sums differ from PyTorch's in the last digits
    check_against_torch(
        lambda x: F.interpolate(x, size=(80, 40), mode="bicubic", align_corners=False),
        lambda x: TF.interpolate(x, size=(80, 40), mode="bicubic", align_corners=False),
        random_inputs((2, 3, 48, 64), dtype=np.float64),
    )


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 3, 9), dict(size=4)),
        ((2, 3, 5), dict(size=12)),  # upsampling repeats inputs, like nearest
        ((2, 3, 10), dict(scale_factor=0.35)),
        ((1, 2, 7, 9), dict(size=(3, 4))),
        ((1, 2, 4, 5), dict(size=(9, 3))),
        ((1, 2, 8, 9), dict(scale_factor=(0.5, 0.7))),
        ((1, 2, 6, 5, 7), dict(size=(4, 2, 3))),
        ((1, 1, 3, 6, 4), dict(size=(5, 3, 8))),
        ((2, 1, 6, 7, 8), dict(scale_factor=0.5)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_area_against_torch(shape, kwargs, dtype):
    out = check_against_torch(
        lambda x: F.interpolate(x, mode="area", **kwargs),
        lambda x: TF.interpolate(x, mode="area", **kwargs),
        random_inputs(shape, dtype=dtype),
    )
    assert out.requires_grad  # else check_against_torch skips the gradients


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(size=(5, 7), mode="bicubic", align_corners=False),
        dict(size=(2, 3), mode="bicubic", align_corners=True),
        dict(scale_factor=1.6, mode="bicubic"),
        dict(size=(2, 5), mode="area"),
    ],
)
def test_gradcheck_float64(kwargs):
    x = random_inputs((1, 2, 3, 4), dtype=np.float64)[0]
    assert gradcheck(lambda v: F.interpolate(v, **kwargs), (x,))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(scale_factor=2, mode="bicubic"),
        dict(scale_factor=1.5, mode="bicubic", align_corners=True),
        dict(size=(5, 3), mode="bicubic", align_corners=False),
        dict(size=(2, 3), mode="area"),
    ],
)
def test_upsample_module_against_torch(kwargs):
    check_against_torch(
        dnn.Upsample(**kwargs), torch.nn.Upsample(**kwargs), random_inputs((2, 3, 4, 5))
    )


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((1, 1, 4), dict(scale_factor=2, mode="bicubic")),
        ((1, 1, 2, 3, 4), dict(size=(2, 3, 4), mode="bicubic")),
        ((1, 1, 4, 4), dict(scale_factor=2, mode="area", align_corners=False)),
        ((1, 1, 4, 4), dict(scale_factor=2, mode="nearest", antialias=True)),
        ((1, 1, 4, 4, 4), dict(scale_factor=2, mode="trilinear", antialias=True)),
        ((1, 1, 4, 4), dict(scale_factor=2, mode="area", antialias=True)),
        ((1, 1, 4), dict(scale_factor=2, mode="bilinear", antialias=True)),
        ((1, 1, 4, 4, 4), dict(scale_factor=2, mode="bicubic", antialias=True)),
        ((1, 1, 4, 4), dict(scale_factor=2, mode="linear", antialias=True)),
        ((1, 1, 4, 4), dict(size=(0, 3), mode="bicubic")),
        ((1, 1, 4), dict(size=0, mode="linear")),
    ],
)
def test_errors_match_torch(shape, kwargs):
    with pytest.raises(Exception) as theirs:
        TF.interpolate(torch.zeros(shape), **kwargs)
    with pytest.raises(theirs.type):
        F.interpolate(deepnum.zeros(*shape), **kwargs)


def test_error_messages():
    with pytest.raises(NotImplementedError, match="mode 'bicubic' expects 2 spatial dims"):
        F.interpolate(deepnum.zeros(1, 1, 4), scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="mode 'bicubic' expects 2 spatial dims"):
        F.interpolate(deepnum.zeros(1, 1, 2, 3, 4), scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear and bicubic"):
        F.interpolate(deepnum.zeros(1, 1, 4, 4, 4), size=2, mode="trilinear", antialias=True)
    with pytest.raises(ValueError, match="requires a 4-D tensor as input"):
        F.interpolate(deepnum.zeros(1, 1, 4), scale_factor=0.5, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="'bicubic', 'trilinear' or 'area'"):
        F.interpolate(deepnum.zeros(1, 1, 4, 4), scale_factor=2, mode="lanczos")


# Antialiased resampling (PIL's filters, PyTorch's CPU kernel). Two PyTorch quirks are kept out
# of the comparisons and tested on their own below: the forward pass with a single output
# column, and the gradient of an axis whose size does not change under a scale factor.
ANTIALIAS_CASES = [
    ((2, 3, 12, 10), dict(size=(5, 4))),  # downsampling by 2.4 and 2.5
    ((1, 2, 9, 16), dict(size=(3, 2))),  # by 3 and 8: wide kernels
    ((1, 2, 7, 11), dict(size=(6, 9))),  # mild downsampling
    ((1, 2, 5, 6), dict(size=(11, 13))),  # upsampling
    ((1, 2, 8, 5), dict(size=(3, 12))),  # down along H, up along W
    ((1, 2, 8, 7), dict(size=(1, 3))),  # a single output row
    ((1, 1, 1, 9), dict(size=(3, 4))),  # a single input row
    ((1, 1, 6, 7), dict(size=(6, 3))),  # an unchanged axis
    ((1, 2, 10, 9), dict(scale_factor=0.5)),
    ((1, 2, 10, 9), dict(scale_factor=(0.37, 0.45))),
    ((1, 2, 10, 9), dict(scale_factor=(0.37, 0.45), recompute_scale_factor=True)),
    ((1, 2, 4, 5), dict(scale_factor=(2.6, 1.7))),
    ((1, 2, 4, 5), dict(scale_factor=(2.6, 1.7), recompute_scale_factor=True)),
    ((2, 1, 13, 6), dict(scale_factor=(0.3, 2.0))),
]


def _comparable_with_torch(shape, out_size, scales) -> bool:
    """Whether PyTorch's antialiased resize is self-consistent there (see the tests below)."""
    (h, w), (out_h, out_w) = shape[2:], out_size
    single_column = out_w == 1 and out_h != h
    kept_axis_rescaled = any(
        n == m and s is not None and s != 1 for n, m, s in zip(shape[2:], out_size, scales)
    )
    return not (single_column or kept_axis_rescaled)


def _random_antialias_cases(count: int, seed: int = 11):
    """Random shapes, sizes and (non-integer) scale factors, up and down."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        shape = (1, int(rng.integers(1, 3)), *(int(n) for n in rng.integers(1, 16, 2)))
        if rng.random() < 0.5:
            size = tuple(int(n) for n in rng.integers(1, 16, 2))
            kwargs, scales = dict(size=size), (None, None)
        else:
            scales = tuple(float(f) for f in rng.uniform(0.2, 3.0, 2).round(2))
            size = tuple(int(n * f) for n, f in zip(shape[2:], scales))
            kwargs = dict(scale_factor=scales)
        if min(size) >= 1 and _comparable_with_torch(shape, size, scales):
            cases.append((shape, kwargs))
    return cases


@pytest.mark.parametrize("shape, kwargs", ANTIALIAS_CASES + _random_antialias_cases(8))
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_antialias_against_torch(shape, kwargs, mode, align_corners, dtype):
    kwargs = dict(kwargs, mode=mode, align_corners=align_corners, antialias=True)
    out = check_against_torch(
        lambda x: F.interpolate(x, **kwargs),
        lambda x: TF.interpolate(x, **kwargs),
        random_inputs(shape, dtype=dtype),
    )
    assert out.requires_grad  # else check_against_torch skips the gradients


def test_antialias_larger_image_against_torch():
    check_against_torch(
        lambda x: F.interpolate(x, size=(17, 23), mode="bicubic", antialias=True),
        lambda x: TF.interpolate(x, size=(17, 23), mode="bicubic", antialias=True),
        random_inputs((2, 3, 64, 48), dtype=np.float64),
    )


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_differs_from_plain_downsampling(mode):
    x = random_inputs((1, 2, 12, 12), dtype=np.float64, requires_grad=False)[0]
    smooth = F.interpolate(x, size=(4, 4), mode=mode, antialias=True).numpy()
    plain = F.interpolate(x, size=(4, 4), mode=mode).numpy()
    assert np.abs(smooth - plain).max() > 0.05
    constant = deepnum.full((1, 1, 9, 7), -1.5, dtype=deepnum.float64)
    for size in [(4, 3), (13, 11)]:  # the weights of each output sum to 1
        out = F.interpolate(constant, size=size, mode=mode, antialias=True).numpy()
        np.testing.assert_allclose(out, -1.5, rtol=0, atol=1e-12)


def test_antialias_bilinear_upsampling_equals_plain_bilinear():
    x = random_inputs((1, 2, 5, 4), dtype=np.float64, requires_grad=False)[0]
    smooth = F.interpolate(x, size=(9, 11), mode="bilinear", antialias=True)
    plain = F.interpolate(x, size=(9, 11), mode="bilinear")
    np.testing.assert_allclose(smooth.numpy(), plain.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("out_h", [3, 9])
def test_antialias_single_output_column_matches_the_transposed_problem(mode, align_corners, out_h):
    # PyTorch's CPU forward pass gives every output row the first row's value when the output
    # has one column and the height changes (its gradient is right); resizing the transposed
    # image, one output row, is unaffected, so it serves as the reference.
    kwargs = dict(mode=mode, align_corners=align_corners, antialias=True)
    check_against_torch(
        lambda x: F.interpolate(x, size=(out_h, 1), **kwargs),
        lambda x: TF.interpolate(x.transpose(2, 3), size=(1, out_h), **kwargs).transpose(2, 3),
        random_inputs((1, 2, 6, 5), dtype=np.float64),
    )


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_unchanged_axis_is_copied_whatever_the_scale(mode):
    # PyTorch's forward pass copies an axis whose size stays the same (here W: 4 -> int(4·1.1));
    # its backward pass resamples it with step 1/1.1 nonetheless, so only the forward values
    # are compared and the gradient is checked by finite differences.
    kwargs = dict(scale_factor=(0.6, 1.1), mode=mode, antialias=True)
    x = random_inputs((1, 2, 10, 4), dtype=np.float64)[0]
    check_against_torch(
        lambda v: F.interpolate(v, **kwargs),
        lambda v: TF.interpolate(v, **kwargs),
        [x],
        grad=False,
    )
    assert gradcheck(lambda v: F.interpolate(v, **kwargs), (x,))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(size=(2, 3), mode="bilinear"),
        dict(size=(7, 5), mode="bilinear", align_corners=True),
        dict(size=(2, 6), mode="bicubic"),
        dict(size=(3, 2), mode="bicubic", align_corners=True),
        dict(scale_factor=(0.4, 1.6), mode="bicubic"),
    ],
)
def test_antialias_gradcheck_float64(kwargs):
    x = random_inputs((1, 2, 5, 4), dtype=np.float64)[0]
    assert gradcheck(lambda v: F.interpolate(v, antialias=True, **kwargs), (x,))
