"""Datasets: TensorDataset, Subset, ConcatDataset, IterableDataset, and the torch.utils.data path."""

import numpy as np
import pytest

import deepnum
from deepnum.data import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset


def test_tensor_dataset_items_and_length():
    x = deepnum.arange(12).reshape(4, 3).float()
    y = deepnum.tensor([0, 1, 0, 1])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[2]
    assert xi.tolist() == [6.0, 7.0, 8.0] and yi.item() == 0 and yi.shape == ()
    assert isinstance(xi, deepnum.Tensor) and not xi.requires_grad


def test_tensor_dataset_accepts_numpy_arrays():
    ds = TensorDataset(np.arange(6).reshape(3, 2), np.array([1, 2, 3]))
    a, b = ds[1]
    assert a.tolist() == [2, 3] and b == 2


def test_tensor_dataset_size_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"TensorDataset: size mismatch between tensors.*\(4, 3\), \(5,\)"):
        TensorDataset(deepnum.zeros(4, 3), deepnum.zeros(5))
    with pytest.raises(ValueError, match="TensorDataset: expected at least one tensor"):
        TensorDataset()


def test_subset_and_concat():
    base = TensorDataset(deepnum.arange(10))
    sub = Subset(base, [7, 2, 5])
    assert len(sub) == 3 and sub[0][0].item() == 7 and [s[0].item() for s in sub[[1, 2]]] == [2, 5]
    both = ConcatDataset([sub, TensorDataset(deepnum.arange(100, 104))])
    assert len(both) == 7 and both.cumulative_sizes == [3, 7]
    assert [both[i][0].item() for i in range(7)] == [7, 2, 5, 100, 101, 102, 103]
    assert both[-1][0].item() == 103
    with pytest.raises(IndexError, match="ConcatDataset: index 7 out of range for length 7"):
        both[7]
    assert len(sub + sub) == 6


def test_iterable_dataset_is_not_indexable_and_concat_refuses_it():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(3))

    assert list(Stream()) == [0, 1, 2]
    with pytest.raises(TypeError, match="Stream is an IterableDataset"):
        Stream()[0]
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Stream()])


def test_dataset_base_requires_getitem():
    with pytest.raises(NotImplementedError, match="Dataset must implement __getitem__"):
        Dataset()[0]


def test_torch_style_import_path():
    import deepnum.utils.data as ud
    from deepnum.utils.data import DataLoader

    assert DataLoader is deepnum.data.DataLoader and ud.TensorDataset is TensorDataset
    assert "DataLoader" in ud.__all__
