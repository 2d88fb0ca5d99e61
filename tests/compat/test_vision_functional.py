"""``interpolate``/``Upsample``, ``pixel_shuffle``, ``normalize``, ``cosine_similarity``,
``pairwise_distance``, ``affine_grid``/``grid_sample`` against PyTorch: values and gradients,
float32 and float64."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
import deepnum.nn.functional as F
from deepnum.autograd import gradcheck
from tests.helpers import check_against_torch, random_inputs

TF = torch.nn.functional


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((2, 3, 5), dict(scale_factor=2, mode="nearest")),
        ((2, 3, 5), dict(size=7, mode="nearest")),
        ((2, 3, 4, 5), dict(scale_factor=2)),
        ((1, 2, 5, 7), dict(size=(3, 4), mode="nearest")),
        ((1, 2, 5, 7), dict(size=(8, 11), mode="nearest-exact")),
        ((1, 2, 4, 4), dict(scale_factor=1.5, mode="nearest")),
        ((2, 3, 5), dict(scale_factor=2, mode="linear", align_corners=False)),
        ((2, 3, 4, 5), dict(scale_factor=2, mode="bilinear", align_corners=False)),
        ((2, 3, 4, 5), dict(size=(7, 3), mode="bilinear", align_corners=True)),
        ((1, 2, 5, 6), dict(size=(3, 4), mode="bilinear", align_corners=False)),
        ((1, 1, 3, 4, 2), dict(scale_factor=2, mode="trilinear", align_corners=False)),
        ((1, 2, 2, 3, 4), dict(size=(3, 3, 3), mode="nearest")),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_against_torch(shape, kwargs, dtype):
    check_against_torch(
        lambda x: F.interpolate(x, **kwargs),
        lambda x: TF.interpolate(x, **kwargs),
        random_inputs(shape, dtype=dtype),
    )


def test_upsample_modules_against_torch():
    for ours, theirs in [
        (dnn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
        (
            dnn.Upsample(size=(6, 5), mode="bilinear", align_corners=False),
            torch.nn.Upsample(size=(6, 5), mode="bilinear", align_corners=False),
        ),
        (dnn.UpsamplingBilinear2d(scale_factor=2), torch.nn.UpsamplingBilinear2d(scale_factor=2)),
        (dnn.UpsamplingNearest2d(size=5), torch.nn.UpsamplingNearest2d(size=5)),
    ]:
        check_against_torch(ours, theirs, random_inputs((2, 3, 3, 4)))
    assert "scale_factor=2" in repr(dnn.Upsample(scale_factor=2))


@pytest.mark.parametrize("shape, r", [((2, 8, 3, 4), 2), ((18, 2, 3), 3), ((1, 2, 4, 1, 2), 1)])
def test_pixel_shuffle_and_unshuffle(shape, r):
    check_against_torch(
        lambda x: F.pixel_shuffle(x, r), lambda x: TF.pixel_shuffle(x, r), random_inputs(shape)
    )
    out_shape = tuple(TF.pixel_shuffle(torch.zeros(shape), r).shape)
    check_against_torch(
        lambda x: F.pixel_unshuffle(x, r),
        lambda x: TF.pixel_unshuffle(x, r),
        random_inputs(out_shape),
    )
    check_against_torch(dnn.PixelShuffle(r), torch.nn.PixelShuffle(r), random_inputs(shape))


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, -1), (3.0, 0)])
def test_normalize_against_torch(p, dim):
    check_against_torch(
        lambda x: F.normalize(x, p=p, dim=dim),
        lambda x: TF.normalize(x, p=p, dim=dim),
        random_inputs((4, 5)),
    )


def test_cosine_similarity_and_pairwise_distance():
    check_against_torch(
        lambda a, b: F.cosine_similarity(a, b),
        lambda a, b: TF.cosine_similarity(a, b),
        random_inputs((4, 6), (4, 6)),
    )
    check_against_torch(
        lambda a, b: F.cosine_similarity(a, b, dim=-1),
        lambda a, b: TF.cosine_similarity(a, b, dim=-1),
        random_inputs((3, 1, 5), (4, 5)),
    )
    check_against_torch(
        dnn.CosineSimilarity(dim=0),
        torch.nn.CosineSimilarity(dim=0),
        random_inputs((5, 3), (5, 3)),
    )
    check_against_torch(
        lambda a, b: F.pairwise_distance(a, b),
        lambda a, b: TF.pairwise_distance(a, b),
        random_inputs((4, 6), (4, 6)),
    )
    check_against_torch(
        dnn.PairwiseDistance(p=1.0, keepdim=True),
        torch.nn.PairwiseDistance(p=1.0, keepdim=True),
        random_inputs((4, 6), (4, 6)),
    )


def test_gradcheck_float64():
    x = random_inputs((1, 2, 3, 4), dtype=np.float64)[0]
    assert gradcheck(
        lambda v: F.interpolate(v, scale_factor=2, mode="bilinear", align_corners=False), (x,)
    )
    a, b = random_inputs((3, 4), (3, 4), dtype=np.float64)
    assert gradcheck(lambda u, v: F.cosine_similarity(u, v), (a, b))
    assert gradcheck(lambda u: F.normalize(u, dim=0), (a,))


def test_bad_input_messages():
    with pytest.raises(
        RuntimeError,
        match=r"pixel_shuffle: channels \(6\) must be divisible by upscale_factor\*\*2 = 4",
    ):
        F.pixel_shuffle(deepnum.zeros(1, 6, 2, 2), 2)
    with pytest.raises(NotImplementedError, match="mode 'lanczos' is not supported"):
        F.interpolate(deepnum.zeros(1, 1, 2, 2), scale_factor=2, mode="lanczos")
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(deepnum.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(deepnum.zeros(1, 1, 2, 2), scale_factor=2, align_corners=True)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 3, 4, 5, 3), (1, 2, 2, 6, 2)])
def test_affine_grid_against_torch(align_corners, size):
    nd = len(size) - 2
    check_against_torch(
        lambda t: F.affine_grid(t, size, align_corners=align_corners),
        lambda t: TF.affine_grid(t, size, align_corners=align_corners),
        random_inputs((size[0], nd, nd + 1), low=-1.0, high=1.0),
    )


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize(
    "input_shape, grid_shape",
    [((2, 3, 5, 6), (2, 4, 7, 2)), ((2, 2, 4, 5, 3), (2, 3, 2, 4, 3)), ((1, 2, 1, 4), (1, 3, 5, 2))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grid_sample_against_torch(mode, padding_mode, align_corners, input_shape, grid_shape, dtype):
    rng = np.random.default_rng(5)
    x = deepnum.tensor(rng.standard_normal(input_shape).astype(dtype), requires_grad=True)
    # positions spread over the image and up to three image widths beyond it (several
    # reflections), away from pixel boundaries where floor/round jump
    grid = rng.uniform(-3.5, 3.5, grid_shape).astype(dtype)
    grid = deepnum.tensor(grid, requires_grad=mode == "bilinear")
    kwargs = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    check_against_torch(
        lambda a, b: F.grid_sample(a, b, **kwargs),
        lambda a, b: TF.grid_sample(a, b, **kwargs),
        [x, grid],
    )


@pytest.mark.parametrize("align_corners", [False, True])
def test_reflection_folds_coordinates_like_a_mirror(align_corners):
    # a 1 x 4 image sampled along x: reflection padding reads the mirrored pixel
    x = deepnum.tensor([[[[10.0, 20.0, 30.0, 40.0]]]])
    n = 4
    pixels = np.array([-2.0, -1.0, 0.0, 1.5, 3.0, 4.0, 5.0, 8.0, 9.0])
    if align_corners:  # mirrors at the outer pixels' centres 0 and 3
        expected_at = [2.0, 1.0, 0.0, 1.5, 3.0, 2.0, 1.0, 2.0, 3.0]
        u = pixels * 2 / (n - 1) - 1
    else:  # mirrors at the outer edges -0.5 and 3.5, then clipped to [0, 3]
        expected_at = [1.0, 0.0, 0.0, 1.5, 3.0, 3.0, 2.0, 0.0, 1.0]
        u = (2 * pixels + 1) / n - 1
    grid = deepnum.tensor(np.stack([u, np.zeros_like(u)], -1).reshape(1, 1, -1, 2))
    out = F.grid_sample(x, grid, padding_mode="reflection", align_corners=align_corners)
    np.testing.assert_allclose(out.numpy().ravel(), 10 + 10 * np.array(expected_at), atol=1e-4)


def test_grid_sample_3d_gradcheck_with_reflection():
    rng = np.random.default_rng(2)
    x = deepnum.tensor(rng.standard_normal((1, 2, 3, 4, 3)), requires_grad=True)
    grid = deepnum.tensor(rng.uniform(-2.2, 2.2, (1, 2, 2, 3, 3)), requires_grad=True)
    assert gradcheck(
        lambda a, b: F.grid_sample(a, b, padding_mode="reflection", align_corners=False),
        (x, grid),
    )


def test_grid_sample_bad_arguments():
    x = deepnum.zeros(1, 1, 3, 3)
    with pytest.raises(ValueError, match="padding_mode must be 'zeros', 'border' or 'reflection', got 'wrap'"):
        F.grid_sample(x, deepnum.zeros(1, 2, 2, 2), padding_mode="wrap")
    with pytest.raises(ValueError, match=r"got input \(1, 1, 3, 3\) and grid \(1, 2, 2, 3\)"):
        F.grid_sample(x, deepnum.zeros(1, 2, 2, 3))
    with pytest.raises(ValueError, match=r"affine_grid: expected theta \(N, 2, 3\)"):
        F.affine_grid(deepnum.zeros(1, 2, 3), (1, 1, 2, 2, 2))


def test_spatial_transformer_identity_and_gradcheck():
    x = random_inputs((1, 2, 4, 4), dtype=np.float64)[0]
    theta = deepnum.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=deepnum.float64)
    same = F.grid_sample(
        x, F.affine_grid(theta, x.shape, align_corners=False), align_corners=False
    )
    np.testing.assert_allclose(same.detach().numpy(), x.detach().numpy(), atol=1e-12)
    # (chosen so that no sample lands exactly on a pixel, where bilinear sampling has a kink)
    theta = deepnum.tensor(
        [[[0.8137, 0.1029, 0.0713], [-0.1291, 0.7743, 0.0917]]],
        dtype=deepnum.float64,
        requires_grad=True,
    )
    assert gradcheck(
        lambda a, t: F.grid_sample(
            a, F.affine_grid(t, (1, 2, 4, 4), align_corners=False), align_corners=False
        ),
        (x, theta),
    )


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize(
    "input_shape, grid_shape",
    [((2, 3, 5, 6), (2, 4, 7, 2)), ((1, 2, 1, 4), (1, 3, 5, 2)), ((1, 1, 2, 1), (1, 4, 4, 2))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grid_sample_bicubic_against_torch(
    padding_mode, align_corners, input_shape, grid_shape, dtype
):
    rng = np.random.default_rng(9)
    x = deepnum.tensor(rng.standard_normal(input_shape).astype(dtype), requires_grad=True)
    # inside the image and up to three image widths beyond it, where taps reach past the
    # border on both sides and reflect several times
    grid = deepnum.tensor(rng.uniform(-3.5, 3.5, grid_shape).astype(dtype), requires_grad=True)
    kwargs = dict(mode="bicubic", padding_mode=padding_mode, align_corners=align_corners)
    # float32: where the taps all read the same border pixel the grid gradient is a sum of
    # sixteen terms of order one cancelling to 0, both libraries leave rounding noise ~1e-5
    out = check_against_torch(
        lambda a, b: F.grid_sample(a, b, **kwargs),
        lambda a, b: TF.grid_sample(a, b, **kwargs),
        [x, grid],
        atol=1e-4 if dtype == np.float32 else None,
    )
    assert out.requires_grad  # else check_against_torch skips the gradients


def test_grid_sample_bicubic_spatial_transformer_against_torch():
    x = random_inputs((2, 3, 9, 8), dtype=np.float64)[0]
    theta = deepnum.tensor(
        [[[0.9, -0.3, 0.1], [0.2, 1.1, -0.2]], [[1.4, 0.1, 0.3], [0.0, 0.7, 0.05]]],
        dtype=deepnum.float64,
        requires_grad=True,
    )
    size, kwargs = (2, 3, 6, 7), dict(align_corners=False)
    check_against_torch(
        lambda a, t: F.grid_sample(a, F.affine_grid(t, size, **kwargs), mode="bicubic", **kwargs),
        lambda a, t: TF.grid_sample(a, TF.affine_grid(t, size, **kwargs), mode="bicubic", **kwargs),
        [x, theta],
    )


@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_bicubic_reads_pixel_centres_exactly(align_corners):
    # W(0) = 1 and W(±1) = W(±2) = 0: at a pixel centre only that pixel counts
    x = random_inputs((1, 2, 4, 5), dtype=np.float64, requires_grad=False)[0]
    theta = deepnum.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], dtype=deepnum.float64)
    grid = F.affine_grid(theta, x.shape, align_corners=align_corners)
    same = F.grid_sample(x, grid, mode="bicubic", align_corners=align_corners)
    np.testing.assert_allclose(same.numpy(), x.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_bicubic_gradcheck(padding_mode, align_corners):
    rng = np.random.default_rng(4)
    x = deepnum.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    grid = deepnum.tensor(rng.uniform(-2.2, 2.2, (1, 3, 2, 2)), requires_grad=True)
    kwargs = dict(mode="bicubic", padding_mode=padding_mode, align_corners=align_corners)
    assert gradcheck(lambda a, b: F.grid_sample(a, b, **kwargs), (x, grid))


@pytest.mark.parametrize(
    "input_shape, grid_shape, mode",
    [((1, 1, 2, 3, 3), (1, 2, 2, 2, 3), "bicubic"), ((1, 1, 3, 3), (1, 2, 2, 2), "lanczos")],
)
def test_grid_sample_mode_errors_match_torch(input_shape, grid_shape, mode):
    with pytest.raises(Exception) as theirs:
        TF.grid_sample(
            torch.zeros(input_shape), torch.zeros(grid_shape), mode=mode, align_corners=False
        )
    with pytest.raises(theirs.type):
        F.grid_sample(deepnum.zeros(*input_shape), deepnum.zeros(*grid_shape), mode=mode)
    if mode == "bicubic":
        with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4-D input"):
            F.grid_sample(deepnum.zeros(*input_shape), deepnum.zeros(*grid_shape), mode=mode)
