"""Datasets by name: MNIST and the synthetic sets, each split into train / dev / test.

``DATASETS`` maps a name to a ``DatasetInfo`` (task, input shape, number of classes, one-line
description and a loader); ``load_dataset(name)`` returns
``{"train": (x, y), "val": (x, y), "test": (x, y)}`` as NumPy arrays, ready for
``deepnum.data.TensorDataset``. This is what ``deepnum train --dataset NAME`` and
``deepnum datasets`` use.

    >>> from deepnum.datasets import load_dataset
    >>> splits = load_dataset("moons", n=100)
    >>> [len(splits[k][0]) for k in ("train", "val", "test")]
    [60, 20, 20]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from deepnum.datasets import synthetic, transforms  # noqa: F401
from deepnum.datasets.idx import DatasetFileError, read_idx, sha256sum, verify_sha256, write_idx  # noqa: F401
from deepnum.datasets.mnist import download_mnist, load_mnist
from deepnum.datasets.synthetic import noisy_sinusoid, parity, spirals, two_moons, xor
from deepnum.ops.creation import Generator

__all__ = [
    "DATASETS", "DatasetInfo", "DatasetFileError", "load_dataset", "split_arrays",
    "load_mnist", "download_mnist", "read_idx", "write_idx",
    "xor", "parity", "two_moons", "spirals", "noisy_sinusoid",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What ``deepnum train`` needs to know about a dataset before loading it."""

    task: str  # "classification" or "regression"
    input_shape: tuple
    num_classes: int  # 1 for regression
    description: str
    loader: Callable[..., dict]


def split_arrays(x: np.ndarray, y: np.ndarray, fractions=(0.6, 0.2, 0.2)) -> dict:
    """Cut ``(x, y)`` into consecutive train / dev / test parts (60/20/20 by default, 000 §6.1).

    The synthetic sets are already in random order, so consecutive cuts are random splits.
    """
    n = len(x)
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    cuts = (slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, n))
    return {k: (x[s], y[s]) for k, s in zip(("train", "val", "test"), cuts)}


def _synthetic(make, n_default: int, **fixed):
    def load(n: int | None = None, seed: int = 0, root=None, download: bool = False) -> dict:
        x, y = make(n or n_default, generator=Generator().manual_seed(seed), **fixed)
        return split_arrays(x.numpy(), y.numpy())

    return load


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("classification", (1, 28, 28), 10, "MNIST digits, 28x28 grey, 50k/10k/10k",
                         lambda root=None, download=False, **_: load_mnist(root, download, flatten=False)),
    "xor": DatasetInfo("classification", (2,), 2, "noisy XOR corners in the plane", _synthetic(xor, 400)),
    "parity": DatasetInfo("classification", (4,), 2, "parity of 4 random bits", _synthetic(parity, 400, n_bits=4)),
    "moons": DatasetInfo("classification", (2,), 2, "two interleaving half circles", _synthetic(two_moons, 1000)),
    "spirals": DatasetInfo("classification", (2,), 3, "three interleaved spiral arms", _synthetic(spirals, 1500, classes=3)),
    "sinusoid": DatasetInfo("regression", (1,), 1, "sin(2 pi x) + N(0, 0.3^2) (002)", _synthetic(noisy_sinusoid, 200)),
}


def load_dataset(name: str, **kwargs) -> dict:
    """Load dataset ``name`` as ``{"train": (x, y), "val": (x, y), "test": (x, y)}`` arrays.

    Raises:
        KeyError: unknown name (the message lists the known ones).
        DatasetFileError: a dataset file is missing or corrupt.
    """
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
    return DATASETS[name].loader(**kwargs)
