"""``deepnum.data``: datasets, samplers and the ``DataLoader`` (PyTorch's ``torch.utils.data``),
plus train/dev/test splitting (000 §6.1) and feature scaling (003 §2.2).

Also reachable as ``deepnum.utils.data``, so ``from deepnum.utils.data import DataLoader``
works as in PyTorch.
"""

from deepnum.data.dataloader import DataLoader, default_collate, default_convert, get_worker_info
from deepnum.data.dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset
from deepnum.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from deepnum.data.scaling import MinMaxScaler, StandardScaler
from deepnum.data.split import default_split_sizes, random_split, train_dev_test_split

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
    "DataLoader", "default_collate", "default_convert", "get_worker_info", "random_split",
    "train_dev_test_split", "default_split_sizes", "MinMaxScaler", "StandardScaler",
]
