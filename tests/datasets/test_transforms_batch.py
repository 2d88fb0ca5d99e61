"""Augmentation transforms: shapes, dtypes, exact geometry, determinism under manual_seed."""

import numpy as np
import pytest

import deepnum
from deepnum.datasets.transforms import (
    Compose, GaussianNoise, Normalize, RandomCrop, RandomHorizontalFlip, RandomRotation,
    RandomShift, RandomVerticalFlip, Reshape,
)

ALL = [RandomShift(2), RandomCrop(28, padding=3), RandomHorizontalFlip(), RandomVerticalFlip(),
       RandomRotation(15), GaussianNoise(0.1)]


@pytest.mark.parametrize("t", ALL, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 3, 28, 28)])
def test_shape_dtype_and_type_kept(t, shape):
    x = deepnum.rand(*shape)
    out = t(x)
    assert isinstance(out, deepnum.Tensor) and out.shape == shape and out.dtype == np.float32
    arr = t(x.numpy())
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32


@pytest.mark.parametrize("t", ALL, ids=lambda t: type(t).__name__)
def test_deterministic_under_manual_seed(t):
    x = deepnum.rand(16, 1, 28, 28)
    deepnum.manual_seed(7)
    a = t(x).numpy()
    deepnum.manual_seed(7)
    b = t(x).numpy()
    np.testing.assert_array_equal(a, b)


def test_examples_get_different_draws():
    x = np.ones((64, 1, 9, 9), np.float32)
    out = RandomShift(3)(x)
    assert len({out[i].sum() for i in range(64)}) > 3  # border sizes differ across the batch


def test_shift_moves_content_by_integer_offsets():
    x = np.zeros((200, 7, 7), np.float32)
    x[:, 3, 3] = 1.0
    out = RandomShift(2)(x)
    rows, cols = np.nonzero(out.sum(0) > 0)
    assert out.sum() == 200 and set(rows) == set(range(1, 6)) and set(cols) == set(range(1, 6))


def test_crop_with_padding_size():
    out = RandomCrop((5, 6), padding=1)(np.ones((3, 2, 8, 8), np.float32))
    assert out.shape == (3, 2, 5, 6)
    with pytest.raises(ValueError, match=r"crop \(20, 20\) is larger than the padded image \(10, 10\)"):
        RandomCrop(20, padding=1)(np.ones((3, 8, 8), np.float32))


def test_flip_with_p_one_and_zero():
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(RandomVerticalFlip(1.0)(x), x[..., ::-1, :])
    np.testing.assert_array_equal(RandomHorizontalFlip(0.0)(x), x)


def test_rotation_exact_quarter_turn_and_identity():
    x = deepnum.rand(4, 2, 7, 7).numpy()
    np.testing.assert_allclose(RandomRotation((90, 90))(x), np.rot90(x, 1, axes=(-2, -1)), atol=1e-5)
    np.testing.assert_allclose(RandomRotation((0, 0))(x), x, atol=1e-6)


def test_noise_statistics_and_normalize():
    out = GaussianNoise(0.5, mean=1.0)(np.zeros((100, 32, 32), np.float32))
    assert abs(out.mean() - 1.0) < 0.01 and abs(out.std() - 0.5) < 0.01
    z = Normalize([1.0, 2.0], [2.0, 4.0])(np.stack([np.full((2, 2), 3.0), np.full((2, 2), 6.0)])[None].astype(np.float32))
    np.testing.assert_allclose(z, 1.0)


def test_compose_on_flat_mnist_rows():
    augment = Compose([Reshape(1, 28, 28), RandomShift(2), RandomRotation(10), Reshape(784)])
    assert augment(deepnum.rand(10, 784)).shape == (10, 784)
    assert "RandomShift(max_shift=2)" in repr(augment)


def test_rejects_non_image_batch():
    with pytest.raises(ValueError, match=r"RandomRotation: expected a batch of images .* got shape \(10, 784\)"):
        RandomRotation(5)(np.zeros((10, 784), np.float32))
