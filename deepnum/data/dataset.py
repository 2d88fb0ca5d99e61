"""Datasets: indexable collections of samples, as ``torch.utils.data``.

A ``Dataset`` maps an index to a sample; an ``IterableDataset`` yields samples.
``TensorDataset`` wraps in-memory tensors (or NumPy arrays) whose first dimension indexes
the samples; it can also hand out a whole mini-batch in one indexing operation, which the
``DataLoader`` uses instead of collating sample by sample.
"""

from __future__ import annotations

import bisect

import numpy as np

from deepnum.tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset"]


class Dataset:
    """An indexable collection of samples: subclasses define ``__getitem__`` and ``__len__``.

    ``a + b`` concatenates two datasets (a ``ConcatDataset``).
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def _batch(self, indices: np.ndarray):
        """The collated batch for ``indices`` in one step, or None if this dataset can't."""
        return None


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (and need no ``__len__``)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it "
                        "instead of indexing it")


def _index(t, idx):
    """Rows ``idx`` of a tensor or array (as data: no graph is recorded)."""
    if isinstance(t, Tensor):
        return Tensor._make(np.asarray(t.array[idx]), False, None, 0)
    return t[idx]


class TensorDataset(Dataset):
    """Samples ``(t1[i], t2[i], ...)`` of tensors (or NumPy arrays) sharing their first dim.

    Args:
        *tensors: tensors or arrays with the same size of the first dimension.

    Examples:
        >>> import deepnum
        >>> ds = TensorDataset(deepnum.arange(6).reshape(3, 2), deepnum.tensor([0, 1, 0]))
        >>> len(ds), ds[1]
        (3, (tensor([2, 3]), tensor(1)))
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        sizes = [len(t) if np.ndim(t.array if isinstance(t, Tensor) else t) else None
                 for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(np.shape(t.array if isinstance(t, Tensor) else t)))
                               for t in tensors)
            raise ValueError(f"TensorDataset: size mismatch between tensors, every tensor "
                             f"needs the same first dimension; got shapes {shapes}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(_index(t, index) for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def _batch(self, indices: np.ndarray):
        # one fancy-indexing operation per tensor instead of len(indices) item lookups
        # followed by a stack: this is what makes an MNIST epoch fast
        from deepnum.ops.creation import as_tensor

        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None  # a subclass that transforms its samples must be asked one by one

        return [as_tensor(_index(t, indices)) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, (list, np.ndarray)):
            return [self.dataset[self.indices[i]] for i in idx]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)

    def _batch(self, indices: np.ndarray):
        if not isinstance(self.dataset, Dataset):
            return None
        # converting a 60,000-long index list costs more than the batch itself: do it once
        cached = self.__dict__.get("_index_array")
        if cached is None or cached[0] is not self.indices or len(cached[1]) != len(self.indices):
            cached = (self.indices, np.asarray(self.indices, dtype=np.int64))
            self._index_array = cached
        return self.dataset._batch(cached[1][indices])


class ConcatDataset(Dataset):
    """The samples of several datasets, one after the other."""

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
            idx += len(self)
        if idx >= len(self):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]
