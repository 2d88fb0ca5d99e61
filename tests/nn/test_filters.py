"""Fixed filters, true convolution vs cross-correlation, FFT convolution (001 §8, 004 Ex. 6.20)."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn.functional as F
from deepnum.nn import filters
from tests.helpers import assert_close, check_against_torch, random_inputs

X_SEED = [[80, 92, 163, 234, 230], [85, 98, 237, 233, 232], [83, 96, 236, 235, 231]]


def test_sobel_worked_example_004_ex_6_20():
    """The vertical Sobel filter on the 3×5 image with replicated borders gives the book's Y."""
    y = filters.sobel(deepnum.tensor(X_SEED, dtype=deepnum.float32), padding_mode="replicate")
    expected = [[-49, -401, -561, -196, 13], [-51, -540, -551, -52, 10], [-52, -611, -552, 20, 13]]
    np.testing.assert_array_equal(y.numpy(), np.array(expected, dtype=np.float32))
    # the padded image X' of the example is replicate padding
    padded = F.pad(
        deepnum.tensor(X_SEED, dtype=deepnum.float32).reshape(1, 1, 3, 5),
        (1, 1, 1, 1),
        mode="replicate",
    )
    assert padded.numpy()[0, 0, 0].tolist() == [80, 80, 92, 163, 234, 230, 230]
    # and the same numbers through a Conv2d layer with padding_mode='replicate'
    layer = deepnum.nn.Conv2d(1, 1, 3, padding=1, padding_mode="replicate", bias=False)
    with deepnum.no_grad():
        layer.weight.copy_(deepnum.tensor(filters.SOBEL_VERTICAL).reshape(1, 1, 3, 3))
    np.testing.assert_array_equal(
        layer(deepnum.tensor(X_SEED, dtype=deepnum.float32).reshape(1, 1, 3, 5))
        .detach()
        .numpy()[0, 0],
        expected,
    )


def test_edge_filters_of_001_eq_32():
    ks = filters.edge_filters()
    assert (
        ks["laplace_8"].sum() == 0 and ks["laplace_4"].sum() == 0 and ks["edge_cross"].sum() == 0
    )
    flat = np.full((6, 6), 7.0, dtype=np.float32)  # no edges: every filter answers 0
    for k in ks.values():
        np.testing.assert_array_equal(filters.correlate(flat, k).numpy(), 0)
    step = np.zeros((5, 6), dtype=np.float32)
    step[:, 3:] = 1.0  # a vertical edge between columns 2 and 3
    y = filters.correlate(step, filters.SOBEL_VERTICAL).numpy()
    np.testing.assert_array_equal(y, [[0, -4, -4, 0]] * 3)
    assert np.all(filters.correlate(step, filters.SOBEL_HORIZONTAL).numpy() == 0)


@pytest.mark.parametrize("mode", ["valid", "full"])
@pytest.mark.parametrize("k", [1, 3, 4])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_convolve_and_correlate_match_numpy(mode, k, name):
    rng = np.random.default_rng(k)
    a, w = rng.standard_normal(17), rng.standard_normal(k)
    np.testing.assert_allclose(
        getattr(filters, name)(a.astype(np.float32), w, mode).numpy(),
        getattr(np, name)(a, w, mode),
        rtol=1e-5,
        atol=1e-5,
    )


def test_convolution_flips_the_kernel_001_eq_26():
    x = random_inputs((2, 3, 7, 8))[0]
    w = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    assert_close(filters.convolve(x, w), filters.correlate(x, filters.flip_kernel(w)))
    # true convolution is commutative (001 §8): x * δ = x and x * w = w * x on full support
    a, b = np.arange(5.0, dtype=np.float32), np.array([1.0, -2.0, 0.5], dtype=np.float32)
    np.testing.assert_allclose(
        filters.convolve(a, b, "full").numpy(),
        filters.convolve(np.pad(b, 4), a, "valid").numpy(),
        rtol=1e-6,
    )
    np.testing.assert_array_equal(filters.convolve(a, np.array([1.0], np.float32)).numpy(), a)
    # correlation of a symmetric kernel equals convolution
    assert_close(
        filters.convolve(x, filters.LAPLACE_4, "same"),
        filters.correlate(x, filters.LAPLACE_4, "same"),
    )


def test_correlate_is_differentiable():
    x = random_inputs((1, 2, 6, 6))[0]
    w = deepnum.tensor(filters.SOBEL_HORIZONTAL, requires_grad=True)
    filters.correlate(x, w, "same", padding_mode="reflect").sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == (3, 3)


@pytest.mark.parametrize(
    "xs,ws,padding",
    [
        ((2, 3, 20, 17), (4, 3, 5, 7), (1, 2)),
        ((1, 2, 9, 9), (3, 2, 9, 9), 0),
        ((2, 3, 12, 12), (2, 3, 3, 3), "same"),
        ((3, 10, 11), (2, 3, 4, 4), 2),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fft_conv2d_agrees_with_direct_and_torch(xs, ws, padding, dtype):
    x, w, b = random_inputs(xs, ws, (ws[0],), dtype=dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-9)
    check_against_torch(
        lambda *a: F.conv2d_fft(*a, padding=padding),
        lambda *a: torch.nn.functional.conv2d(*a, padding=padding),
        [x, w, b],
        **tol,
    )
    assert_close(F.conv2d_fft(x, w, b, padding=padding), F.conv2d(x, w, b, padding=padding), **tol)


def test_fft_conv1d_and_gradcheck():
    x, w, b = random_inputs((2, 3, 30), (4, 3, 7), (4,), dtype=np.float64)
    check_against_torch(
        lambda *a: F.conv1d_fft(*a, padding=3),
        lambda *a: torch.nn.functional.conv1d(*a, padding=3),
        [x, w, b],
    )
    small = [
        deepnum.tensor(
            np.random.default_rng(1).standard_normal(s), dtype=deepnum.float64, requires_grad=True
        )
        for s in ((1, 2, 5, 6), (2, 2, 3, 2), (2,))
    ]
    assert deepnum.autograd.gradcheck(lambda *a: F.conv2d_fft(*a, padding=1), tuple(small))
    with pytest.raises(RuntimeError, match="conv_fft: second derivatives"):
        (g,) = deepnum.autograd.grad(
            F.conv2d_fft(small[0], small[1]).sum(), (small[0],), create_graph=True
        )
        g.sum().backward()


def test_fft_conv_errors():
    with pytest.raises(
        RuntimeError, match=r"conv2d_fft\(in_channels=3\): expected input of shape \(N, 3, H, W\)"
    ):
        F.conv2d_fft(deepnum.zeros(1, 2, 5, 5), deepnum.zeros(1, 3, 3, 3))
    with pytest.raises(
        RuntimeError, match="conv2d_fft.*padded input size \\(2, 2\\) is smaller than the kernel"
    ):
        F.conv2d_fft(deepnum.zeros(1, 1, 2, 2), deepnum.zeros(1, 1, 3, 3))
