"""MinMaxScaler and StandardScaler (003 §2.2): fit on training data only, round trips."""

import numpy as np
import pytest

import deepnum
from deepnum.data import MinMaxScaler, StandardScaler, train_dev_test_split


def _data(seed=0, n=50):
    rng = np.random.default_rng(seed)
    return rng.normal([0.0, 10.0, -5.0], [1.0, 3.0, 0.1], size=(n, 3)).astype(np.float32)


def test_min_max_scales_training_data_to_unit_interval():
    x = _data()
    scaled = MinMaxScaler().fit_transform(x)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled.min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(scaled.max(axis=0), 1, atol=1e-6)
    # (x - min) / (max - min), 003 §2.2
    expected = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    np.testing.assert_allclose(scaled, expected, rtol=1e-5, atol=1e-6)


def test_scalers_are_fitted_on_training_data_only():
    train, dev = train_dev_test_split(_data(n=100), sizes=(0.7, 0.3))
    mm = MinMaxScaler().fit(train)
    dev_scaled = mm.transform(dev)
    expected = (dev - train.min(axis=0)) / (train.max(axis=0) - train.min(axis=0))
    np.testing.assert_allclose(dev_scaled, expected, rtol=1e-5, atol=1e-6)
    assert mm.data_min_.ravel().tolist() == train.min(axis=0).tolist()
    st = StandardScaler().fit(train)
    np.testing.assert_allclose(st.transform(dev), (dev - train.mean(0)) / train.std(0),
                               rtol=1e-4, atol=1e-5)
    # dev statistics are not the train ones: its scaled values are not exactly standardised
    assert abs(st.transform(dev).mean(0)).max() > 1e-3


@pytest.mark.parametrize("scaler", [MinMaxScaler(), MinMaxScaler((-1, 1)), StandardScaler(),
                                    StandardScaler(with_mean=False), StandardScaler(with_std=False)])
def test_round_trip_on_arrays_and_tensors(scaler):
    x = _data(1).astype(np.float64)
    scaler.fit(x)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(x)), x, rtol=1e-12)
    t = deepnum.tensor(x)
    back = scaler.inverse_transform(scaler.transform(t))
    assert isinstance(back, deepnum.Tensor)
    np.testing.assert_allclose(back.numpy(), x, rtol=1e-12)


def test_standard_scaler_statistics_and_feature_range():
    x = _data(2).astype(np.float64)
    z = StandardScaler().fit_transform(x)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1, rtol=1e-12)
    r = MinMaxScaler(feature_range=(-1, 1)).fit_transform(x)
    assert r.min() == pytest.approx(-1) and r.max() == pytest.approx(1)


def test_constant_features_and_reduction_dims():
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_allclose(MinMaxScaler().fit_transform(x), [[0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(StandardScaler().fit_transform(x), [[-1.0, 0.0], [1.0, 0.0]])
    images = np.random.default_rng(3).uniform(0, 255, (8, 2, 4, 4))
    per_channel = MinMaxScaler(dim=(0, 2, 3)).fit(images)
    assert per_channel.scale_.shape == (1, 2, 1, 1)
    out = per_channel.transform(images)
    np.testing.assert_allclose(out.min(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.max(axis=(0, 2, 3)), 1, atol=1e-12)


def test_gradient_flows_through_a_tensor_transform():
    scaler = StandardScaler().fit(np.array([[0.0], [2.0]]))
    x = deepnum.tensor([[1.0], [3.0]], dtype=deepnum.float64, requires_grad=True)
    scaler.transform(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0], [1.0]])  # 1 / std, std = 1


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="MinMaxScaler.transform: this scaler is not fitted yet"):
        MinMaxScaler().transform(np.zeros((2, 3)))
    scaler = StandardScaler().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"StandardScaler.transform: input of shape \(2, 5\) does "
                                         r"not match the \(1, 3\) features"):
        scaler.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="feature_range must be"):
        MinMaxScaler(feature_range=(1, 0))
