"""random_split (PyTorch's rules) and train_dev_test_split (000 §6.1 proportions)."""

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import deepnum
from deepnum.data import Subset, TensorDataset, default_split_sizes, random_split, train_dev_test_split


@pytest.mark.parametrize("n,lengths", [(10, [0.7, 0.3]), (11, [0.6, 0.2, 0.2]), (7, [0.5, 0.5]),
                                       (13, [0.34, 0.33, 0.33]), (10, [3, 7])])
def test_random_split_lengths_follow_torch(n, lengths):
    ours = random_split(TensorDataset(deepnum.arange(n)), lengths)
    theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    indices = sum((list(s.indices) for s in ours), [])
    assert sorted(indices) == list(range(n))  # disjoint and complete
    assert all(isinstance(s, Subset) for s in ours)


def test_random_split_reproducible_and_errors():
    ds = TensorDataset(deepnum.arange(20))
    a = [s.indices for s in random_split(ds, [5, 15], generator=deepnum.Generator().manual_seed(1))]
    b = [s.indices for s in random_split(ds, [5, 15], generator=deepnum.Generator().manual_seed(1))]
    c = [s.indices for s in random_split(ds, [5, 15], generator=deepnum.Generator().manual_seed(2))]
    assert a == b and a != c
    with pytest.raises(ValueError, match=r"random_split: sum of input lengths 19 \(\[5, 14\]\) does not equal"):
        random_split(ds, [5, 14])
    with pytest.warns(UserWarning, match="length of split at index 1 is 0"):
        random_split(TensorDataset(deepnum.arange(2)), [0.99, 0.01])


def test_default_sizes_follow_000_section_6_1():
    # conventional (~10^5): 60/20/20, or 70/30 without a test set; big data (> 10^6): 98/1/1
    assert default_split_sizes(100) == (0.6, 0.2, 0.2)
    assert default_split_sizes(10**5) == (0.6, 0.2, 0.2)
    assert default_split_sizes(10**6) == (0.6, 0.2, 0.2)
    assert default_split_sizes(10**6 + 1) == (0.98, 0.01, 0.01)
    assert default_split_sizes(500, test=False) == (0.7, 0.3)


def test_train_dev_test_split_default_sizes():
    x = np.arange(1000)
    train, dev, test = train_dev_test_split(x)
    assert (len(train), len(dev), len(test)) == (600, 200, 200)
    assert sorted(np.concatenate([train, dev, test]).tolist()) == x.tolist()
    train, dev = train_dev_test_split(x, test=False)
    assert (len(train), len(dev)) == (700, 300)
    big = np.arange(10**6 + 100, dtype=np.int32)
    sizes = [len(p) for p in train_dev_test_split(big, shuffle=False)]
    assert sizes == [980098, 10001, 10001]


def test_train_dev_test_split_keeps_rows_aligned_and_types():
    deepnum.manual_seed(0)
    x = deepnum.arange(20).reshape(10, 2).float()
    y = np.arange(10) * 10
    labels = [f"s{i}" for i in range(10)]
    x_tr, x_dev, x_te, y_tr, y_dev, y_te, l_tr, l_dev, l_te = train_dev_test_split(
        x, y, labels, sizes=(0.5, 0.3, 0.2))
    assert isinstance(x_tr, deepnum.Tensor) and isinstance(y_tr, np.ndarray) and isinstance(l_tr, list)
    assert (len(x_tr), len(x_dev), len(x_te)) == (5, 3, 2)
    for xs, ys, ls in [(x_tr, y_tr, l_tr), (x_dev, y_dev, l_dev), (x_te, y_te, l_te)]:
        rows = (xs.numpy()[:, 0] // 2).astype(int)
        assert (ys == rows * 10).all() and ls == [f"s{r}" for r in rows]


def test_train_dev_test_split_options_and_errors():
    x = np.arange(10)
    train, dev, test = train_dev_test_split(x, sizes=(6, 3, 1), shuffle=False)
    assert train.tolist() == list(range(6)) and dev.tolist() == [6, 7, 8] and test.tolist() == [9]
    deepnum.manual_seed(3)
    a = train_dev_test_split(x)
    deepnum.manual_seed(3)
    b = train_dev_test_split(x)
    assert all((p == q).all() for p, q in zip(a, b))
    parts = train_dev_test_split(TensorDataset(deepnum.arange(10)), sizes=(0.8, 0.2))
    assert [len(p) for p in parts] == [8, 2] and isinstance(parts[0], Subset)
    with pytest.raises(ValueError, match=r"arrays must have the same length, got \[10, 9\]"):
        train_dev_test_split(x, x[:9])
    with pytest.raises(ValueError, match="sizes must have 2 .* or 3 .* entries"):
        train_dev_test_split(x, sizes=(1.0,))
