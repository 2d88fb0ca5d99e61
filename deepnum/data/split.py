"""Splitting data: ``random_split`` (PyTorch's) and ``train_dev_test_split`` (000 §6.1).

000 §6.1: the training set fits the model, the development (hold-out cross-validation)
set chooses between models, the test set gives an unbiased estimate of the chosen one.
How much goes where depends on the amount of data.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from deepnum.data.dataset import Dataset, Subset
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["random_split", "train_dev_test_split", "default_split_sizes"]

BIG_DATA = 10**6  # 000 §6.1: "big data usecases with > 10^6 datapoints"


def _lengths(n: int, lengths, op: str) -> list[int]:
    """Integer lengths from integers (summing to n) or fractions (summing to 1).

    Fractions are floored, then the remainder is handed out one by one from the first
    split on (PyTorch's rule).
    """
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"{op}: fraction at index {i} is not between 0 and 1: {frac}")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"{op}: length of split at index {i} is 0; this split will be "
                              "empty", stacklevel=3)
        return counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"{op}: lengths must be non-negative integers summing to the data "
                         f"size {n} or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"{op}: sum of input lengths {sum(lengths)} ({lengths}) does not "
                         f"equal the length of the input dataset ({n})")
    return [int(x) for x in lengths]


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: integer lengths summing to ``len(dataset)``, or fractions summing to 1.
        generator: the ``deepnum.Generator`` for the permutation. Default: the global one.

    Examples:
        >>> import deepnum
        >>> from deepnum.data import TensorDataset
        >>> train, dev = random_split(TensorDataset(deepnum.arange(10)), [0.7, 0.3])
        >>> len(train), len(dev)
        (7, 3)
    """
    counts = _lengths(len(dataset), lengths, "random_split")
    order = _rng(generator).permutation(sum(counts)).tolist()
    subsets, offset = [], 0
    for c in counts:
        subsets.append(Subset(dataset, order[offset:offset + c]))
        offset += c
    return subsets


def default_split_sizes(n: int, test: bool = True) -> tuple:
    """The train/dev/test fractions 000 §6.1 gives for ``n`` data points.

    Up to 10^6 points (the "conventional" regime, about 10^5): 60/20/20, or 70/30 when no
    test set is wanted ("omitting the test set"). Beyond 10^6 points ("big data"):
    98/1/1, since 1 % is still plenty for the statistics; 000 gives no two-way split for
    that regime, so ``test=False`` keeps 70/30 there too — pass ``sizes`` to choose.
    """
    if not test:
        return (0.7, 0.3)
    return (0.98, 0.01, 0.01) if n > BIG_DATA else (0.6, 0.2, 0.2)


def _take(a, idx: np.ndarray):
    if isinstance(a, Tensor):
        return Tensor._make(a.array[idx], False, None, 0)
    if isinstance(a, np.ndarray):
        return a[idx]
    if isinstance(a, Dataset):
        return Subset(a, idx.tolist())
    return [a[i] for i in idx]


def train_dev_test_split(*arrays, sizes=None, shuffle: bool = True, generator=None,
                         test: bool = True) -> list:
    """Split arrays (sharing their first dimension) into train, dev [and test] parts.

    Without ``sizes`` the fractions follow 000 §6.1 (see ``default_split_sizes``):
    60/20/20 up to 10^6 samples, 98/1/1 beyond, 70/30 (train/dev) with ``test=False``.

    Args:
        *arrays: tensors, NumPy arrays, lists or datasets of equal length.
        sizes: 2 or 3 fractions summing to 1, or integer counts summing to the length.
        shuffle: draw a random permutation first (deepnum's generator); False keeps the
            order (e.g. time series, where the dev/test data must come after training).
        generator: the ``deepnum.Generator`` for the permutation. Default: the global one.
        test: with ``sizes=None``, whether to make a test set. Default: True.

    Returns:
        For each array in turn its parts, as scikit-learn's ``train_test_split``:
        ``x_train, x_dev, x_test, y_train, y_dev, y_test`` (tensors stay tensors, arrays
        arrays, datasets become ``Subset``s).

    Examples:
        >>> import numpy as np
        >>> x_train, x_dev, x_test = train_dev_test_split(np.arange(10), shuffle=False)
        >>> x_train, x_dev, x_test
        (array([0, 1, 2, 3, 4, 5]), array([6, 7]), array([8, 9]))

    References:
        000 §6.1 (train, development and test set; 70/30, 60/20/20, 98/1/1 by data size).
    """
    if not arrays:
        raise ValueError("train_dev_test_split: at least one array is required")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"train_dev_test_split: arrays must have the same length, got "
                         f"{lengths}")
    n = lengths[0]
    if sizes is None:
        sizes = default_split_sizes(n, test)
    if len(sizes) not in (2, 3):
        raise ValueError(f"train_dev_test_split: sizes must have 2 (train, dev) or 3 (train, "
                         f"dev, test) entries, got {tuple(sizes)}")
    counts = _lengths(n, sizes, "train_dev_test_split")
    order = _rng(generator).permutation(n) if shuffle else np.arange(n)
    bounds = np.cumsum([0] + counts)
    parts = [order[bounds[i]:bounds[i + 1]] for i in range(len(counts))]
    return [_take(a, idx) for a in arrays for idx in parts]
