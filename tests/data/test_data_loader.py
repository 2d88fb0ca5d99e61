"""DataLoader semantics (PyTorch's): batch count, drop_last, shuffle reproducibility under
deepnum.manual_seed, collate of tensors/arrays/numbers/tuples/dicts, samplers, errors, and
the TensorDataset fast path."""

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import deepnum
from deepnum.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
)


def _dataset(n=10):
    return TensorDataset(deepnum.arange(n * 2).reshape(n, 2).float(), deepnum.arange(n))


def _labels(loader):
    return [y.tolist() for _, y in loader]


@pytest.mark.parametrize("n,batch_size,drop_last,expected", [
    (10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]), (9, 3, False, [3, 3, 3]),
    (9, 3, True, [3, 3, 3]), (2, 5, False, [2]), (2, 5, True, []), (0, 4, False, []),
])
def test_batch_count_and_sizes_match_torch(n, batch_size, drop_last, expected):
    loader = DataLoader(_dataset(n), batch_size=batch_size, drop_last=drop_last)
    assert [len(y) for y in _labels(loader)] == expected
    assert len(loader) == len(expected)
    t_loader = tud.DataLoader(tud.TensorDataset(torch.arange(n)), batch_size=batch_size,
                              drop_last=drop_last)
    assert len(loader) == len(t_loader)


def test_sequential_batches_hold_the_right_rows():
    x_batches, y_batches = zip(*DataLoader(_dataset(5), batch_size=2))
    assert y_batches[0].tolist() == [0, 1] and y_batches[2].tolist() == [4]
    assert x_batches[1].tolist() == [[4.0, 5.0], [6.0, 7.0]]
    assert x_batches[0].dtype == deepnum.float32 and y_batches[0].dtype == deepnum.int64


def test_shuffle_is_reproducible_under_manual_seed_and_differs_otherwise():
    def epoch(seed):
        deepnum.manual_seed(seed)
        return sum(_labels(DataLoader(_dataset(20), batch_size=6, shuffle=True)), [])

    first = epoch(0)
    assert sorted(first) == list(range(20))  # a permutation: every sample exactly once
    assert epoch(0) == first
    assert epoch(1) != first
    deepnum.manual_seed(0)
    loader = DataLoader(_dataset(20), batch_size=6, shuffle=True)
    assert sum(_labels(loader), []) == first
    assert sum(_labels(loader), []) != first  # a new order each epoch


def test_generator_argument_controls_the_order():
    def epoch(seed):
        g = deepnum.Generator().manual_seed(seed)
        return sum(_labels(DataLoader(_dataset(12), batch_size=5, shuffle=True, generator=g)), [])

    deepnum.manual_seed(5)
    a = epoch(3)
    deepnum.manual_seed(6)  # the global seed does not matter when a generator is given
    assert epoch(3) == a and epoch(4) != a


def test_collate_of_tuples_dicts_arrays_and_numbers_matches_torch():
    samples = [
        (np.full((2, 2), i, np.float32), {"label": i, "weight": 0.5 * i, "name": f"s{i}"},
         deepnum.tensor([i, -i]), np.int32(i), True)
        for i in range(3)
    ]
    ours = default_collate(samples)
    t_samples = [(a, {k: v for k, v in d.items()}, torch.tensor(t.tolist()), n, b)
                 for a, d, t, n, b in samples]
    theirs = tud.default_collate(t_samples)
    assert isinstance(ours, list) and len(ours) == len(theirs) == 5
    for a, b in [(ours[0], theirs[0]), (ours[2], theirs[2]), (ours[3], theirs[3]),
                 (ours[4], theirs[4]), (ours[1]["label"], theirs[1]["label"]),
                 (ours[1]["weight"], theirs[1]["weight"])]:
        assert a.tolist() == b.tolist() and str(a.dtype) == str(b.dtype).replace("torch.", "")
    assert ours[1]["name"] == theirs[1]["name"] == ["s0", "s1", "s2"]


def test_collate_namedtuple_and_unequal_lengths():
    Point = collections.namedtuple("Point", "x y")
    out = default_collate([Point(1.0, 2), Point(3.0, 4)])
    assert isinstance(out, Point) and out.x.tolist() == [1.0, 3.0] and out.y.dtype == deepnum.int64
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors.*found object"):
        default_collate([object()])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, got shapes \[\(2,\), \(3,\)\]"):
        default_collate([deepnum.zeros(2), deepnum.zeros(3)])


def test_any_indexable_object_is_a_dataset():
    assert [b.tolist() for b in DataLoader([1.5, 2.5, 3.5], batch_size=2)] == [[1.5, 2.5], [3.5]]


class _DictDataset(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.array([i, i + 1], np.float64), "y": i}


def test_loader_collates_dict_samples_and_custom_collate_fn():
    batches = list(DataLoader(_DictDataset(), batch_size=2))
    assert [b["y"].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0]["x"].dtype == deepnum.float64
    sizes = list(DataLoader(_DictDataset(), batch_size=2, collate_fn=len))
    assert sizes == [2, 2, 1]


def test_fast_path_gives_the_collated_result_without_item_lookups(monkeypatch):
    ds = _dataset(11)
    slow = list(DataLoader(ds, batch_size=4, collate_fn=default_collate))
    calls = []
    original = TensorDataset.__getitem__
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: calls.append(i) or original(self, i))
    fast = list(DataLoader(ds, batch_size=4))
    sub = list(DataLoader(Subset(ds, [3, 1, 4, 1, 5]), batch_size=2))
    assert calls == []
    assert len(fast) == len(slow) == 3
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert isinstance(fast[0], list) and fx.tolist() == sx.tolist() and fy.tolist() == sy.tolist()
        assert fx.dtype == sx.dtype and fy.dtype == sy.dtype
    assert [y.tolist() for _, y in sub] == [[3, 1], [4, 1], [5]]


def test_subclass_that_transforms_samples_is_not_bypassed():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    x, _ = next(iter(DataLoader(Doubled(deepnum.ones(4, 2), deepnum.arange(4)), batch_size=4)))
    assert x.tolist() == [[2.0, 2.0]] * 4


def test_unbatched_and_sampler_options():
    ds = _dataset(4)
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 4 and items[1][1].item() == 1 and items[1][0].shape == (2,)
    picked = _labels(DataLoader(ds, batch_size=2, sampler=[3, 0, 2]))
    assert picked == [[3, 0], [2]]
    batches = _labels(DataLoader(ds, batch_sampler=[[1, 2], [0], [3, 3]]))
    assert batches == [[1, 2], [0], [3, 3]]
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert len(BatchSampler(SequentialSampler(range(5)), 2, drop_last=True)) == 2
    deepnum.manual_seed(0)
    assert sorted(RandomSampler(range(6))) == list(range(6))
    draws = list(RandomSampler(range(3), replacement=True, num_samples=10))
    assert len(draws) == 10 and set(draws) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]


def test_iterable_dataset_batches():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter([(float(i), i) for i in range(7)])

    batches = list(DataLoader(Stream(), batch_size=3))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(list(DataLoader(Stream(), batch_size=3, drop_last=True))) == 2
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError):
        len(DataLoader(Stream(), batch_size=2))


def test_argument_errors():
    ds = _dataset(4)
    with pytest.raises(ValueError, match="DataLoader: batch_size should be a positive integer, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)


def test_worker_options_are_accepted_and_loading_stays_in_process():
    loader = DataLoader(_dataset(6), batch_size=4, num_workers=4, pin_memory=True,
                        persistent_workers=True, prefetch_factor=2)
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5]]


def test_minibatch_training_with_the_loader_lowers_the_loss():
    # softmax regression on three separable blobs: shuffled mini-batches, cross-entropy
    # plus the L2 penalty of 000 eq. 11, plain gradient steps
    from deepnum import nn
    from deepnum.nn import functional as F
    from deepnum.nn.penalties import l2_penalty

    rng = np.random.default_rng(0)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = rng.integers(0, 3, 300)
    x = (centers[y] + rng.normal(0, 0.5, (300, 2))).astype(np.float32)
    ds = TensorDataset(deepnum.tensor(x), deepnum.tensor(y))
    model = nn.Linear(2, 3)

    def full_loss():
        with deepnum.no_grad():
            return F.cross_entropy(model(deepnum.tensor(x)), deepnum.tensor(y)).item()

    before = full_loss()
    for _ in range(5):
        for xb, yb in DataLoader(ds, batch_size=32, shuffle=True):
            loss = F.cross_entropy(model(xb), yb) + l2_penalty(model, 1e-2, len(ds))
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data.array[...] -= 0.5 * p.grad.numpy()
    assert full_loss() < 0.25 * before


def test_weighted_random_sampler_and_worker_info():
    deepnum.manual_seed(0)
    draws = list(WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000))
    counts = np.bincount(draws, minlength=3)
    assert counts[0] == 0 and 2.6 < counts[2] / counts[1] < 3.4
    once = list(WeightedRandomSampler([1.0, 1.0, 5.0, 0.0], 3, replacement=False))
    assert sorted(once) == [0, 1, 2]
    loader = DataLoader(_dataset(6), batch_size=4, sampler=WeightedRandomSampler([1.0] * 6, 8))
    assert [len(y) for _, y in loader] == [4, 4]
    with pytest.raises(ValueError, match="cannot draw 4 samples without replacement from 3"):
        WeightedRandomSampler([1.0, 1.0, 1.0, 0.0], 4, replacement=False)
    assert get_worker_info() is None
