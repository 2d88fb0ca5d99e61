"""``DataLoader``: mini-batches of a dataset, shuffled each epoch (000 §7.3, 003 §2.2).

Semantics are ``torch.utils.data.DataLoader``'s: ``len(loader)`` batches per epoch, the last
one shorter unless ``drop_last``; a fresh order per epoch with ``shuffle=True``, drawn from
deepnum's generator so ``deepnum.manual_seed`` makes it reproducible; samples merged by
``collate_fn`` (``default_collate`` stacks tensors, arrays and numbers and recurses into
tuples, lists and dicts).

Loading runs in the calling process: ``num_workers`` and the other worker options are
accepted for compatibility and ignored. For in-memory data (a ``TensorDataset``, or a
``Subset`` of one) with the default ``collate_fn``, each batch is taken by one indexing
operation per tensor instead of collating sample by sample, which is faster than worker
processes would be.
"""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from deepnum.data.dataset import Dataset, IterableDataset
from deepnum.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from deepnum.tensor import Tensor

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


def get_worker_info():
    """None: data is always loaded in the main process (PyTorch returns None there too)."""
    return None


def _tensor(array: np.ndarray) -> Tensor:
    return Tensor._make(np.ascontiguousarray(array), False, None, 0)


def _stack(arrays: list) -> Tensor:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, got "
                           f"shapes {sorted(shapes)}; pass a collate_fn that pads them")
    return _tensor(np.stack(arrays))


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors and NumPy arrays are stacked along a new first dimension, Python floats become
    a float64 tensor, ints an int64 tensor, bools a bool tensor, NumPy scalars a tensor of
    their dtype; strings stay a list; dicts, named tuples, tuples and lists are collated
    field by field (tuples and lists give lists, as PyTorch).

    Examples:
        >>> default_collate([(1.0, {"y": 0}), (2.0, {"y": 1})])
        [tensor([1., 2.], dtype=deepnum.float64), {'y': tensor([0, 1])}]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([b.array for b in batch])
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise TypeError(f"default_collate: NumPy arrays of dtype {elem.dtype} can't be "
                            "collated into a tensor")
        return _stack(batch)
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return _tensor(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return _tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return _tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return _tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               f"equal size, got lengths {[len(b) for b in batch]}")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def default_convert(data):
    """NumPy arrays (also inside dicts, tuples, lists) to tensors; used without batching."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUS":
        return _tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


class DataLoader:
    """Iterate over ``dataset`` in mini-batches (``torch.utils.data.DataLoader``).

    Args:
        dataset: a ``Dataset`` (indexable) or ``IterableDataset``.
        batch_size: samples per batch; None yields single samples unbatched. Default: 1.
        shuffle: a new random order every epoch. Default: False.
        sampler: yields the indices to load (exclusive with ``shuffle``).
        batch_sampler: yields lists of indices, one list per batch (exclusive with
            ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: accepted and ignored (loading is in-process). Default: 0.
        collate_fn: merges a list of samples into a batch. Default: ``default_collate``.
        drop_last: drop the last batch if it is shorter than ``batch_size``. Default: False.
        generator: the ``deepnum.Generator`` for the shuffle order. Default: the global one.

    Examples:
        >>> import deepnum
        >>> from deepnum.data import TensorDataset
        >>> ds = TensorDataset(deepnum.arange(10).float(), deepnum.arange(10))
        >>> loader = DataLoader(ds, batch_size=4)
        >>> len(loader), [y.tolist() for _, y in loader]
        (3, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative, got "
                             f"{num_workers}")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 "sampler and batch_sampler options")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive "
                                 "with batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        elif batch_size is not None and (isinstance(batch_size, bool)
                                         or not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer, got "
                             f"{batch_size!r}")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if batch_size is not None or batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError for streams without a length, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return self._iter_batches()

    def _iter_batches(self):
        fast = self._default_collate and isinstance(self.dataset, Dataset)
        if isinstance(self.batch_sampler, BatchSampler):
            batches = self.batch_sampler._index_arrays()
        else:
            batches = (np.asarray(b, dtype=np.int64) for b in self.batch_sampler)
        for indices in batches:
            batch = self.dataset._batch(indices) if fast else None
            if batch is None:
                batch = self.collate_fn([self.dataset[int(i)] for i in indices])
            yield batch

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

