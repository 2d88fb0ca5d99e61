"""Locally connected and tiled convolutions against naive loops (003 §3.2); causal convolution."""

import numpy as np
import pytest

import deepnum
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, random_inputs
from tests.nn._harness import run_layer_test


def _windows(x, kernel, stride, padding, dilation):
    """Naive receptive fields: dict (i, j) -> (N, C, kH, kW) patch."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    kh, kw = kernel
    oh = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = {}
    for i in range(oh):
        for j in range(ow):
            r, c = i * stride[0], j * stride[1]
            out[i, j] = xp[
                :,
                :,
                r : r + dilation[0] * (kh - 1) + 1 : dilation[0],
                c : c + dilation[1] * (kw - 1) + 1 : dilation[1],
            ]
    return out, oh, ow


def naive_locally_connected(x, w, b, stride, padding, dilation):
    wins, oh, ow = _windows(x, w.shape[-2:], stride, padding, dilation)
    y = np.zeros((x.shape[0], w.shape[2], oh, ow))
    for (i, j), patch in wins.items():
        y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w[i, j]) + (
            b[:, i, j] if b is not None else 0
        )
    return y


def naive_tiled(x, w, b, stride, padding, dilation):
    wins, oh, ow = _windows(x, w.shape[-2:], stride, padding, dilation)
    th, tw = w.shape[:2]
    y = np.zeros((x.shape[0], w.shape[2], oh, ow))
    for (i, j), patch in wins.items():
        y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w[i % th, j % tw]) + (
            b[i % th, j % tw] if b is not None else 0
        )
    return y


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=3),
        dict(kernel_size=(2, 3), stride=(2, 1), padding=1, dilation=(1, 2)),
        dict(kernel_size=2, stride=2, bias=False),
    ],
)
def test_locally_connected2d_matches_naive_loop(kw):
    layer = nn.LocallyConnected2d(3, 4, (7, 8), **kw).double()
    x = random_inputs((2, 3, 7, 8), dtype=np.float64)[0]
    y = layer(x)
    b = layer.bias.detach().numpy() if layer.bias is not None else None
    ref = naive_locally_connected(
        x.detach().numpy(),
        layer.weight.detach().numpy(),
        b,
        layer.stride,
        layer.padding,
        layer.dilation,
    )
    assert_close(y, ref)
    params = (layer.weight,) + ((layer.bias,) if layer.bias is not None else ())
    assert deepnum.autograd.gradcheck(lambda a, *p: layer(a), (x,) + params)


def test_locally_connected_weights_are_unshared():
    layer = nn.LocallyConnected2d(1, 1, (4, 4), 3, bias=False)
    x = deepnum.ones(1, 1, 4, 4)
    layer(x).sum().backward()
    assert tuple(layer.weight.shape) == (2, 2, 1, 1, 3, 3)  # one 3x3 kernel per output position
    with deepnum.no_grad():
        layer.weight.zero_()
        layer.weight[0, 1] += 1.0  # only the top-right position gets a non-zero kernel
    y = layer(x).detach().numpy()[0, 0]
    np.testing.assert_array_equal(y, [[0, 9], [0, 0]])


@pytest.mark.parametrize("bias", [True, False])
def test_locally_connected1d_matches_naive_loop(bias):
    layer = nn.LocallyConnected1d(2, 3, 9, 3, stride=2, padding=1, bias=bias).double()
    x = random_inputs((2, 2, 9), dtype=np.float64)[0]
    b = layer.bias.detach().numpy()[:, None, :] if bias else None
    ref = naive_locally_connected(
        x.detach().numpy()[:, :, None, :],
        layer.weight.detach().numpy()[None, :, :, :, None, :],
        b,
        (1, 2),
        (0, 1),
        (1, 1),
    )[:, :, 0, :]
    assert_close(layer(x), ref)
    assert deepnum.autograd.gradcheck(lambda a: layer(a), (x,))


@pytest.mark.parametrize(
    "tile,kw",
    [
        ((2, 2), dict(kernel_size=3)),
        ((3, 2), dict(kernel_size=2, padding=1)),
        ((2, 3), dict(kernel_size=3, stride=2, padding=1, dilation=1)),
        (1, dict(kernel_size=3, padding=1)),
    ],
)
def test_tiled_conv2d_matches_naive_loop(tile, kw):
    layer = nn.TiledConv2d(3, 4, tile_size=tile, **kw).double()
    x = random_inputs((2, 3, 7, 9), dtype=np.float64)[0]
    ref = naive_tiled(
        x.detach().numpy(),
        layer.weight.detach().numpy(),
        layer.bias.detach().numpy(),
        layer.stride,
        layer.padding,
        layer.dilation,
    )
    assert_close(layer(x), ref)
    assert deepnum.autograd.gradcheck(lambda a, w, b: layer(a), (x, layer.weight, layer.bias))


def test_tiled_with_one_tile_is_a_convolution():
    layer = nn.TiledConv2d(2, 3, 3, tile_size=1, padding=1)
    x = random_inputs((2, 2, 5, 6))[0]
    ref = F.conv2d(x, layer.weight[0, 0], layer.bias[0, 0], padding=1)
    assert_close(layer(x), ref)


def test_layer_harness_and_errors():
    run_layer_test(
        nn.LocallyConnected2d(2, 3, (5, 5), 3),
        (4, 2, 5, 5),
        (4, 3, 3, 3),
        3 * 3 * 3 * 2 * 9 + 3 * 9,
    )
    run_layer_test(
        nn.TiledConv2d(2, 3, 3, tile_size=2), (4, 2, 6, 6), (4, 3, 4, 4), 4 * 3 * 2 * 9 + 4 * 3
    )
    with pytest.raises(
        RuntimeError,
        match=r"LocallyConnected2d\(in_channels=2, input_size=\(5, 5\)\): expected input "
        r"of shape \(N, 2, 5, 5\), got \(4, 2, 6, 6\)",
    ):
        nn.LocallyConnected2d(2, 3, (5, 5), 3)(deepnum.zeros(4, 2, 6, 6))
    with pytest.raises(
        ValueError, match="LocallyConnected2d: kernel_size=\\(7, 7\\).*does not fit"
    ):
        nn.LocallyConnected2d(2, 3, (5, 5), 7)
    with pytest.raises(
        RuntimeError, match=r"TiledConv2d\(in_channels=2\): expected input of shape \(N, 2, H, W\)"
    ):
        nn.TiledConv2d(2, 3, 3)(deepnum.zeros(1, 3, 6, 6))
