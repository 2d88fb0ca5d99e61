"""Synthetic datasets: shapes, dtypes, the label rule of each, reproducibility under manual_seed."""

import numpy as np
import pytest

import deepnum
from deepnum.datasets import load_dataset, noisy_sinusoid, parity, spirals, two_moons, xor


def test_parity_labels_are_bit_sums_mod_2():
    X, y = parity(64, n_bits=5)
    assert X.shape == (64, 5) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X.numpy().sum(1) % 2, y.numpy())


def test_xor_labels_follow_nearest_corner():
    X, y = xor(500, noise=0.05)
    corner = np.round(X.numpy()).astype(int)
    np.testing.assert_array_equal(corner[:, 0] ^ corner[:, 1], y.numpy())


def test_two_moons_balanced_and_on_arcs():
    X, y = two_moons(200, noise=0.0)
    x = X.numpy().astype(np.float64)
    assert np.bincount(y.numpy()).tolist() == [100, 100]
    r0 = np.hypot(x[y.numpy() == 0, 0], x[y.numpy() == 0, 1])
    r1 = np.hypot(x[y.numpy() == 1, 0] - 1, x[y.numpy() == 1, 1] - 0.5)
    np.testing.assert_allclose(r0, 1, atol=1e-6)
    np.testing.assert_allclose(r1, 1, atol=1e-6)


def test_spirals_classes_and_radius():
    X, y = spirals(300, classes=3)
    assert sorted(np.unique(y.numpy())) == [0, 1, 2]
    assert np.hypot(*X.numpy().T).max() <= 1.0 + 1e-6


def test_noisy_sinusoid_residual_has_noise_std():
    x, t = noisy_sinusoid(4000, noise=0.3)
    assert x.shape == (4000, 1) and t.dtype == np.float32
    residual = t.numpy() - np.sin(2 * np.pi * x.numpy())
    assert abs(residual.std() - 0.3) < 0.02


@pytest.mark.parametrize("make", [xor, parity, two_moons, spirals, noisy_sinusoid])
def test_reproducible_under_manual_seed(make):
    deepnum.manual_seed(3)
    a = make()
    deepnum.manual_seed(3)
    b = make()
    c = make()
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert not np.array_equal(b[0].numpy(), c[0].numpy())


@pytest.mark.parametrize("name", ["xor", "parity", "moons", "spirals", "sinusoid"])
def test_registry_splits_60_20_20(name):
    splits = load_dataset(name, n=50, seed=1)
    assert [len(splits[k][0]) for k in ("train", "val", "test")] == [30, 10, 10]
    again = load_dataset(name, n=50, seed=1)
    np.testing.assert_array_equal(splits["test"][0], again["test"][0])
